"""Runs in Jupyter: ``GET /api/bookstore/runs/<path>`` and comparing two runs, over real HTTP
to a real ``jupyter server``, with runs made by the runner Airflow and ``bookstore run`` use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from bookstore.library import Library
from bookstore.runner import NotebookFailedError, run_published
from bookstore.runs import RunRecord, airflow_links
from devtools.seaweedfs import SeaweedFS
from tests.helpers.jupyter_process import JupyterServer, with_parameters
from tests.helpers.notebooks import ensure_python3_kernel

WORKSPACE = "workspace/kylek/notebooks"
PUBLISHED = "published/kylek/notebooks"
AIRFLOW = "http://airflow.example:8080/"


@pytest.fixture(scope="module")
def jupyter_config_extra() -> str:
    return f"\nc.Bookstore.airflow_url = {AIRFLOW!r}\n"


@pytest.fixture(scope="module")
def library(s3_server: SeaweedFS, module_bucket: str) -> Library:
    """The bucket as Airflow's connection sees it: notebook keys under ``published``."""
    ensure_python3_kernel()
    return Library(s3_server.store(module_bucket), published_prefix="published")


@pytest.fixture
def name() -> str:
    return f"t{uuid.uuid4().hex[:8]}/mine.ipynb"


def publish(server: JupyterServer, path: str, source: str) -> str:
    folder = path.rpartition("/")[0]
    server.request("PUT", f"/api/contents/{folder}", json={"type": "directory"})
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    server.save(path, with_parameters(source, language_info={"name": "python"}, **kernel))
    answer = server.request("PUT", f"/api/bookstore/publish/{path}", json={})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["version_id"])


def runs(server: JupyterServer, path: str, **params: Any) -> dict[str, Any]:
    answer = server.request("GET", f"/api/bookstore/runs/{path}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_runs_of_published_versions_are_listed_newest_first_with_their_notebooks(
    server: JupyterServer, library: Library, name: str
) -> None:
    notebook_key = f"kylek/notebooks/{name}"
    first = publish(server, name, "print('first', x)")
    task = {
        "dag_id": "reports",
        "run_id": "manual__2026-11-28T00:00:00+00:00",
        "task_id": "run",
        "try_number": 1,
    }
    by_airflow = run_published(
        library, notebook_key, parameters={"x": 5}, airflow=task, kernel_name="python3"
    )
    second = publish(server, name, "raise ValueError('boom 2')")
    with pytest.raises(NotebookFailedError) as failed:
        run_published(library, notebook_key)
    by_hand = failed.value.result
    assert by_hand is not None

    listed = runs(server, name)

    assert listed["path"] == name and listed["notebook_key"] == notebook_key
    assert listed["key"] == f"{PUBLISHED}/{name}" and listed["next_cursor"] is None
    newest, oldest = listed["runs"]
    assert (newest["run_id"], newest["status"], newest["succeeded"]) == (by_hand.run_id, "failed", False)
    assert newest["source_version_id"] == second and newest["error"].startswith("ValueError: boom 2")
    assert (newest["airflow"], newest["airflow_url"], newest["viewer_url"]) == (None, None, None)
    assert (oldest["run_id"], oldest["status"], oldest["succeeded"]) == (by_airflow.run_id, "succeeded", True)
    assert oldest["source_version_id"] == first and oldest["parameters"] == {"x": 5}
    assert oldest["output_key"] == by_airflow.output_key
    assert oldest["output_version_id"] == by_airflow.output_version_id
    assert oldest["airflow"] == task
    assert oldest["airflow_url"] == (
        "http://airflow.example:8080/dags/reports/runs/manual__2026-11-28T00%3A00%3A00%2B00%3A00/tasks/run"
    )
    assert oldest["viewer_url"].startswith("http://airflow.example:8080/bookstore/executed/runs/")
    # Paging: one at a time, the cursor leads to the older run.
    page = runs(server, name, limit=1)
    assert [r["run_id"] for r in page["runs"]] == [by_hand.run_id]
    rest = runs(server, name, limit=1, cursor=page["next_cursor"])
    assert [r["run_id"] for r in rest["runs"]] == [by_airflow.run_id] and rest["next_cursor"] is None

    # One run, with its executed notebook: what ran, outputs included.
    one = runs(server, name, run_id=by_airflow.run_id)
    assert one["run"]["run_id"] == by_airflow.run_id
    outputs = [o.get("text", "") for cell in one["content"]["cells"] for o in cell.get("outputs", [])]
    assert "first 5\n" in outputs
    assert one["content"]["metadata"]["bookstore"]["source_version_id"] == first

    # Two runs' outputs compared with nbdime.
    answer = server.request(
        "GET",
        f"/api/bookstore/diff/{name}",
        params={"base_run_id": by_airflow.run_id, "remote_run_id": by_hand.run_id},
    )
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    assert compared["base_version"]["run_id"] == by_airflow.run_id
    assert compared["remote_version"]["output_version_id"] == by_hand.output_version_id
    assert compared["diff"], "two different runs compare as different"
    # What every run writes anew (timings, its own ids) is left out: only what ran differs.
    assert "papermill" not in compared["base"]["metadata"] and "bookstore" not in compared["base"]["metadata"]
    assert not any({"papermill", "execution"} & set(cell["metadata"]) for cell in compared["base"]["cells"])
    assert not [entry for entry in compared["diff"] if entry["key"] == "metadata"]


def test_a_notebook_never_run_has_no_runs(server: JupyterServer, name: str) -> None:
    assert runs(server, name) == {
        "path": name,
        "key": f"{PUBLISHED}/{name}",
        "notebook_key": f"kylek/notebooks/{name}",
        "runs": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"run_id": "20260101T000000000000Z-00000000"}, 404, "no run '20260101T000000000000Z-00000000'"),
        ({"run_id": "../../x"}, 400, "malformed"),
        ({"limit": "0"}, 400, "limit must be between 1 and 200"),
        ({"cursor": "garbage"}, 400, "start again without it"),
    ],
)
def test_bad_runs_requests_say_what_is_wrong(
    server: JupyterServer, name: str, params: dict[str, str], status: int, words: str
) -> None:
    answer = server.request("GET", f"/api/bookstore/runs/{name}", params=params)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]


def test_comparing_runs_needs_two_runs_and_nothing_else(server: JupyterServer, name: str) -> None:
    one = server.request("GET", f"/api/bookstore/diff/{name}", params={"base_run_id": "x"})
    both = server.request(
        "GET",
        f"/api/bookstore/diff/{name}",
        params={"base_run_id": "x", "remote_run_id": "y", "base_stage": "published"},
    )
    assert (one.status_code, both.status_code) == (400, 400)
    assert "remote_run_id" in one.json()["message"] and "not both" in both.json()["message"]


def test_a_record_pointing_outside_the_runs_prefix_is_not_followed(
    server: JupyterServer, library: Library, name: str
) -> None:
    notebook_key = f"kylek/notebooks/{name}"
    publish(server, name, "x = 1")
    record = library.runs.start(
        notebook_key=notebook_key,
        source_key=f"{PUBLISHED}/{name}",
        source_version_id=None,
        output_key=f"{WORKSPACE}/{name}",
        parameters={},
    )
    library.runs.write(record.finished(succeeded=True, output_version_id="v1"))

    answer = server.request("GET", f"/api/bookstore/runs/{name}", params={"run_id": record.run_id})

    assert answer.status_code == 400
    assert "outside the runs prefix" in answer.json()["message"]


def test_airflow_links_need_a_url_and_an_airflow_task() -> None:
    record = RunRecord(
        run_id="20261128T000000000000Z-00000000",
        notebook_key="a/b.ipynb",
        source_key="published/a/b.ipynb",
        source_version_id="v",
        output_key="runs/d/r/t/map-3/try-1/b.ipynb",
        started_at=datetime.now(UTC),
        output_version_id="o/1",
        airflow={"dag_id": "d", "run_id": "r", "task_id": "t", "try_number": 1, "map_index": 3},
    )
    assert airflow_links(record, None) == {"airflow_url": None, "viewer_url": None}
    assert airflow_links(record, "https://af/") == {
        "airflow_url": "https://af/dags/d/runs/r/tasks/t/mapped/3",
        "viewer_url": "https://af/bookstore/executed/runs/d/r/t/map-3/try-1/b.ipynb?version_id=o%2F1",
    }
