"""How fast the ``bookstore`` command answers, as a fresh process each time.

Measured, alternating with its baseline round after round:

- ``bookstore --help`` against ``python -c pass`` (the interpreter's own start);
- ``bookstore versions PATH`` against a fresh ``python -c`` that builds a boto3 client and
  lists the same key's versions once (what a script talking to S3 directly costs), on a local
  SeaweedFS.

Run: ``.venv/bin/python -m benchmarks.cli_startup [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.fixtures import servers
from benchmarks.report import Row, Target, print_rows, summarize

BOOKSTORE = str(Path(sys.executable).parent / "bookstore")
HELP_TARGET = Target("p50", 300.0)
VERSIONS_TARGET = Target("ratio", 1.1)

CONFIG = """\
c = get_config()
c.Bookstore.workspace_prefix = "workspace/kylek/notebooks"
"""

BOTO3_LISTING = """\
import boto3, sys
client = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                      aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
page = client.list_object_versions(Bucket=sys.argv[4], Prefix=sys.argv[5], MaxKeys=100)
print(len(page.get("Versions", [])))
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def alternate(
    rounds: int, measured: list[str], baseline: list[str], env: dict[str, str]
) -> tuple[list[float], list[float]]:
    ours, theirs = [], []
    for i in range(rounds + 1):
        t_ours, t_theirs = timed(measured, env), timed(baseline, env)
        if i:  # the first round warms the file system cache
            ours.append(t_ours)
            theirs.append(t_theirs)
    return ours, theirs


def run(rounds: int = 10) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOOKSTORE_"))}
    rows = []
    help_times, bare = alternate(rounds, [BOOKSTORE, "--help"], [sys.executable, "-c", "pass"], env)
    rows.append(
        summarize(
            "bookstore --help",
            help_times,
            bare,
            "a fresh process each time, vs python -c pass",
            target=HELP_TARGET,
        )
    )
    with servers("bench-cli", archiving=False) as env_servers:
        key = "workspace/kylek/notebooks/analysis/mine.ipynb"
        for i in range(20):
            env_servers.store.put(key, f'{{"cells": [], "n": {i}}}'.encode())
        config = env_servers.home / "jupyter_server_config.py"
        s3 = env_servers.s3
        config.write_text(CONFIG + s3.bookstore_config(env_servers.bucket))
        listing = [BOOKSTORE, "versions", "analysis/mine.ipynb", "--config", str(config)]
        direct = [
            sys.executable,
            "-c",
            BOTO3_LISTING,
            s3.endpoint_url,
            s3.access_key,
            s3.secret_key,
            env_servers.bucket,
            key,
        ]
        ours, theirs = alternate(rounds, listing, direct, env)
        rows.append(
            summarize(
                "bookstore versions PATH (20 versions)",
                ours,
                theirs,
                "a fresh process each time, vs a fresh python -c building a boto3 client and listing once",
                target=VERSIONS_TARGET,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    print_rows(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
