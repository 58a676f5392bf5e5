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

Each round is run twice, the workers restarted in between: with Airflow's defaults, and with
``[workers] min_heartbeat_interval`` at 1 s instead of 5 s (:data:`TUNED`), since how long a
worker's task supervisor takes to notice that a short task has ended weighs on every run.

Run: ``.venv/bin/python -m benchmarks.celery [--runs N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
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


def own_cpu_seconds() -> float:
    """CPU time of this process and its reaped children (papermill's kernels, the pool's)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


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
    cluster.wait_for_dag(DAG_ID)
    cpu_before = cluster.cpu_seconds()
    run_id = cluster.trigger(DAG_ID)
    state = cluster.wait_for_run(DAG_ID, run_id)
    cpu = cluster.cpu_seconds() - cpu_before
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
        "cpu_per_run": cpu / runs,
    }


#: Airflow's task supervisor on a worker waits in ``select`` for up to
#: ``[workers] min_heartbeat_interval`` (5 s) between looks at its task process, so it may
#: notice a finished task that much later: the tuned rounds set it to 1 s.
TUNED = {"AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1"}


@dataclass
class Measured:
    """What rounds with a given number of workers measured, beside their baselines."""

    per_minute: list[float] = field(default_factory=list)
    baseline_per_minute: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    papermill: list[float] = field(default_factory=list)
    cpu_per_run: list[float] = field(default_factory=list)
    papermill_cpu: list[float] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)


def measure(cluster: AirflowCluster, runs: int, workers: int, notebook: Path, into: Measured) -> None:
    """One DAG run on ``workers`` workers (worker-b stopped for 1), then its baselines."""
    if workers == 1:
        cluster.stop_worker("worker-b")
    measured = dag_run(cluster, runs)
    into.per_minute.append(runs / measured["wall"] * 60)
    into.durations += measured["durations"]
    into.waits += measured["waits"]
    into.hosts |= set(measured["hosts"])
    into.cpu_per_run.append(measured["cpu_per_run"])
    batch = papermill_batch(notebook, runs, workers)
    into.baseline_per_minute.append(runs / batch * 60)
    cpu_before = own_cpu_seconds()
    into.papermill.append(bare_papermill(notebook, notebook.with_name("single.ipynb")))
    into.papermill_cpu.append(own_cpu_seconds() - cpu_before)
    if workers == 1:
        cluster.start_worker("worker-b")
        cluster.wait_for_worker(cluster.workers["worker-b"])


def restart_workers(cluster: AirflowCluster, settings: dict[str, str]) -> None:
    """Restart every worker with ``settings`` (and without those of :data:`TUNED` not in it)."""
    for key in TUNED:
        cluster.settings.pop(key, None)
    cluster.settings.update(settings)
    for name in cluster.workers:
        cluster.stop_worker(name)
        cluster.start_worker(name)
    for worker in cluster.workers.values():
        cluster.wait_for_worker(worker)


def rows(label: str, runs: int, measured: dict[int, Measured]) -> list[Row]:
    one, two = measured[1], measured[2]
    speedup = statistics.median(two.per_minute) / statistics.median(one.per_minute)
    return [
        summarize(
            f"celery{label}: {runs} mapped notebook runs, 1 worker",
            one.per_minute,
            one.baseline_per_minute,
            f"runs/min from queued to done, on {', '.join(sorted(one.hosts))}; "
            "baseline: bare papermill, one run after another",
            unit=PER_MINUTE,
        ),
        summarize(
            f"celery{label}: {runs} mapped notebook runs, 2 workers",
            two.per_minute,
            two.baseline_per_minute,
            f"runs/min, on {', '.join(sorted(two.hosts))} ({speedup:.2f}x 1 worker); "
            "baseline: bare papermill in 2 processes at once",
            unit=PER_MINUTE,
        ),
        summarize(
            f"celery{label}: one mapped task, start to end",
            one.durations + two.durations,
            one.papermill + two.papermill,
            "task instance start to end on its worker (task process, connection, S3 read, "
            "papermill, S3 upload, reporting) vs one bare papermill run in this process",
        ),
        summarize(
            f"celery{label}: CPU per notebook run",
            one.cpu_per_run + two.cpu_per_run,
            one.papermill_cpu + two.papermill_cpu,
            "user + system CPU of the whole cluster (components, workers, tasks, kernels, "
            "PostgreSQL, Redis) over a DAG run, per mapped run; vs one bare papermill run's",
        ),
        summarize(
            f"celery{label}: queued until started, 1 worker",
            one.waits,
            None,
            f"a task's wait for the worker's slot, {runs} tasks on 1 slot",
        ),
    ]


def run(runs: int = 8, rounds: int = 2, tuned: bool = True) -> list[Row]:
    """Rounds of 2 workers and 1 worker on one cluster, each beside its baseline; with
    ``tuned``, each round also with workers that poll their tasks every second."""
    default = {1: Measured(), 2: Measured()}
    fast = {1: Measured(), 2: Measured()}
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
                # Default and tuned rounds alternate, so that the load of the machine weighs on
                # both alike.
                for _ in range(rounds):
                    for settings, into in [({}, default), (TUNED, fast)][: 2 if tuned else 1]:
                        if tuned:
                            restart_workers(cluster, settings)
                        for workers in (2, 1):
                            measure(cluster, runs, workers, notebook, into[workers])
            finally:
                cluster.stop()
        finally:
            s3.kill()
    found = rows("", runs, default)
    if tuned:
        found += rows(" (min_heartbeat_interval 1 s)", runs, fast)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="mapped notebook runs per DAG run")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 2 workers then 1 worker")
    parser.add_argument("--no-tuned", action="store_true", help="skip the rounds with a 1 s poll")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print_rows(run(args.runs, args.rounds, tuned=not args.no_tuned))


if __name__ == "__main__":
    main()
