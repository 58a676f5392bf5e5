"""What an archive upload costs the archive queue: its SHA-256 sent for S3 to check, or not.

The archive queue hashes each save (``bookstore-sha256``) before sending it. Sent along as
``ChecksumSHA256``, S3 checks the body against it and botocore computes no checksum of its
own; without it botocore adds a CRC32 of the body (and, over plain HTTP, SigV4 hashes the
payload either way). Measured here: client CPU time per PUT through :class:`S3Store`, the
two ways taking turns against one SeaweedFS, each upload's own SHA-256 included in both.

Run: ``.venv/bin/python -m benchmarks.upload_checksum [--rounds N] [--size BYTES]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

from benchmarks.report import Row, Target, print_rows, summarize
from devtools.seaweedfs import SeaweedFS


def run(rounds: int = 30, size: int = 1_000_000) -> list[Row]:
    with tempfile.TemporaryDirectory() as home, SeaweedFS(Path(home) / "s3") as s3:
        store = s3.store(s3.create_bucket("upload-checksum"))
        body = os.urandom(size)
        times: dict[str, list[float]] = {"checksum": [], "plain": []}
        for n in range(rounds + 2):
            for mode in ("plain", "checksum") if n % 2 else ("checksum", "plain"):
                began = time.process_time()
                sha256 = hashlib.sha256(body).hexdigest()
                store.put(
                    "bench.ipynb",
                    body,
                    {"bookstore-sha256": sha256},
                    sha256=sha256 if mode == "checksum" else None,
                )
                if n >= 2:  # the first rounds warm the connection pool up
                    times[mode].append(time.process_time() - began)
    label = f"{size / 1e6:g} MB" if size >= 1_000_000 else f"{size // 1000} KB"
    return [
        summarize(
            f"archive upload {label}: client CPU per PUT",
            times["checksum"],
            times["plain"],
            "ChecksumSHA256 (S3 checks the body) vs botocore's own CRC32",
            target=Target("ratio", 1.0),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    print_rows(run(args.rounds, args.size))


if __name__ == "__main__":
    main()
