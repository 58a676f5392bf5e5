"""Published notebooks on Airflow's CeleryExecutor: real PostgreSQL, Redis and two workers.

One cluster for the module (``devtools/airflow_cluster.py``): SeaweedFS, a PostgreSQL
metadata database, a Redis broker, Airflow 3's api-server, scheduler and dag-processor, and
two ``airflow celery worker`` processes, ``worker-a`` and ``worker-b``, each with its own
folder (working directory, DAG files, logs, ``TMPDIR``) and its own host name in Airflow.

The notebook the DAGs run takes a "gate" folder: each run leaves a file there when it
starts, can wait until a number of runs have started (so that runs provably overlap), and
can wait for a "release" file the test creates, so that the test acts while a notebook is
running, without guessing how long anything takes.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest

from bookstore import metadata
from bookstore.runs import RunLog
from devtools.airflow_cluster import WORKER_NAME, AirflowCluster, Worker
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import StackError
from tests.helpers.buckets import new_bucket_name
from tests.helpers.notebooks import Area, ensure_python3_kernel

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "team/notebooks/fan_out.ipynb"
FAN_OUT_DAG = "bookstore_fan_out"
WORKERS = ("worker-a", "worker-b")
FAN_OUT = [1, 2, 3, 4]

pytestmark = [pytest.mark.celery, pytest.mark.airflow, pytest.mark.timeout(900)]


def gated_notebook() -> bytes:
    """A notebook that prints in its first cell, then waits on its gate, then finishes."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1\ngate = ''\ntogether = 0\nrelease = ''\nfail = False")
    parameters.metadata["tags"] = ["parameters"]
    first = textwrap.dedent(
        """
        import os, pathlib, time
        print(f"first cell of x={x}", flush=True)
        worker = os.environ.get("BOOKSTORE_WORKER_NAME", "")
        if gate:
            pathlib.Path(gate, f"started-{x}-{worker}-{os.getpid()}").touch()
        """
    )
    wait = textwrap.dedent(
        """
        deadline = time.monotonic() + 300
        while gate and len(list(pathlib.Path(gate).glob("started-*"))) < together:
            assert time.monotonic() < deadline, "the other runs never started"
            time.sleep(0.2)
        while release and not os.path.exists(release):
            assert time.monotonic() < deadline, "never released"
            time.sleep(0.2)
        print(f"x={x} squared is {x * x}")
        if fail:
            raise ValueError(f"x={x} failed on purpose")
        """
    )
    nb.cells = [parameters, nbformat.v4.new_code_cell(first), nbformat.v4.new_code_cell(wait)]
    return nbformat.writes(nb).encode()


def dag_file(dag_id: str, *, parameters: dict[str, Any], retries: int = 0, timeout: int | None = None) -> str:
    """A DAG of one PublishedNotebookOperator (with an ``execution_timeout`` of ``timeout`` s)."""
    limit = f", execution_timeout=timedelta(seconds={timeout})" if timeout else ""
    task = (
        f"PublishedNotebookOperator(task_id='run', notebook_key={NOTEBOOK!r}, "
        f"parameters={parameters!r}{limit})"
    )
    return textwrap.dedent(
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from bookstore.airflow.operators import PublishedNotebookOperator

        with DAG({dag_id!r}, schedule=None, default_args={{
                "retries": {retries}, "retry_delay": timedelta(seconds=1)}}):
            {task}
        """
    )


class Scene:
    """The module's cluster, bucket, test area, and the folders its notebooks wait on."""

    def __init__(self, cluster: AirflowCluster, s3: SeaweedFS, bucket: str, area: Area, gates: Path) -> None:
        self.cluster = cluster
        self.s3 = s3
        self.bucket = bucket
        self.area = area
        self.gates = gates

    def worker(self, name: str) -> Worker:
        return self.cluster.workers[name]

    def outputs(self, dag_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every object version under the runs prefix of ``dag_id``: key -> versions with metadata."""
        client = self.s3.client()
        prefix = f"{self.area.runs}/{dag_id}/"
        found: dict[str, list[dict[str, Any]]] = {}
        for version in client.list_object_versions(Bucket=self.bucket, Prefix=prefix).get("Versions", []):
            head = client.head_object(Bucket=self.bucket, Key=version["Key"], VersionId=version["VersionId"])
            found.setdefault(version["Key"], []).append(head["Metadata"])
        return found

    def run_records(self, dag_id: str) -> dict[int, dict[str, Any]]:
        """The run records of ``dag_id``'s runs of the notebook, by try number."""
        client = self.s3.client()
        folder = RunLog(self.s3.store(self.bucket), self.area.runs).folder(NOTEBOOK)
        found = {}
        for item in client.list_objects_v2(Bucket=self.bucket, Prefix=folder).get("Contents", []):
            record = json.loads(client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read())
            airflow = record.get("airflow") or {}
            if airflow.get("dag_id") == dag_id:
                found[int(airflow["try_number"])] = record
        return found

    def running_kernels(self) -> list[psutil.Process]:
        """Kernels of notebook runs still alive on either worker (a kernel inherits its
        worker's environment, and so the worker's name)."""
        names = set(self.cluster.workers)
        found = []
        for process in psutil.process_iter():
            try:
                if "ipykernel" in " ".join(process.cmdline()) and process.environ().get(WORKER_NAME) in names:
                    found.append(process)
            except psutil.Error:
                continue
        return found


@pytest.fixture(scope="module")
def scene(s3_server: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    ensure_python3_kernel()
    folder = tmp_path_factory.mktemp("celery")
    bucket = s3_server.create_bucket(new_bucket_name())
    area = Area()
    s3_server.store(bucket).put(f"{area.published}/{NOTEBOOK}", gated_notebook())
    gates = folder / "gates"
    for name in ("fan_out", "fails", "timeout", "stopped", "killed"):
        (gates / name).mkdir(parents=True)
    dags = folder / "dags"
    dags.mkdir()
    # The example DAG as shipped, its parameter sets given when triggered.
    shutil.copy(REPO / "dags" / f"{FAN_OUT_DAG}.py", dags)
    (dags / "fails.py").write_text(dag_file("fails", parameters={"x": 5, "fail": True}))
    # Never released: the task's execution_timeout ends it.
    timeout = {"x": 7, "gate": str(gates / "timeout"), "release": str(gates / "timeout" / "never")}
    (dags / "timeout.py").write_text(dag_file("timeout", parameters=timeout, timeout=10))
    stopped = {"x": 10, "gate": str(gates / "stopped"), "release": str(gates / "stopped" / "never")}
    (dags / "stopped.py").write_text(dag_file("stopped", parameters=stopped))
    killed = {"x": 20, "gate": str(gates / "killed"), "release": str(gates / "killed" / "release")}
    (dags / "killed.py").write_text(dag_file("killed", parameters=killed, retries=1))
    connection = {
        "conn_type": "aws",
        "login": s3_server.access_key,
        "password": s3_server.secret_key,
        "extra": {
            "endpoint_url": s3_server.endpoint_url,
            "region_name": "us-east-1",
            "bucket": bucket,
            "published_prefix": area.published,
            "runs_prefix": area.runs,
        },
    }
    cluster = AirflowCluster(folder / "cluster", dags=dags, connection=connection, workers=len(WORKERS))
    try:
        cluster.start()
    except StackError as e:
        pytest.fail(f"the Celery cluster did not start: {e}")
    try:
        yield Scene(cluster, s3_server, bucket, area, gates)
    finally:
        cluster.stop()


def started_in(gate: Path) -> list[str]:
    return sorted(path.name for path in gate.glob("started-*"))


# -- fan-out over both workers --------------------------------------------------------------


def test_mapped_runs_spread_over_both_workers_each_with_its_own_output(scene: Scene) -> None:
    cluster = scene.cluster
    parameter_sets = [{"x": x, "gate": str(scene.gates / "fan_out"), "together": 2} for x in FAN_OUT]
    run_id = cluster.trigger(FAN_OUT_DAG, {"notebook_key": NOTEBOOK, "parameter_sets": parameter_sets})
    assert cluster.wait_for_run(FAN_OUT_DAG, run_id) == "success"

    instances = [ti for ti in cluster.task_instances(FAN_OUT_DAG, run_id) if ti["task_id"] == "run_notebook"]
    assert sorted(ti["map_index"] for ti in instances) == list(range(len(FAN_OUT)))
    assert all(ti["state"] == "success" and ti["try_number"] == 1 for ti in instances)
    # The first two runs waited for each other, and a worker runs one task at a time: the
    # runs overlapped, so both workers ran some.
    hosts = {ti["map_index"]: ti["hostname"] for ti in instances}
    print(f"{FAN_OUT_DAG} {run_id}: map index -> worker: {hosts}")
    assert set(hosts.values()) == set(WORKERS)
    # The notebooks' own record of where they ran agrees with Airflow's.
    started = started_in(scene.gates / "fan_out")
    for ti in instances:
        x = FAN_OUT[ti["map_index"]]
        assert any(name.startswith(f"started-{x}-{ti['hostname']}-") for name in started), (x, started)

    # One executed notebook per mapped run, each under its own key, none overwritten.
    outputs = scene.outputs(FAN_OUT_DAG)
    assert len(outputs) == len(FAN_OUT)
    for index, x in enumerate(FAN_OUT):
        (key,) = [k for k in outputs if f"/run_notebook/map-{index}/try-1/" in k]
        (version,) = outputs[key]
        assert version[metadata.STATUS] == "succeeded"
        assert json.loads(version[metadata.PARAMETERS])["x"] == x
        assert version[metadata.AIRFLOW["map_index"]] == str(index)
        assert version[metadata.AIRFLOW["try_number"]] == "1"
        assert version[metadata.AIRFLOW["run_id"]] == run_id

    # Nothing left on the workers: no temporary folders, kernel files or kernels.
    for name in WORKERS:
        assert scene.worker(name).leftovers() == [], name
    assert scene.running_kernels() == []


# -- a notebook that fails --------------------------------------------------------------------


def test_a_failed_notebook_is_uploaded_marked_failed_and_leaves_nothing_behind(scene: Scene) -> None:
    cluster = scene.cluster
    run_id = cluster.trigger("fails")
    assert cluster.wait_for_run("fails", run_id) == "failed"
    (ti,) = cluster.task_instances("fails", run_id)
    assert ti["state"] == "failed" and ti["hostname"] in WORKERS

    outputs = scene.outputs("fails")
    (key,) = outputs
    assert "/try-1/" in key
    (version,) = outputs[key]
    assert version[metadata.STATUS] == "failed"
    log = scene.worker(ti["hostname"]).task_log_text()
    assert "x=5 failed on purpose" in log
    for name in WORKERS:
        assert scene.worker(name).leftovers() == [], name
    assert scene.running_kernels() == []


def test_a_timed_out_task_fails_as_a_timeout_and_leaves_nothing_behind(scene: Scene) -> None:
    cluster = scene.cluster
    run_id = cluster.trigger("timeout")
    assert cluster.wait_for_run("timeout", run_id) == "failed"
    (ti,) = cluster.task_instances("timeout", run_id)
    log = scene.worker(ti["hostname"]).task_log_text()
    # Airflow calls on_kill after a timeout too: the timeout stays what the task failed with.
    assert "AirflowTaskTimeout" in log
    assert "NotebookStoppedError" not in log
    for name in WORKERS:
        assert scene.worker(name).leftovers() == [], name
    assert scene.running_kernels() == []


# -- a task stopped from Airflow (SIGTERM) ----------------------------------------------------


def test_a_task_stopped_from_airflow_uploads_what_ran_and_leaves_nothing_behind(scene: Scene) -> None:
    cluster = scene.cluster
    gate = scene.gates / "stopped"
    run_id = cluster.trigger("stopped")
    cluster.wait(lambda: started_in(gate), 300, "the notebook did not start")
    (ti,) = cluster.task_instances("stopped", run_id)
    worker = scene.worker(ti["hostname"])
    # While the notebook runs, its kernel and temporary folder are there to be found.
    assert scene.running_kernels()
    assert any(path.name.startswith("bookstore-run-") for path in worker.leftovers())

    # Marking the running task failed makes its worker's task supervisor stop it (SIGTERM).
    cluster.api(
        "PATCH",
        f"dags/stopped/dagRuns/{run_id}/taskInstances/run",
        json={"new_state": "failed"},
    )
    assert cluster.wait_for_run("stopped", run_id) == "failed"

    def uploaded() -> dict[str, list[dict[str, Any]]]:
        return scene.outputs("stopped")

    # The notebook as far as it ran is in S3, marked failed, under the try's own key.
    outputs = cluster.wait(uploaded, 60, "the stopped run's notebook was not uploaded")
    (key,) = outputs
    assert "/try-1/" in key
    (version,) = outputs[key]
    assert version[metadata.STATUS] == "failed"
    body = scene.s3.client().get_object(Bucket=scene.bucket, Key=key)["Body"].read()
    assert "first cell of x=10" in body.decode()

    # The task's process ended, and took its kernel and temporary files with it.
    cluster.wait(lambda: not scene.running_kernels(), 60, "the stopped run's kernel is still running")
    cluster.wait(lambda: worker.leftovers() == [], 60, "the stopped run left files on its worker")


# -- a worker lost mid-run (SIGKILL) ---------------------------------------------------------


def test_a_task_on_a_killed_worker_is_retried_on_the_other_and_cell_output_streams(scene: Scene) -> None:
    cluster = scene.cluster
    gate = scene.gates / "killed"
    run_id = cluster.trigger("killed")
    cluster.wait(lambda: started_in(gate), 300, "the notebook did not start")
    (first,) = cluster.task_instances("killed", run_id)
    lost = scene.worker(first["hostname"])
    (survivor,) = [scene.worker(name) for name in WORKERS if name != lost.name]

    # The notebook waits in its second cell; its first cell's output is already in the
    # task's log on the worker, while the notebook runs.
    cluster.wait(
        lambda: "first cell of x=20" in lost.task_log_text(),
        60,
        "the first cell's output did not reach the task log while the notebook ran",
    )
    assert "x=20 squared" not in lost.task_log_text()

    cluster.kill_worker(lost.name)
    (gate / "release").touch()
    assert cluster.wait_for_run("killed", run_id) == "success"

    tries = cluster.tries("killed", run_id, "run")
    print(
        f"killed {run_id}: tries -> worker: {[(t['try_number'], t['hostname'], t['state']) for t in tries]}"
    )
    assert [(t["try_number"], t["hostname"]) for t in tries] == [(1, lost.name), (2, survivor.name)]
    assert tries[-1]["state"] == "success"

    # The retry's output has its own key; the killed try could write nothing, and nothing
    # of the retry replaced anything.
    outputs = scene.outputs("killed")
    (key,) = outputs
    assert "/try-2/" in key
    (version,) = outputs[key]
    assert version[metadata.STATUS] == "succeeded"
    assert version[metadata.AIRFLOW["try_number"]] == "2"
    # The killed try's run record, written when it started, was marked failed by the retry.
    records = scene.run_records("killed")
    assert {n: r["status"] for n, r in records.items()} == {1: "failed", 2: "succeeded"}
    assert "first cell of x=20" in survivor.task_log_text()
    assert "x=20 squared is 400" in survivor.task_log_text()
    assert survivor.leftovers() == []
