"""Big notebooks: what archiving a 500 MB notebook costs the archive queue, in time and memory.

Measured: the archive queue uploading one spooled 500 MB save to a local SeaweedFS, in a
fresh process each round: seconds from the queue's start to the version being in S3, and the
peak resident memory (``VmHWM``) the upload added to the process (over its RSS once the
store was built). The upload is a multipart upload streamed from the spool file
(``S3Store.put_file``), one part (16 MiB) in memory at a time.

Baseline, same run, taking turns: what the queue did before, reading the whole save into
memory, hashing it and sending it in one ``PutObject``.

The notebook is valid nbformat JSON (code cells with printed output), spooled anew for each
round with ``Spool.add`` (a save of its own: the queue skips a save already in S3).

Run: ``.venv/bin/python -m benchmarks.big_notebook [--rounds N] [--size BYTES]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.fixtures import WORKSPACE_PREFIX, notebook_of_size, size_label
from benchmarks.report import MEGABYTES, SECONDS, Row, Target, print_rows, summarize
from devtools.seaweedfs import SeaweedFS

#: Peak memory the upload of a big notebook may add, whatever its size.
MEMORY_TARGET = Target("p50", 100.0)

KEY = f"{WORKSPACE_PREFIX}/big.ipynb"


def _vm_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child(
    mode: str, spool_dir: str, endpoint_url: str, bucket: str, access_key: str, secret_key: str
) -> None:
    """One round, in a process of its own: upload the one spooled save, print the figures."""
    from bookstore import metadata
    from bookstore.jupyter.archive_queue import ArchiveQueue
    from bookstore.jupyter.ledger import UploadSettings
    from bookstore.jupyter.spool import Spool
    from bookstore.notebooks import sha256_hex
    from bookstore.s3 import S3Store
    from bookstore.store import BACKGROUND

    store = S3Store(
        bucket,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        access_key_id=access_key,
        secret_access_key=secret_key,
        patience=BACKGROUND,
    )
    store.versioning_status()  # the client is built and connected before measuring
    spool = Spool(spool_dir)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    rss_before = _vm_kb("VmRSS")
    started = time.perf_counter()
    if mode == "streamed":
        queue = ArchiveQueue(store, spool, UploadSettings(workers=1, upload_delay=0.0))
        queue.start()
        if not queue.wait_idle(3600):
            raise RuntimeError(f"the upload did not finish: {queue.status()}")
        queue.stop()
    else:  # the queue's upload before multipart: the whole save in memory, one PUT
        (entry,) = spool.load()
        body = entry.read_body()
        record = metadata.save_metadata(
            sha256=sha256_hex(body), path=entry.path, save_id=entry.save_id, saved_at=entry.saved_at
        )
        store.put(entry.key, body, record)
        spool.remove(entry)
    seconds = time.perf_counter() - started
    added = (_vm_kb("VmHWM") - rss_before) * 1024
    print(json.dumps({"seconds": seconds, "peak_added": added}))


def run(rounds: int = 2, size: int = 500_000_000) -> list[Row]:
    times: dict[str, list[float]] = {"streamed": [], "whole": []}
    peaks: dict[str, list[float]] = {"streamed": [], "whole": []}
    with tempfile.TemporaryDirectory(prefix="bookstore-bench-") as home_name:
        home = Path(home_name)
        s3 = SeaweedFS(home / "s3")
        try:
            s3.start()
            bucket = s3.create_bucket(f"big-{uuid.uuid4().hex[:8]}")
            from bookstore.jupyter.spool import Spool

            body = json.dumps(notebook_of_size(size, cell_bytes=100_000)).encode()
            if len(body) < size:  # sized for nbformat's indented JSON: scale to the size asked
                body = json.dumps(notebook_of_size(size * size // len(body), cell_bytes=100_000)).encode()
            for n in range(rounds):
                for mode in ("streamed", "whole") if n % 2 == 0 else ("whole", "streamed"):
                    # A save of its own each round: the queue rightly skips a save already in S3.
                    spool = Spool(home / f"spool-{n}-{mode}")
                    spool.add(KEY, "big.ipynb", body)
                    spool.release()
                    folder = spool.folder
                    answer = subprocess.run(
                        [sys.executable, "-m", "benchmarks.big_notebook", "--child", mode, str(folder),
                         s3.endpoint_url, bucket, s3.access_key, s3.secret_key],
                        capture_output=True, text=True, check=True, timeout=3600,
                    )  # fmt: skip
                    figures = json.loads(answer.stdout.strip().splitlines()[-1])
                    times[mode].append(figures["seconds"])
                    peaks[mode].append(figures["peak_added"])
            label = size_label(len(body))
        finally:
            s3.kill()
    return [
        summarize(
            f"big notebook: archive {label}",
            times["streamed"],
            times["whole"],
            "spooled save -> version in S3: multipart from the spool file vs whole save in memory, one PUT",
            unit=SECONDS,
        ),
        summarize(
            f"big notebook: peak RSS added archiving {label}",
            peaks["streamed"],
            peaks["whole"],
            "archiving process (VmHWM over RSS before): multipart, 16 MiB parts vs whole save in memory",
            unit=MEGABYTES,
            target=MEMORY_TARGET,
        ),
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:8])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", type=int, default=500_000_000)
    args = parser.parse_args()
    print_rows(run(args.rounds, args.size))


if __name__ == "__main__":
    main()
