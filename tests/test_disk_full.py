"""A full disk under the archive spool: a real filesystem (a 2 MiB tmpfs) runs out of space.

Saves keep working (the notebooks are on another disk), the save that finds no space is
reported as saved but not archived with what to do, the saves spooled before it survive
intact, nothing half-written is left to take space or to be uploaded, and archiving goes on
once space is free.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import FAST_RETRY, PREFIX, notebook, seed_config, sources

pytestmark = pytest.mark.slow

SIZE = 2 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem of 2 MiB (tmpfs), mounted for the test."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small filesystem")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"a small filesystem cannot be mounted here (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; return the file that holds them."""
    filler = disk / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def test_a_full_spool_disk_loses_no_save_and_says_what_to_do(
    jupyter_factory: Any, private_s3: SeaweedFS, small_disk: Path
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    spool_dir = small_disk / "spool"
    config = (
        seed_config(private_s3, bucket)
        + FAST_RETRY
        + f"\nc.BookstoreContentsArchiver.spool_dir = {str(spool_dir)!r}\n"
    )
    jupyter = jupyter_factory(config)
    jupyter.save("mine.ipynb", notebook("first"))
    jupyter.wait_archived()

    private_s3.pause()  # what is spooled now stays there until S3 answers again
    try:
        for i in range(2):
            jupyter.save("mine.ipynb", notebook(f"spooled {i}"))
        filler = fill(small_disk)
        big = notebook("x" * 50_000)
        saved = jupyter.save("mine.ipynb", big)  # answered: the notebook itself is on another disk
        assert saved["name"] == "mine.ipynb"
        assert (jupyter.root_dir / "mine.ipynb").read_text().count("x" * 50_000) == 1

        archive = jupyter.status()["archive"]
        assert archive["not_archived"] == 1
        assert archive["pending"] == 2
        assert "No space left on device" in archive["last_error"]
        assert "saved but not archived: free space there and save again" in archive["last_error"]
        assert "No space left on device" in jupyter.log()
        # Nothing half-written: no partial entry to take space, or to be uploaded later.
        assert not [p.name for p in spool_dir.rglob("*") if p.name.endswith(".tmp")]

        filler.unlink()
        jupyter.save("mine.ipynb", notebook("after space was freed"))
    finally:
        private_s3.resume()
    status = jupyter.wait_archived(timeout=90)
    archived = sources(private_s3.store(bucket), f"{PREFIX}/mine.ipynb")
    assert archived == ["first", "spooled 0", "spooled 1", "after space was freed"]
    assert status["archive"]["not_archived"] == 1
