"""The team catalog: one page of every user's published notebooks, with their latest versions.

Measured: ``Library.catalog.page(limit=100)`` (what ``GET /api/bookstore/catalog`` and
``bookstore catalog`` call), paging through a published root holding ``notebooks`` notebooks
of 20 owners, each published ``versions`` times. Baseline, alternating round after round: the
same pages listed with raw boto3 ``list_objects_v2`` (the one request a page cannot avoid;
the catalog adds one HEAD per notebook, 8 at a time, for the latest version id and publisher).
A page never reads older versions, so its cost does not grow with them.

Run: ``.venv/bin/python -m benchmarks.catalog [--rounds N] [--notebooks N] [--versions N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.fixtures import notebook_of_size, servers
from benchmarks.report import Row, print_rows, summarize
from bookstore.library import Library

PAGE = 100
OWNERS = 20


def catalog_pages(library: Library) -> int:
    """Every page of the catalog; return how many notebooks it listed."""
    count, cursor = 0, None
    while True:
        page = library.catalog.page(limit=PAGE, cursor=cursor)
        if any(entry.version_id is None for entry in page.notebooks):
            raise RuntimeError("a catalog entry came without its latest version id")
        count += len(page.notebooks)
        cursor = page.next_cursor
        if cursor is None:
            return count


def raw_pages(client: Any, bucket: str) -> int:
    """The same listing with boto3's paginator, no HEADs; return how many keys."""
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=bucket, Prefix="published/", PaginationConfig={"PageSize": PAGE})
    return sum(len(page.get("Contents", [])) for page in pages)


def run(rounds: int = 5, notebooks: int = 2_000, versions: int = 3) -> list[Row]:
    with servers("bench-catalog", archiving=False) as env:
        body = json.dumps(notebook_of_size(1000)).encode()
        keys = [f"published/user{i % OWNERS}/notebooks/nb-{i:05d}.ipynb" for i in range(notebooks)]
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            for _ in pool.map(lambda key: env.store.put(key, body), keys * versions):
                pass
        setup = time.perf_counter() - started
        library = Library(env.store, published_prefix="published/{username}/notebooks", owner_index=0)
        client = env.client()
        catalog_times, raw_times = [], []
        for i in range(rounds + 1):
            started = time.perf_counter()
            listed = catalog_pages(library)
            t_catalog = time.perf_counter() - started
            started = time.perf_counter()
            raw = raw_pages(client, env.bucket)
            t_raw = time.perf_counter() - started
            if listed != notebooks or raw != notebooks:
                raise RuntimeError(f"listed {listed} (catalog) and {raw} (boto3), not {notebooks}")
            if i:  # the first round warms connections
                catalog_times.append(t_catalog / (notebooks / PAGE))
                raw_times.append(t_raw / (notebooks / PAGE))
    return [
        summarize(
            f"catalog page of {PAGE}, {notebooks:,} notebooks x {versions} versions",
            catalog_times,
            raw_times,
            f"seconds per page: Library.catalog.page (listing + {PAGE} HEADs) vs boto3 list_objects_v2 "
            f"pages of {PAGE} (setup: {notebooks * versions:,} puts in {setup:.0f} s)",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--notebooks", type=int, default=2_000)
    parser.add_argument("--versions", type=int, default=3)
    args = parser.parse_args()
    print_rows(run(args.rounds, args.notebooks, args.versions))


if __name__ == "__main__":
    main()
