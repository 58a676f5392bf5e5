"""Scale-out: published notebooks per minute on Airflow's CeleryExecutor, with 1 and 2 workers.

One cluster (``devtools/airflow_cluster.py``: PostgreSQL, Redis, api-server, scheduler,
dag-processor, two ``airflow celery worker`` processes, each running one task at a time) runs
the same DAG, one ``PublishedNotebookOperator`` mapped over N parameter sets, with both
workers up and with one of them stopped, in alternating rounds. Measured:

1. **Throughput**: N / (the run's end - the moment it was queued), in notebook runs per
   minute, from Airflow's own timestamps. Baselines, timed in the same round: bare papermill
   running the same N notebooks one after the other (against 1 worker), and in two processes
   at once (against 2 workers): what the machine does without Airflow.
2. **Per-run overhead**: each mapped task's duration on its worker (task process start,
   connection, S3 read, papermill, S3 upload, reporting to the api-server) against one bare
   papermill run of the same notebook in this process; and the time a task waited between
   being queued and starting on a worker with a free slot.

Run: ``.venv/bin/python -m benchmarks.celery [--runs N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.operator_overhead import bare_papermill, parameterized_notebook
from benchmarks.report import Row, print_rows, summarize
from devtools.airflow_cluster import AirflowCluster
from devtools.seaweedfs import SeaweedFS

DAG_ID = "bookstore_bench_fan_out"
NOTEBOOK_KEY = "kylek/notebooks/bench/fan_out.ipynb"
PUBLISHED = "published"
RUNS = "runs"
BUCKET = "bench-celery"
PER_MINUTE = ("runs/min", 1.0)


def dag_file(runs: int) -> str:
    parameters = [{"x": i, "label": f"run-{i}"} for i in range(runs)]
    return textwrap.dedent(
        f"""
        from airflow.sdk import DAG
        from bookstore.airflow.operators import PublishedNotebookOperator

        with DAG({DAG_ID!r}, schedule=None, max_active_tasks={runs}):
            PublishedNotebookOperator.partial(
                task_id="run", notebook_key={NOTEBOOK_KEY!r}
            ).expand(parameters={parameters!r})
        """
    )


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def papermill_batch(notebook: Path, runs: int, processes: int) -> float:
    """Seconds for bare papermill to run ``notebook`` ``runs`` times in ``processes`` processes."""
    folder = notebook.parent
    started = time.perf_counter()
    if processes == 1:
        for i in range(runs):
            bare_papermill(notebook, folder / f"seq-{i}.ipynb")
    else:
        outputs = [folder / f"par-{i}.ipynb" for i in range(runs)]
        with ProcessPoolExecutor(processes) as pool:
            list(pool.map(bare_papermill, [notebook] * runs, outputs))
    return time.perf_counter() - started


def dag_run(cluster: AirflowCluster, runs: int) -> dict[str, Any]:
    """Run the DAG once; return its wall time and its tasks' durations and queue waits."""
    run_id = cluster.trigger(DAG_ID)
    state = cluster.wait_for_run(DAG_ID, run_id)
    if state != "success":
        raise RuntimeError(f"the benchmark DAG run {run_id} ended {state}")
    run = cluster.api("GET", f"dags/{DAG_ID}/dagRuns/{run_id}")
    instances = cluster.task_instances(DAG_ID, run_id)
    if len(instances) != runs:
        raise RuntimeError(f"expected {runs} mapped task instances, got {len(instances)}")
    return {
        "wall": _seconds(run["queued_at"], run["end_date"]),
        "durations": [_seconds(ti["start_date"], ti["end_date"]) for ti in instances],
        "waits": [_seconds(ti["queued_when"], ti["start_date"]) for ti in instances],
        "hosts": sorted({ti["hostname"] for ti in instances}),
    }


def run(runs: int = 8, rounds: int = 2) -> list[Row]:
    """Alternate rounds of 2 workers and 1 worker on one cluster, each beside its baseline."""
    per_minute: dict[int, list[float]] = {1: [], 2: []}
    baseline_per_minute: dict[int, list[float]] = {1: [], 2: []}
    durations: list[float] = []
    waits: dict[int, list[float]] = {1: [], 2: []}
    papermill_single: list[float] = []
    hosts: dict[int, set[str]] = {1: set(), 2: set()}
    with tempfile.TemporaryDirectory(prefix="bookstore-bench-celery-") as tmp:
        home = Path(tmp)
        s3 = SeaweedFS(home / "s3")
        s3.start()
        try:
            s3.create_bucket(BUCKET)
            body = parameterized_notebook()
            s3.store(BUCKET).put(f"{PUBLISHED}/{NOTEBOOK_KEY}", body)
            notebook = home / "papermill" / "fan_out.ipynb"
            notebook.parent.mkdir()
            notebook.write_bytes(body)
            bare_papermill(notebook, notebook.with_name("warm-up.ipynb"))  # imports, kernel spec cache
            dags = home / "dags"
            dags.mkdir()
            (dags / f"{DAG_ID}.py").write_text(dag_file(runs))
            connection = {
                "conn_type": "aws",
                "login": s3.access_key,
                "password": s3.secret_key,
                "extra": {"endpoint_url": s3.endpoint_url, "region_name": "us-east-1", "bucket": BUCKET},
            }
            cluster = AirflowCluster(home / "cluster", dags=dags, connection=connection, workers=2)
            cluster.start()
            try:
                dag_run(cluster, runs)  # warm-up: the first task on each worker imports everything
                for _ in range(rounds):
                    for workers in (2, 1):
                        if workers == 1:
                            cluster.stop_worker("worker-b")
                        measured = dag_run(cluster, runs)
                        per_minute[workers].append(runs / measured["wall"] * 60)
                        durations += measured["durations"]
                        waits[workers] += measured["waits"]
                        hosts[workers] |= set(measured["hosts"])
                        batch = papermill_batch(notebook, runs, workers)
                        baseline_per_minute[workers].append(runs / batch * 60)
                        papermill_single.append(bare_papermill(notebook, notebook.with_name("single.ipynb")))
                        if workers == 1:
                            cluster.start_worker("worker-b")
                            cluster.wait_for_worker(cluster.workers["worker-b"])
            finally:
                cluster.stop()
        finally:
            s3.kill()
    speedup = statistics.median(per_minute[2]) / statistics.median(per_minute[1])
    return [
        summarize(
            f"celery: {runs} mapped notebook runs, 1 worker",
            per_minute[1],
            baseline_per_minute[1],
            f"runs/min from queued to done, on {', '.join(sorted(hosts[1]))}; "
            "baseline: bare papermill, one run after another",
            unit=PER_MINUTE,
        ),
        summarize(
            f"celery: {runs} mapped notebook runs, 2 workers",
            per_minute[2],
            baseline_per_minute[2],
            f"runs/min, on {', '.join(sorted(hosts[2]))} ({speedup:.2f}x 1 worker); "
            "baseline: bare papermill in 2 processes at once",
            unit=PER_MINUTE,
        ),
        summarize(
            "celery: one mapped task on its worker",
            durations,
            papermill_single,
            "task start to end (task process, connection, S3 read, papermill, S3 upload, "
            "reporting) vs one bare papermill run in this process",
        ),
        summarize(
            "celery: queued until started, 2 workers",
            waits[2],
            None,
            f"a task's wait for a free worker slot, {runs} tasks on 2 slots",
        ),
        summarize(
            "celery: queued until started, 1 worker",
            waits[1],
            None,
            f"a task's wait for a free worker slot, {runs} tasks on 1 slot",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="mapped notebook runs per DAG run")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 2 workers then 1 worker")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print_rows(run(args.runs, args.rounds))


if __name__ == "__main__":
    main()
