"""Save latency through Jupyter's contents API, archiving vs plain, and archive lag.

Two real ``jupyter server`` processes run side by side on this machine: one plain
(jupyter_server's default contents manager), one with ``BookstoreContentsArchiver`` and a
local SeaweedFS. Saves of the same notebooks alternate between them, so both see the same
machine load. Archive lag is the time from a save's answer until S3 serves that save as the
latest version (polled every 2 ms).

Run: ``make bench`` or ``.venv/bin/python -m benchmarks.save_latency [--rounds N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from benchmarks.report import Row, summarize
from bookstore.devserver import SeaweedFS
from bookstore.store import S3Store
from tests.jupyter_process import SEED_CONFIG, JupyterServer

PLAIN_CONFIG = "c = get_config()\n"


def notebook_of_size(size: int) -> dict[str, Any]:
    """A notebook whose JSON is about ``size`` bytes: code cells with text outputs."""
    nb = nbformat.v4.new_notebook()
    line = "x" * 99 + "\n"
    per_cell = 10_000
    while len(nbformat.writes(nb)) < size:
        cell = nbformat.v4.new_code_cell(f"print({len(nb.cells)})")
        cell.outputs.append(nbformat.v4.new_output("stream", text=line * (per_cell // 100)))
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))


def timed_save(server: JupyterServer, path: str, content: dict[str, Any]) -> float:
    start = time.perf_counter()
    server.save(path, content)
    return time.perf_counter() - start


def wait_for_version(store: S3Store, key: str, sha256: str, timeout: float = 60.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if store.head(key).metadata.get("bookstore-sha256") == sha256:
                return time.perf_counter() - start
        except Exception:
            pass
        time.sleep(0.002)
    raise TimeoutError(f"{key} was not archived within {timeout} s")


def run(rounds: int, sizes: list[int]) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        s3 = SeaweedFS(home / "s3")
        s3.start()
        try:
            bucket = s3.create_bucket("bench-saves")
            archiving = JupyterServer(
                home / "archiving",
                SEED_CONFIG.format(
                    bucket=bucket,
                    endpoint_url=s3.endpoint_url,
                    access_key=s3.access_key,
                    secret_key=s3.secret_key,
                ),
            )
            plain = JupyterServer(home / "plain", PLAIN_CONFIG)
            archiving.start()
            plain.start()
            store = S3Store(
                bucket,
                endpoint_url=s3.endpoint_url,
                access_key_id=s3.access_key,
                secret_access_key=s3.secret_key,
                region_name="us-east-1",
            )
            try:
                for size in sizes:
                    content = notebook_of_size(size)
                    label = f"{size // 1000} KB" if size < 1_000_000 else f"{size // 1_000_000} MB"
                    plain_times, archiving_times, lags = [], [], []
                    for i in range(rounds + 2):
                        content["metadata"]["round"] = i  # every save is a new version
                        t_plain = timed_save(plain, "bench.ipynb", content)
                        t_arch = timed_save(archiving, "bench.ipynb", content)
                        on_disk = (archiving.root_dir / "bench.ipynb").read_bytes()
                        lag = wait_for_version(
                            store, "workspace/kylek/notebooks/bench.ipynb", hashlib.sha256(on_disk).hexdigest()
                        )
                        if i >= 2:  # the first rounds warm caches and connections
                            plain_times.append(t_plain)
                            archiving_times.append(t_arch)
                            lags.append(lag)
                    rows.append(
                        summarize(
                            f"save {label}", archiving_times, plain_times, "archiving / plain jupyter_server"
                        )
                    )
                    rows.append(summarize(f"archive lag {label}", lags, None, "save answered -> version in S3"))
            finally:
                archiving.kill()
                plain.kill()
        finally:
            s3.kill()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="100000,1000000,10000000", help="notebook sizes in bytes")
    args = parser.parse_args()
    from benchmarks.report import print_rows

    print_rows(run(args.rounds, [int(s) for s in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
