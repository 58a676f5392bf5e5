"""bookstore.runner: published notebooks run by key and version with real papermill kernels, on
the in-memory store (what reaches S3 itself is in test_cli_run.py and test_airflow.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import nbformat
import pytest

from bookstore.errors import InvalidPathError, InvalidRequestError, NotFoundError, VersionNotFoundError
from bookstore.library import PUBLISHED, Library
from bookstore.runner import NotebookFailedError, RunResult, default_output_key, run_published
from bookstore.runs import RunRecord
from tests.helpers.memory_store import MemoryStore
from tests.helpers.notebooks import (
    KEY,
    Area,
    cell_text,
    ensure_python3_kernel,
    executed,
    injected_parameters,
    metadata_parameters,
    parameterized_notebook,
)


@pytest.fixture(autouse=True, scope="module")
def python3_kernel() -> None:
    ensure_python3_kernel()


@pytest.fixture
def store(memory_store: MemoryStore) -> MemoryStore:
    """The runner's logic needs no S3 server."""
    return memory_store


@pytest.fixture
def published_twice(store: MemoryStore, area: Area) -> tuple[str, str]:
    """The same key published twice; returns (first, second) version ids."""
    first = store.put(area.key, parameterized_notebook("first"))
    second = store.put(area.key, parameterized_notebook("second"))
    assert first and second and first != second
    return first, second


def library(store: MemoryStore, area: Area) -> Library:
    return Library(store, published_prefix=area.published, runs_prefix=area.runs)


def run(store: MemoryStore, area: Area, notebook_key: str = KEY, **kwargs: Any) -> RunResult:
    return run_published(library(store, area), notebook_key, **kwargs)


def keys_under(store: MemoryStore, prefix: str) -> list[str]:
    return [item.key for item in store.list_keys(prefix).keys]


def test_latest_and_pinned_runs_execute_the_right_versions(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    first, second = published_twice

    latest = run(store, area, parameters={"x": 5})
    pinned = run(store, area, version_id=first, parameters={"x": 7, "run_date": "2026-03-04"})

    assert (latest.source_key, latest.source_version_id) == (area.key, second)
    assert (pinned.source_key, pinned.source_version_id) == (area.key, first)
    latest_nb = executed(store.get(latest.output_key, latest.output_version_id).body)
    pinned_nb = executed(store.get(pinned.output_key, pinned.output_version_id).body)
    assert "ran second with x = 5 run_date = unset" in cell_text(latest_nb)
    assert "ran first with x = 7 run_date = 2026-03-04" in cell_text(pinned_nb)
    assert injected_parameters(pinned_nb) == {"x": 7, "run_date": "2026-03-04"}
    # Two runs without an output key never overwrite each other.
    assert latest.output_key != pinned.output_key
    assert latest.output_key.startswith(f"{area.runs}/manual/")
    assert latest.output_key.endswith("/mine.ipynb")


def test_output_records_which_version_ran_with_which_parameters(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    first, _ = published_twice
    output_key = f"{area.runs}/reports/today.ipynb"

    result = run(
        store,
        area,
        version_id=first,
        parameters={"x": 3, "run_date": "été"},
        output_key=output_key,
        airflow={"dag_id": "daily", "run_id": "manual__1", "task_id": "report", "try_number": 2},
    )

    info = store.head(output_key)
    assert info.version_id == result.output_version_id
    assert info.metadata["bookstore-source-key"] == area.key
    assert info.metadata["bookstore-source-version-id"] == first
    assert metadata_parameters(dict(info.metadata)) == {"x": 3, "run_date": "été"}
    assert info.metadata["bookstore-status"] == "succeeded"
    assert info.metadata["bookstore-airflow-dag-id"] == "daily"
    assert info.metadata["bookstore-airflow-try-number"] == "2"
    assert "bookstore-airflow-map-index" not in info.metadata
    nb = executed(store.get(output_key).body)
    # The executed notebook names its S3 source, not a temporary file or a copy of itself.
    assert nb.metadata["papermill"]["input_path"] == f"s3://{store.bucket}/{area.key}?versionId={first}"
    assert nb.metadata["papermill"]["output_path"] == f"s3://{store.bucket}/{output_key}"
    assert nb.metadata["bookstore"]["source_version_id"] == first
    assert result.as_dict() == {
        "source_key": area.key,
        "source_version_id": first,
        "output_key": output_key,
        "output_version_id": result.output_version_id,
        "parameters": {"x": 3, "run_date": "été"},
        "run_id": result.run_id,
        "parameters_forced": False,
    }
    json.dumps(result.as_dict())
    # The run is recorded where Jupyter reads it, with the same facts.
    lib = library(store, area)
    [record] = lib.runs.page(lib.notebook_key(KEY)).runs
    assert record.run_id == result.run_id and nb.metadata["bookstore"]["run_id"] == result.run_id
    assert (record.status, record.succeeded, record.error) == ("succeeded", True, None)
    assert (record.source_key, record.source_version_id) == (area.key, first)
    assert (record.output_key, record.output_version_id) == (output_key, result.output_version_id)
    assert record.parameters == {"x": 3, "run_date": "été"}
    assert record.airflow == {"dag_id": "daily", "run_id": "manual__1", "task_id": "report", "try_number": 2}
    assert record.finished_at is not None and record.finished_at >= record.started_at
    assert lib.runs.get(lib.notebook_key(KEY), result.run_id) == record


def test_runs_are_listed_newest_first_page_by_page(store: MemoryStore, area: Area) -> None:
    store.put(area.key, parameterized_notebook("only"))
    results = [run(store, area, parameters={"x": x}) for x in (1, 2, 3)]
    lib = library(store, area)

    first = lib.runs.page(lib.notebook_key(KEY), limit=2)
    second = lib.runs.page(lib.notebook_key(KEY), limit=2, cursor=first.next_cursor)

    assert [r.parameters["x"] for r in first.runs + second.runs] == [3, 2, 1]
    assert second.next_cursor is None
    assert [r.run_id for r in first.runs + second.runs] == [r.run_id for r in reversed(results)]
    with pytest.raises(NotFoundError, match="no run"):
        lib.runs.get(lib.notebook_key(KEY), "20260101T000000000000Z-00000000")
    with pytest.raises(InvalidRequestError, match="malformed"):
        lib.runs.get(lib.notebook_key(KEY), "../../etc")


def test_a_retry_closes_the_record_its_killed_try_left_running(store: MemoryStore, area: Area) -> None:
    version = store.put(area.key, parameterized_notebook("only"))
    lib = library(store, area)
    task = {"dag_id": "daily", "run_id": "scheduled__1", "task_id": "report", "map_index": None}

    def started_only(task_id: str) -> RunRecord:
        """What a worker killed mid-run leaves behind: the record of its start, nothing else."""
        return lib.runs.start(
            notebook_key=lib.notebook_key(KEY),
            source_key=area.key,
            source_version_id=version,
            output_key=f"{area.runs}/daily/scheduled__1/{task_id}/try-1/mine.ipynb",
            parameters={},
            airflow={**task, "task_id": task_id, "try_number": 1},
        )

    killed = started_only("report")
    other_task = started_only("other")

    retry = run(store, area, airflow={**task, "try_number": 2})

    runs = {r.run_id: r for r in lib.runs.page(lib.notebook_key(KEY)).runs}
    assert runs[retry.run_id].status == "succeeded"
    assert runs[killed.run_id].status == "failed"
    assert "try 1 stopped without finishing" in (runs[killed.run_id].error or "")
    # Another task's run is not this retry's business.
    assert runs[other_task.run_id].status == "running"


def test_unknown_version_fails_naming_it_and_writes_nothing(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    with pytest.raises(VersionNotFoundError) as caught:
        run(store, area, version_id="no-such-version-0123")

    assert "no-such-version-0123" in str(caught.value)
    assert area.key in str(caught.value)
    assert keys_under(store, area.runs) == []


def test_unknown_key_fails_naming_it(store: MemoryStore, area: Area) -> None:
    with pytest.raises(NotFoundError) as caught:
        run(store, area, "kylek/notebooks/never-published.ipynb")

    assert f"{area.published}/kylek/notebooks/never-published.ipynb" in str(caught.value)


@pytest.mark.parametrize(
    "hostile",
    ["../workspace/kylek/secret.ipynb", "%2e%2e/workspace/secret.ipynb", "/etc/passwd", "a/../../b.ipynb"],
)
def test_a_key_leaving_the_published_prefix_is_refused(store: MemoryStore, area: Area, hostile: str) -> None:
    store.put(f"{area.namespace}/workspace/secret.ipynb", parameterized_notebook("secret"))

    with pytest.raises(InvalidPathError) as caught:
        run(store, area, hostile)

    assert f"must stay under the published prefix '{area.published}'" in str(caught.value)
    assert keys_under(store, area.runs) == []


def test_output_key_may_not_replace_a_published_notebook(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    _, second = published_twice

    with pytest.raises(InvalidPathError, match="published prefix"):
        run(store, area, output_key=area.key)

    assert store.head(area.key).version_id == second


def test_a_failing_notebook_has_its_output_uploaded_before_the_error(store: MemoryStore, area: Area) -> None:
    version = store.put(area.key, parameterized_notebook("failing", raises="boom at 7"))
    output_key = f"{area.runs}/failed.ipynb"

    with pytest.raises(NotebookFailedError) as caught:
        run(store, area, parameters={"x": 7}, output_key=output_key)

    error = caught.value
    assert "ValueError: boom at 7" in str(error)
    assert output_key in str(error) and str(version) in str(error)
    assert isinstance(error.result, RunResult)
    assert error.result.source_version_id == version
    stored = store.get(output_key, error.result.output_version_id)
    assert stored.info.metadata["bookstore-status"] == "failed"
    text = cell_text(executed(stored.body))
    # What ran before the error, and the error itself, are both in the uploaded notebook.
    assert "ran failing with x = 7" in text
    assert "ValueError: boom at 7" in text
    lib = library(store, area)
    [record] = lib.runs.page(lib.notebook_key(KEY)).runs
    assert (record.run_id, record.status, record.succeeded) == (error.result.run_id, "failed", False)
    assert record.output_version_id == error.result.output_version_id
    assert record.error is not None and record.error.startswith("ValueError: boom at 7")


def test_the_task_log_is_clean_and_numbers_cells_as_papermill_does(
    store: MemoryStore, area: Area, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    nb = nbformat.reads(parameterized_notebook("failing", raises="no data").decode(), as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# A title: no execution count"))
    store.put(area.key, nbformat.writes(nb).encode())
    caplog.set_level(logging.INFO, logger="papermill")

    with pytest.raises(NotebookFailedError) as caught:
        run(store, area, parameters={"x": 2}, output_key=f"{area.runs}/numbered.ipynb")

    # title, parameters, injected parameters, print, raise: the fifth cell failed (its
    # execution count is 4).
    assert "ValueError: no data (cell 5)" in str(caught.value)
    assert "Executing Cell 5" in caplog.text and "Executing Cell 6" not in caplog.text
    # The kernel writes to the task's stderr, which Airflow logs as errors.
    assert "without encryption" not in capfd.readouterr().err


def test_parameters_too_long_for_s3_metadata_stay_in_the_notebook(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    long_text = "y" * 3000

    result = run(store, area, parameters={"x": 1, "run_date": long_text})

    info = store.head(result.output_key)
    assert "too long" in info.metadata["bookstore-parameters"]
    assert injected_parameters(executed(store.get(result.output_key).body))["run_date"] == long_text


def test_latest_version_id_follows_publishing(
    store: MemoryStore, area: Area, published_twice: tuple[str, str]
) -> None:
    _, second = published_twice
    assert library(store, area).latest_version_id(KEY) == second
    third = store.put(area.key, parameterized_notebook("third"))
    assert library(store, area).latest_version_id(KEY) == third


def test_default_output_key_keeps_run_ids_in_one_folder() -> None:
    key = default_output_key(KEY, ["daily", "manual__2026-03-04T00:00:00+00:00", "a/b", "try-2"], "runs")
    assert key == "runs/daily/manual__2026-03-04T00:00:00+00:00/a%2Fb/try-2/mine.ipynb"
    assert default_output_key("x.ipynb", ["d"], "/team/runs/") == "team/runs/d/x.ipynb"


def test_published_key_uses_the_configured_prefix(store: MemoryStore) -> None:
    assert Library(store, published_prefix="/published/").key(KEY, PUBLISHED) == f"published/{KEY}"
    with pytest.raises(InvalidPathError, match="must stay under the published prefix"):
        Library(store).key("..", PUBLISHED)
