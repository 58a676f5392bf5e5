"""``bookstore://`` paths in papermill: a pinned published version, read through the same
settings as the CLI, against a real SeaweedFS and a real papermill run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bookstore.errors import InvalidPathError, VersionNotFoundError
from bookstore.papermill_io import BookstoreIO, parse
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.notebooks import cell_text, ensure_python3_kernel, executed, parameterized_notebook

CONFIG = """\
c = get_config()
c.Bookstore.published_prefix = "/published/{username}/notebooks"
c.Bookstore.username = "kylek"
"""
NOTEBOOK_KEY = "kylek/notebooks/analysis/pinned.ipynb"


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    ensure_python3_kernel()
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def config(tmp_path: Path, s3_server: SeaweedFS, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    file = tmp_path / "jupyter_server_config.py"
    file.write_text(CONFIG + s3_server.bookstore_config(bucket))
    monkeypatch.setenv("BOOKSTORE_CONFIG", str(file))
    from bookstore import papermill_io

    papermill_io._library.cache_clear()
    return file


@pytest.mark.slow
def test_papermill_runs_the_pinned_published_version(tmp_path: Path, config: Path, store: S3Store) -> None:
    first = store.put(f"published/{NOTEBOOK_KEY}", parameterized_notebook("first"))
    store.put(f"published/{NOTEBOOK_KEY}", parameterized_notebook("second"))
    output = tmp_path / "out.ipynb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "papermill"),
            f"bookstore://{NOTEBOOK_KEY}?version_id={first}",
            str(output),
            "-p",
            "x",
            "5",
            "--no-progress-bar",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ran first with x = 5" in cell_text(executed(output.read_bytes()))


def test_without_a_version_id_the_latest_is_read(config: Path, store: S3Store) -> None:
    import papermill.iorw

    store.put(f"published/{NOTEBOOK_KEY}", parameterized_notebook("older"))
    store.put(f"published/{NOTEBOOK_KEY}", parameterized_notebook("newest"))
    notebook = papermill.iorw.load_notebook_node(f"bookstore://{NOTEBOOK_KEY}")
    assert "ran newest" in notebook.cells[1].source


def test_unknown_versions_hostile_keys_and_writes_are_refused(config: Path, store: S3Store) -> None:
    store.put(f"published/{NOTEBOOK_KEY}", parameterized_notebook("only"))
    with pytest.raises(VersionNotFoundError, match="no-such-version"):
        BookstoreIO.read(f"bookstore://{NOTEBOOK_KEY}?version_id=no-such-version")
    with pytest.raises(InvalidPathError, match="published root"):
        BookstoreIO.read("bookstore://../secrets/x.ipynb")
    with pytest.raises(InvalidPathError, match="one query parameter, version_id"):
        parse(f"bookstore://{NOTEBOOK_KEY}?version=1")
    with pytest.raises(InvalidPathError, match="read-only"):
        BookstoreIO.write("{}", f"bookstore://{NOTEBOOK_KEY}")


def test_paths_name_a_notebook_key_and_a_version() -> None:
    assert parse("bookstore://alice/notebooks/a%20b.ipynb?version_id=v1") == (
        "alice/notebooks/a b.ipynb",
        "v1",
    )
    assert parse("bookstore://alice/notebooks/a.ipynb") == ("alice/notebooks/a.ipynb", None)
    assert parse("bookstore://alice/notebooks/a.ipynb?version_id=") == ("alice/notebooks/a.ipynb", None)
