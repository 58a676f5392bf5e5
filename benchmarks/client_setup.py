"""S3 client set-up: what building a store costs, the first in a process and each one after.

A Jupyter server builds several stores (the archive queue's, the REST API's), an Airflow task
its hook's, the CLI one per command. Measured in a fresh interpreter each round: importing
``bookstore.s3`` (boto3 with it), then building three ``S3Store`` (interactive, background
and batch patience), each timed. No request is sent: building a client does not connect.

Baseline, same run, taking turns: the same stores built as bookstore did before it shared
one boto3 session per process, each from a boto3 session of its own (which loads botocore's
service model and endpoint rules again).

Run: ``.venv/bin/python -m benchmarks.client_setup [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.report import Row, print_rows, summarize


def child(mode: str) -> None:
    """One round, in a fresh interpreter: print the seconds of the import and of each store."""
    started = time.perf_counter()
    import boto3

    from bookstore import s3, s3_client
    from bookstore.store import BACKGROUND, BATCH, INTERACTIVE

    imported = time.perf_counter() - started
    if mode == "per-store":  # before: a boto3 session per store

        def own_session(**kwargs: object) -> object:
            return boto3.session.Session().client("s3", **kwargs)

        s3_client._client = own_session  # type: ignore[assignment]
    stores = []
    for patience in (INTERACTIVE, BACKGROUND, BATCH):
        began = time.perf_counter()
        s3.S3Store(
            "bench",
            endpoint_url="http://127.0.0.1:8333",
            region_name="us-east-1",
            access_key_id="bench",
            secret_access_key="bench-secret",
            patience=patience,
        )
        stores.append(time.perf_counter() - began)
    print(json.dumps({"import": imported, "stores": stores}))


def run(rounds: int = 10) -> list[Row]:
    first: dict[str, list[float]] = {"shared": [], "per-store": []}
    further: dict[str, list[float]] = {"shared": [], "per-store": []}
    imports: list[float] = []
    for n in range(rounds):
        for mode in ("shared", "per-store") if n % 2 == 0 else ("per-store", "shared"):
            answer = subprocess.run(
                [sys.executable, "-m", "benchmarks.client_setup", "--child", mode],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            figures = json.loads(answer.stdout.strip().splitlines()[-1])
            imports.append(figures["import"])
            first[mode].append(figures["stores"][0])
            further[mode] += figures["stores"][1:]
    return [
        summarize(
            "client set-up: import bookstore.s3 (boto3)",
            imports,
            None,
            "fresh interpreter, once per process",
        ),
        summarize(
            "client set-up: first store in a process",
            first["shared"],
            first["per-store"],
            "S3Store built from the process's shared boto3 session vs a session of its own (before)",
        ),
        summarize(
            "client set-up: each further store",
            further["shared"],
            further["per-store"],
            "2nd and 3rd S3Store of the process: shared session vs a session of its own (before)",
        ),
    ]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print_rows(run(args.rounds))


if __name__ == "__main__":
    main()
