"""Version listing: every version of a notebook with 10,000 versions, through the REST API.

Measured: ``GET /api/bookstore/versions/<path>?stage=workspace&limit=<page>``, following
``next_cursor`` until the last page, on a Jupyter server with bookstore and a local SeaweedFS.
Baseline: raw boto3 ``list_object_versions`` paging through the same key with the same page
size (what a script talking to S3 directly would do). The two alternate, round after round.

The versions are created beforehand with boto3 puts from a thread pool (setup, not measured).

Run: ``.venv/bin/python -m benchmarks.listing [--rounds N] [--versions N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.fixtures import WORKSPACE_PREFIX, notebook_of_size, servers
from benchmarks.report import Row, Target, print_rows, summarize
from tests.jupyter_process import JupyterServer

#: The issue's target: listing through bookstore takes at most 1.2x raw boto3 paging.
RATIO_TARGET = Target("ratio", 1.2)


def rest_list_all(server: JupyterServer, path: str, limit: int) -> int:
    """Page through every version of ``path`` over REST; return how many were listed."""
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"stage": "workspace", "limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = server.request("GET", f"/api/bookstore/versions/{path}", params=params)
        if answer.status_code != 200:
            raise RuntimeError(f"listing failed: {answer.status_code} {answer.text[:300]}")
        page = answer.json()
        count += len(page["versions"])
        cursor = page["next_cursor"]
        if not cursor:
            return count


def boto3_list_all(client: Any, bucket: str, key: str, limit: int) -> int:
    """Page through every version of ``key`` with ``list_object_versions``; return how many."""
    count = 0
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=key, PaginationConfig={"PageSize": limit}):
        count += sum(1 for v in page.get("Versions", []) if v["Key"] == key)
    return count


def create_versions(put: Any, key: str, body: bytes, count: int, threads: int = 16) -> float:
    """``count`` versions of ``key`` from ``threads`` threads; return the seconds it took."""
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(lambda _: put(key, body), range(count)):
            pass
    return time.perf_counter() - started


def run(rounds: int = 7, versions: int = 10_000, page_sizes: tuple[int, ...] = (1000, 100)) -> list[Row]:
    """List ``versions`` versions of one key ``rounds`` times per page size, REST vs boto3."""
    rows: list[Row] = []
    path = "history.ipynb"
    key = f"{WORKSPACE_PREFIX}/{path}"
    with servers("bench-versions", archiving=True) as env:
        server = env.archiving
        assert server is not None
        body = json.dumps(notebook_of_size(1000)).encode()
        setup = create_versions(env.store.put, key, body, versions)
        client = env.client()
        for limit in page_sizes:
            rest_times, boto3_times = [], []
            for i in range(rounds + 1):
                started = time.perf_counter()
                listed_rest = rest_list_all(server, path, limit)
                t_rest = time.perf_counter() - started
                started = time.perf_counter()
                listed_boto3 = boto3_list_all(client, env.bucket, key, limit)
                t_boto3 = time.perf_counter() - started
                if listed_rest != versions or listed_boto3 != versions:
                    raise RuntimeError(
                        f"listed {listed_rest} (REST) and {listed_boto3} (boto3), not {versions}"
                    )
                if i:  # the first round warms connections and caches
                    rest_times.append(t_rest)
                    boto3_times.append(t_boto3)
            rows.append(
                summarize(
                    f"list {versions:,} versions, pages of {limit}",
                    rest_times,
                    boto3_times,
                    f"REST API paging vs raw boto3 list_object_versions paging "
                    f"(setup: {versions:,} puts in {setup:.0f} s)",
                    target=RATIO_TARGET,
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--page-sizes", default="1000,100")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.page_sizes.split(","))
    print_rows(run(args.rounds, args.versions, sizes))


if __name__ == "__main__":
    main()
