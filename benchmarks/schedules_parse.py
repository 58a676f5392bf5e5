"""Parsing ``dags/bookstore_schedules.py`` with many schedules, as Airflow's DAG processor does.

SeaweedFS holds ``--schedules`` schedule documents (a tenth of them also on publication).
Each measurement is a fresh Python process that first imports ``airflow.sdk`` (the
baseline, timed in the same process, what every DAG file pays) and then executes the DAG
file, which lists the documents and renders one DAG each. Two figures:

- **unchanged**: the cache of the previous parse is there and no document changed, as in
  almost every parse: one listing request per 1000 documents, no document read. Target:
  about a second for 1,000 schedules.
- **cold**: no cache (the first parse on a new machine): every document is read.

Run: ``.venv/bin/python -m benchmarks.schedules_parse [--schedules N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.fixtures import servers
from benchmarks.report import Row, Target, print_rows, summarize
from bookstore.schedules import ScheduleBook, parse_schedule
from devtools.airflow import connection_json

DAG_FILE = Path(__file__).resolve().parent.parent / "dags" / "bookstore_schedules.py"
#: The issue's target: 1,000 unchanged schedules in about a second.
TARGET = Target("p50", 1500.0)

_CHILD = """\
import json, runpy, sys, time
started = time.perf_counter()
import airflow.sdk
airflow.sdk.DAG
sdk = time.perf_counter()
found = runpy.run_path(sys.argv[1], run_name="bench_dag")
done = time.perf_counter()
dags = sum(1 for value in found.values() if isinstance(value, airflow.sdk.DAG))
print(json.dumps({"sdk": sdk - started, "file": done - sdk, "dags": dags}))
"""


def parse_once(env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(DAG_FILE)], env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode:
        raise RuntimeError(f"parsing {DAG_FILE.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(schedules: int = 1000, rounds: int = 5) -> list[Row]:
    with servers("bench-schedules", archiving=False) as found, tempfile.TemporaryDirectory() as home:
        store = found.store
        book = ScheduleBook(store, "schedules")

        def put(n: int) -> None:
            key = f"user{n % 20}/notebooks/report-{n}.ipynb"
            body = {"name": "daily", "cron": f"{n % 60} {n % 24} * * *", "on_publish": n % 10 == 0}
            book.put(parse_schedule(body, key, by=f"user{n % 20}"))

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(schedules)))
        cache = Path(home) / "schedules-cache.json"
        env = dict(
            os.environ,
            AIRFLOW_HOME=home,
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW_CONN_BOOKSTORE_DEFAULT=connection_json(
                found.s3.endpoint_url, found.s3.access_key, found.s3.secret_key, found.bucket
            ),
            BOOKSTORE_SCHEDULES_CACHE=str(cache),
        )
        cold: list[float] = []
        warm: list[float] = []
        cold_sdk: list[float] = []
        warm_sdk: list[float] = []
        for _ in range(rounds):
            cache.unlink(missing_ok=True)
            first = parse_once(env)
            second = parse_once(env)
            if first["dags"] != schedules + 1 or second["dags"] != schedules + 1:
                raise RuntimeError(f"expected {schedules + 1} DAGs, got {first['dags']} and {second['dags']}")
            cold.append(first["file"])
            cold_sdk.append(first["sdk"])
            warm.append(second["file"])
            warm_sdk.append(second["sdk"])
    note = (
        f"{schedules} schedules ({schedules // 10} also on publication), fresh process; "
        "baseline: import airflow.sdk"
    )
    return [
        summarize(f"parse dags/{DAG_FILE.name}, unchanged", warm, warm_sdk, note, target=TARGET),
        summarize(f"parse dags/{DAG_FILE.name}, cold (no cache)", cold, cold_sdk, note),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print_rows(run(args.schedules, args.rounds))


if __name__ == "__main__":
    main()
