"""Operator overhead: running a published notebook the way the operator does, vs bare papermill.

1. ``bookstore.runner.run_published``, what ``PublishedNotebookOperator`` calls, with the
   :class:`~bookstore.store.S3Store` built anew each run as each Airflow task builds one:
   build the S3 client, resolve the published key to a version (one S3 GET), run it with
   papermill, upload the executed notebook with its provenance. Baseline:
   ``papermill.execute_notebook`` on the same notebook from a local file to a local file,
   same parameters, same kernel, in the same process, alternating with the runner.
2. A real ``PublishedNotebookOperator`` task run by Airflow's ``dag.test()`` (Airflow 3,
   SQLite, in a child process with its own ``AIRFLOW_HOME``), against bare papermill timed
   in that same child. This adds what Airflow itself does around a task (DAG run and task
   instance records, XCom, task logging) to the runner's work.

Both use a small parameterised notebook (one ``parameters`` cell, one cell printing), so
the figure is the fixed overhead per run. Target: at most +1 s over papermill.

Run: ``.venv/bin/python -m benchmarks.operator_overhead [--rounds N] [--no-airflow]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat

from benchmarks.fixtures import servers
from benchmarks.report import Row, Target, print_rows, summarize

#: The issue's target: the operator adds at most one second to a papermill run.
DELTA_TARGET = Target("delta", 1000.0)

NOTEBOOK_KEY = "kylek/notebooks/bench/operator.ipynb"
PARAMETERS = {"x": 21, "label": "bench"}
_RESULT = "BENCH-RESULT "


def parameterized_notebook() -> bytes:
    """A notebook with a ``parameters`` cell and one cell that uses them."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1\nlabel = 'unset'")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell("print(label, sum(range(x * 1000)))")]
    return nbformat.writes(nb).encode()


def bare_papermill(input_path: Path, output_path: Path) -> float:
    """Seconds for papermill to run ``input_path`` into ``output_path`` (the baseline)."""
    import papermill

    started = time.perf_counter()
    papermill.execute_notebook(
        str(input_path),
        str(output_path),
        parameters=PARAMETERS,
        progress_bar=False,
        log_output=True,
        cwd=str(input_path.parent),
    )
    return time.perf_counter() - started


def run_runner(rounds: int) -> list[Row]:
    """Time ``run_published`` against bare papermill, alternating, after one warm-up each."""
    from bookstore.library import PUBLISHED, Library
    from bookstore.runner import run_published

    body = parameterized_notebook()
    runner_times: list[float] = []
    papermill_times: list[float] = []
    with servers("bench-operator", archiving=False) as env, tempfile.TemporaryDirectory() as tmp:
        env.store.put(Library(env.store).key(NOTEBOOK_KEY, PUBLISHED), body)
        local = Path(tmp) / "operator.ipynb"
        local.write_bytes(body)
        for i in range(rounds + 1):
            t_papermill = bare_papermill(local, Path(tmp) / f"out-{i}.ipynb")
            started = time.perf_counter()
            store = env.s3.store(env.bucket)
            result = run_published(Library(store), NOTEBOOK_KEY, parameters=PARAMETERS, log_output=True)
            t_runner = time.perf_counter() - started
            if not result.output_version_id:
                raise RuntimeError(f"the runner did not upload its output: {result}")
            if i:  # the first round imports papermill and warms the kernel spec caches
                runner_times.append(t_runner)
                papermill_times.append(t_papermill)
    return [
        summarize(
            "operator: bookstore.runner end to end",
            runner_times,
            papermill_times,
            "S3 client + resolve + download + papermill + upload vs bare papermill on a local file",
            target=DELTA_TARGET,
        )
    ]


def _dag_file(dag_id: str) -> str:
    return textwrap.dedent(
        f"""
        from airflow.sdk import DAG
        from bookstore.airflow.operators import PublishedNotebookOperator

        with DAG({dag_id!r}, schedule=None):
            PublishedNotebookOperator(
                task_id="run",
                notebook_key={NOTEBOOK_KEY!r},
                parameters={PARAMETERS!r},
            )
        """
    )


def airflow_child(dag_file: str, dag_id: str, notebook: str, rounds: int) -> None:
    """In the child process: time ``dag.test()`` and bare papermill, alternating."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dag_file)
    if bag.import_errors:
        raise RuntimeError(f"the DAG did not import: {bag.import_errors}")
    dag = bag.dags[dag_id]
    local = Path(notebook)
    times: dict[str, list[float]] = {"dag_test": [], "papermill": []}
    for i in range(rounds + 1):
        t_papermill = bare_papermill(local, local.with_name(f"out-{i}.ipynb"))
        started = time.perf_counter()
        dag_run = dag.test()
        t_dag = time.perf_counter() - started
        if dag_run.state != "success":
            raise RuntimeError(f"dag.test() ended {dag_run.state}")
        if i:
            times["dag_test"].append(t_dag)
            times["papermill"].append(t_papermill)
    print(_RESULT + json.dumps(times), flush=True)


def run_airflow(rounds: int) -> list[Row]:
    """Time a real ``PublishedNotebookOperator`` task through ``dag.test()`` in a child process."""
    from bookstore.library import PUBLISHED, Library

    dag_id = "bookstore_bench_operator"
    body = parameterized_notebook()
    with servers("bench-airflow", archiving=False) as env, tempfile.TemporaryDirectory() as tmp:
        env.store.put(Library(env.store).key(NOTEBOOK_KEY, PUBLISHED), body)
        home = Path(tmp)
        (home / "dags").mkdir()
        (home / "plugins").mkdir()
        dag_file = home / "dags" / f"{dag_id}.py"
        dag_file.write_text(_dag_file(dag_id))
        notebook = home / "work" / "operator.ipynb"
        notebook.parent.mkdir()
        notebook.write_bytes(body)
        connection = {
            "conn_type": "aws",
            "login": env.s3.access_key,
            "password": env.s3.secret_key,
            "extra": {"endpoint_url": env.s3.endpoint_url, "region_name": "us-east-1", "bucket": env.bucket},
        }
        environment = dict(
            os.environ,
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(home / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
            AIRFLOW_CONN_BOOKSTORE_DEFAULT=json.dumps(connection),
        )
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=environment,
            check=True,
            capture_output=True,
            timeout=300,
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.operator_overhead",
                "--airflow-child",
                json.dumps([str(dag_file), dag_id, str(notebook), rounds]),
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith(_RESULT)]
        if done.returncode or not lines:
            raise RuntimeError(f"the Airflow run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        times = json.loads(lines[-1][len(_RESULT) :])
    return [
        summarize(
            "operator: PublishedNotebookOperator via dag.test()",
            times["dag_test"],
            times["papermill"],
            "Airflow 3 task end to end (SQLite, hook builds its S3 client) vs bare papermill, same process",
            target=DELTA_TARGET,
        )
    ]


def run(rounds: int = 7, airflow: bool = True) -> list[Row]:
    """Both measurements: the runner, then (optionally) the operator under ``dag.test()``."""
    rows = run_runner(rounds)
    if airflow:
        rows += run_airflow(max(2, rounds // 2 + 1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-airflow", action="store_true", help="skip the dag.test() measurement")
    parser.add_argument("--airflow-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.airflow_child:
        airflow_child(*json.loads(args.airflow_child))
        return
    logging.basicConfig(level=logging.WARNING)
    print_rows(run(args.rounds, airflow=not args.no_airflow))


if __name__ == "__main__":
    main()
