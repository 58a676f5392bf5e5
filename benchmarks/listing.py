"""Version listing: every version of a notebook with 10,000 versions, through the REST API.

Measured: ``GET /api/bookstore/versions/<path>?stage=workspace&limit=<page>``, following
``next_cursor`` until the last page, on a Jupyter server with bookstore and a local SeaweedFS.
Baseline: raw boto3 ``list_object_versions`` paging through the same key with the same page
size (what a script talking to S3 directly would do). The two alternate, round after round.

The versions are created beforehand with boto3 puts from a thread pool (setup, not measured).

Also measured: the first page of published versions as the Version history panel asks for it
(50), which names the save each was published from, against the first page of saves of the
same size. Both need each version's metadata (a HEAD request) the first time a server lists
it; a version never changes, so the server remembers it by version id and every later page
costs one listing (the first, cold, round is left out; the note shows the publications').

Run: ``.venv/bin/python -m benchmarks.listing [--rounds N] [--versions N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.fixtures import PUBLISHED_PREFIX, WORKSPACE_PREFIX, notebook_of_size, servers
from benchmarks.report import Row, Target, print_rows, summarize
from bookstore.metadata import SOURCE_VERSION_ID as META_SOURCE_VERSION_ID
from tests.helpers.jupyter_process import JupyterServer

#: The issue's target: listing through bookstore takes at most 1.2x raw boto3 paging.
RATIO_TARGET = Target("ratio", 1.2)


#: The Version history panel's page size (labextension/src/history.ts).
PANEL_PAGE = 50


def rest_first_page(server: JupyterServer, path: str, stage: str, limit: int) -> list[dict[str, Any]]:
    answer = server.request("GET", f"/api/bookstore/versions/{path}", params={"stage": stage, "limit": limit})
    if answer.status_code != 200:
        raise RuntimeError(f"listing failed: {answer.status_code} {answer.text[:300]}")
    return answer.json()["versions"]  # type: ignore[no-any-return]


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
        rows.append(published_page(server, env.store.put, path, key, body, rounds))
    return rows


def published_page(
    server: JupyterServer, put: Any, path: str, workspace_key: str, body: bytes, rounds: int
) -> Row:
    """The panel's first page of publications (with their sources) vs its first page of saves."""
    source = put(workspace_key, body)
    metadata = {META_SOURCE_VERSION_ID: source}
    for _ in range(PANEL_PAGE):
        put(f"{PUBLISHED_PREFIX}/{path}", body, metadata)
    published_times, saves_times = [], []
    cold = 0.0
    for i in range(3 * rounds + 1):
        started = time.perf_counter()
        published = rest_first_page(server, path, "published", PANEL_PAGE)
        t_published = time.perf_counter() - started
        started = time.perf_counter()
        saves = rest_first_page(server, path, "workspace", PANEL_PAGE)
        t_saves = time.perf_counter() - started
        if len(published) != PANEL_PAGE or len(saves) != PANEL_PAGE:
            listed = f"{len(published)} publications and {len(saves)} saves"
            raise RuntimeError(f"listed {listed}, not {PANEL_PAGE} of each")
        if any(version.get("source_version_id") != source for version in published):
            raise RuntimeError("a published version was listed without its source")
        if i:
            published_times.append(t_published)
            saves_times.append(t_saves)
        else:
            cold = t_published
    return summarize(
        f"first page of {PANEL_PAGE} published versions, with sources",
        published_times,
        saves_times,
        f"REST API, details remembered by version id vs the first page of {PANEL_PAGE} saves; the "
        f"publications' first listing (a HEAD per version, 8 at a time) took {cold * 1000:.0f} ms",
    )


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
