"""Publish -> run, with a running Airflow: every publication starts one DAG run of exactly
the version published, from JupyterLab's REST API or the ``bookstore`` command, also when
the triggerer was stopped meanwhile; the run's lineage is an asset event, and Jupyter lists
the runs.

One Airflow for the module (scheduler, dag-processor, triggerer, api-server, as ``make run``
starts them), a Jupyter server archiving to the same bucket, and the session's SeaweedFS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from devtools.airflow import AirflowServices, connection_json
from devtools.seaweedfs import SeaweedFS
from tests.helpers.jupyter_process import JupyterServer, with_parameters
from tests.helpers.notebooks import ensure_python3_kernel

pytestmark = pytest.mark.airflow

NAME = f"reports/on-publish-{uuid.uuid4().hex[:6]}.ipynb"
NOTEBOOK_KEY = f"kylek/notebooks/{NAME}"
DAG_ID = "test_on_publish"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}

DAG_FILE = f"""
from airflow.sdk import DAG
from bookstore.airflow.assets import executed_notebook_asset, published_notebook_asset
from bookstore.airflow.operators import PublishedNotebookOperator

with DAG({DAG_ID!r}, schedule=[published_notebook_asset({NOTEBOOK_KEY!r}, poll_interval=1)],
         is_paused_upon_creation=False, max_active_runs=4):
    PublishedNotebookOperator(task_id="run", notebook_key={NOTEBOOK_KEY!r}, parameters={{"x": 3}},
                              outlets=[executed_notebook_asset({NOTEBOOK_KEY!r})])
"""


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, s3_server: SeaweedFS, module_bucket: str
) -> Iterator[AirflowServices]:
    ensure_python3_kernel()
    folder = tmp_path_factory.mktemp("airflow")
    dags = folder / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(textwrap.dedent(DAG_FILE))
    services = AirflowServices(
        folder,
        s3_server.endpoint_url,
        s3_server.access_key,
        s3_server.secret_key,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW_CONN_BOOKSTORE_DEFAULT=connection_json(
            s3_server.endpoint_url, s3_server.access_key, s3_server.secret_key, module_bucket
        ),
    )
    try:
        services.start()
        yield services
    finally:
        services.stop()


def save(jupyter: JupyterServer, source: str) -> None:
    """Save the notebook: a ``parameters`` cell setting ``x``, then ``source``."""
    jupyter.request("PUT", f"/api/contents/{NAME.rpartition('/')[0]}", json={"type": "directory"})
    jupyter.save(NAME, with_parameters(source, language_info={"name": "python"}, **KERNEL))


def publish(jupyter: JupyterServer) -> str:
    answer = jupyter.request("PUT", f"/api/bookstore/publish/{NAME}", json={})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["version_id"])


def asset_id(airflow: AirflowServices, uri: str) -> int:
    def find() -> int | None:
        assets = airflow.get("/assets", uri_pattern=uri)["assets"]
        return next((a["id"] for a in assets if a["uri"] == uri), None)

    return airflow.wait(find, 180, f"the asset {uri} was not registered", poll=1)


def watching(airflow: AirflowServices, published_asset: int) -> bool:
    """Whether the watcher has started (it records where it starts from)."""
    entries = airflow.get(f"/assets/{published_asset}/state-store")["asset_state_store"]
    return any(entry["key"] == "bookstore_announced" for entry in entries)


def finished_runs(airflow: AirflowServices, count: int, timeout: float = 300) -> list[dict[str, Any]]:
    """The DAG's runs once ``count`` of them have finished (and none is still going)."""

    def done() -> list[dict[str, Any]] | None:
        runs = airflow.get(f"/dags/{DAG_ID}/dagRuns", order_by="run_after")["dag_runs"]
        states = [run["state"] for run in runs]
        return runs if len(runs) >= count and all(s in ("success", "failed") for s in states) else None

    return airflow.wait(done, timeout, f"{count} runs of {DAG_ID} did not finish", poll=2)


def ran(airflow: AirflowServices, run: dict[str, Any]) -> dict[str, Any]:
    dag_run = f"/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}"
    return dict(airflow.get(f"{dag_run}/taskInstances/run/xcomEntries/return_value")["value"])


def triggering_versions(airflow: AirflowServices, run: dict[str, Any]) -> list[str]:
    path = f"/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}/upstreamAssetEvents"
    return [event["extra"]["payload"]["version_id"] for event in airflow.get(path)["asset_events"]]


@pytest.mark.timeout(1200)
def test_each_publication_runs_exactly_its_version(
    airflow: AirflowServices, server: JupyterServer, module_bucket: str, s3_server: SeaweedFS
) -> None:
    published_uri = f"s3://{module_bucket}/published/{NOTEBOOK_KEY}"
    published_asset = asset_id(airflow, published_uri)
    airflow.wait(lambda: watching(airflow, published_asset), 180, "the watcher did not start", poll=1)

    # Two publications in quick succession: two runs, each of its own version.
    save(server, "print('second', x)")
    second = publish(server)
    save(server, "print('third', x)")
    third = publish(server)
    runs = finished_runs(airflow, 2)
    assert len(runs) == 2, runs
    assert [run["state"] for run in runs] == ["success", "success"]
    assert [ran(airflow, run)["source_version_id"] for run in runs] == [second, third]
    assert [triggering_versions(airflow, run) for run in runs] == [[second], [third]]

    # The executed notebook says which version ran, and what it printed.
    store = s3_server.store(module_bucket)
    result = ran(airflow, runs[1])
    executed = store.get(result["output_key"], result["output_version_id"]).body.decode()
    assert "third 3" in executed and third in executed

    # Lineage: the executed notebook's asset got an event per run, with the run in its extra.
    executed_asset = asset_id(airflow, f"s3://{module_bucket}/runs/@records/{NOTEBOOK_KEY}")
    events = airflow.get("/assets/events", asset_id=executed_asset, order_by="timestamp")["asset_events"]
    # (The two runs may finish in either order.)
    lineage = {event["extra"]["source_version_id"]: event["extra"] for event in events}
    assert len(events) == 2 and set(lineage) == {second, third}
    assert lineage[third]["output_key"] == result["output_key"]
    assert lineage[third]["output_version_id"] == result["output_version_id"]
    assert lineage[third]["parameters"] == {"x": 3}
    assert lineage[third]["notebook_key"] == NOTEBOOK_KEY

    # Jupyter lists both runs (newest started first), without Airflow credentials.
    listed = server.request("GET", f"/api/bookstore/runs/{NAME}").json()["runs"]
    assert [r["started_at"] for r in listed] == sorted((r["started_at"] for r in listed), reverse=True)
    by_version = {r["source_version_id"]: r for r in listed}
    assert len(listed) == 2 and set(by_version) == {second, third}
    assert all((r["status"], r["published_event"]) == ("succeeded", True) for r in listed)
    assert by_version[third]["airflow"]["dag_id"] == DAG_ID
    assert by_version[third]["airflow"]["run_id"] == runs[1]["dag_run_id"]

    # Published from the command line: a run too.
    save(server, "print('from the CLI', x)")
    cli = Path(sys.executable).parent / "bookstore"
    done = subprocess.run(
        [str(cli), "publish", NAME, "--config", str(server.config_file), "--json"],
        cwd=server.root_dir,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from_cli = json.loads(done.stdout)["version_id"]
    runs = finished_runs(airflow, 3)
    assert ran(airflow, runs[2])["source_version_id"] == from_cli

    # The triggerer stops; a publication meanwhile runs once it is back, exactly once.
    airflow.stop("triggerer")
    save(server, "print('while the triggerer was away', x)")
    while_away = publish(server)
    airflow.start("triggerer")
    runs = finished_runs(airflow, 4)
    assert ran(airflow, runs[3])["source_version_id"] == while_away
    assert len(airflow.get(f"/dags/{DAG_ID}/dagRuns")["dag_runs"]) == 4
