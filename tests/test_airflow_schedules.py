"""dags/bookstore_schedules.py: schedule documents in a real SeaweedFS rendered as DAGs by real
Airflow 3 (its DagBag, as the dag-processor parses), run with ``dag.test()``."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from bookstore.s3 import S3Store
from bookstore.schedules import ScheduleBook, parse_schedule
from devtools.airflow import connection_json
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.notebooks import cell_text, executed

pytestmark = pytest.mark.airflow

KEY = "kylek/notebooks/analysis/report.ipynb"


def report_notebook() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1\nlabel = 'none'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('report x =', x, 'label =', label)"),
    ]
    return nbformat.writes(nb).encode()


@pytest.fixture
def area(s3_server: SeaweedFS) -> Iterator[dict[str, Any]]:
    bucket = s3_server.create_bucket(new_bucket_name())
    yield {"bucket": bucket, "store": s3_server.store(bucket)}


@pytest.fixture
def connection(
    airflow_home: Path,
    s3_server: SeaweedFS,
    area: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> str:
    value = connection_json(
        s3_server.endpoint_url, s3_server.access_key, s3_server.secret_key, area["bucket"]
    )
    monkeypatch.setenv("AIRFLOW_CONN_BOOKSTORE_DEFAULT", value)
    monkeypatch.setenv("BOOKSTORE_SCHEDULES_CACHE", str(tmp_path / "schedules-cache.json"))
    return value


def schedule(store: S3Store, **body: Any) -> Any:
    found = parse_schedule(body, body.pop("notebook_key", KEY), by="kylek")
    ScheduleBook(store, "schedules").put(found)
    return found


@contextlib.contextmanager
def logged(name: str = "bookstore") -> Iterator[list[str]]:
    """What ``name``'s loggers log meanwhile, whatever logging set-up Airflow made earlier in
    this process (its dictConfig may have disabled loggers that existed then)."""
    messages: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    loggers = [logging.getLogger(n) for n in (name, f"{name}.schedules", f"{name}.airflow.schedules")]
    saved = [(logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
    loggers[0].setLevel(logging.INFO)
    loggers[0].addHandler(handler)
    try:
        yield messages
    finally:
        loggers[0].removeHandler(handler)
        for logger, (level, disabled) in zip(loggers, saved, strict=True):
            logger.setLevel(level)
            logger.disabled = disabled


def parse(airflow_home: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(airflow_home / "dags" / "bookstore_schedules.py"))


def test_each_schedule_is_a_dag_as_its_document_says(
    airflow_home: Path, connection: str, area: dict[str, Any]
) -> None:
    store = area["store"]
    store.put(f"published/{KEY}", report_notebook())
    daily = schedule(
        store,
        name="daily",
        cron="0 6 * * *",
        timezone="Europe/Paris",
        parameters={"x": 3},
        retries=2,
        timeout=30,
    )
    both = schedule(store, name="both", cron="*/5 * * * *", on_publish=True, notify=["kylek@example.com"])
    publications = schedule(store, name="on-publish", on_publish=True)
    off = schedule(store, name="off", cron="0 7 * * *", enabled=False)
    store.put("schedules/kylek/notebooks/analysis/report.ipynb/broken.json", b"{")

    with logged() as messages:
        bag = parse(airflow_home)
    said = "\n".join(messages)

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        daily.dag_id,
        both.dag_id,
        publications.dag_id,
        off.dag_id,
        "bookstore_run_requests",
    }
    dag = bag.dags[daily.dag_id]
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 6 * * *", "Europe/Paris")
    assert dag.is_paused_upon_creation is False and dag.catchup is False
    assert dag.start_date == daily.created_at  # no cron time before the schedule was made runs
    assert {"bookstore", "bookstore-schedule", "kylek"} <= set(dag.tags)
    assert "analysis/report.ipynb (daily): at 06:00 every day (Europe/Paris)" in dag.description
    task = dag.get_task("run")
    assert (task.notebook_key, task.parameters, task.retries, task.owner) == (KEY, {"x": 3}, 2, "kylek")
    assert task.execution_timeout.total_seconds() == 30 * 60
    assert task.template_fields == ()
    [outlet] = task.outlets
    assert outlet.uri == f"s3://{area['bucket']}/runs/@records/{KEY}"
    assert type(bag.dags[both.dag_id].timetable).__name__ == "AssetOrTimeSchedule"
    assert bag.dags[both.dag_id].get_task("run").on_failure_callback
    [asset] = bag.dags[publications.dag_id].timetable.asset_condition.objects
    assert asset.uri == f"s3://{area['bucket']}/published/{KEY}"
    disabled = bag.dags[off.dag_id]
    # Runs on no schedule, and is not paused: enabling it again needs nobody in Airflow.
    assert disabled.timetable.can_be_scheduled is False and disabled.is_paused_upon_creation is False
    assert "not rendering schedules/kylek/notebooks/analysis/report.ipynb/broken.json" in said
    assert "is not JSON" in said


def test_when_s3_fails_during_a_parse_the_dags_rendered_last_time_stay(
    airflow_home: Path,
    private_s3: SeaweedFS,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    store = private_s3.store(bucket)
    monkeypatch.setenv(
        "AIRFLOW_CONN_BOOKSTORE_DEFAULT",
        connection_json(private_s3.endpoint_url, private_s3.access_key, private_s3.secret_key, bucket),
    )
    monkeypatch.setenv("BOOKSTORE_SCHEDULES_CACHE", str(tmp_path / "cache.json"))
    store.put(f"published/{KEY}", report_notebook())
    kept = [schedule(store, name=f"s{n}", cron=f"{n} 6 * * *") for n in range(3)]
    before = set(parse(airflow_home).dag_ids)

    private_s3.pause()  # frozen: every request hangs until it times out
    try:
        with logged() as messages:
            during = parse(airflow_home)
    finally:
        private_s3.resume()

    assert before == {*(s.dag_id for s in kept), "bookstore_run_requests"}
    assert set(during.dag_ids) == before
    assert during.import_errors == {}
    said = "\n".join(messages)
    assert "Bookstore schedules: could not list schedules/ in bucket" in said
    assert "did not answer within" in said and "rendering the 3 schedule documents read before" in said
    # Gone from the bucket: gone from Airflow at the next parse.
    store.delete(ScheduleBook(store, "schedules").key(KEY, "s0"))
    assert kept[0].dag_id not in parse(airflow_home).dag_ids


def test_parameters_from_a_schedule_reach_the_notebook_verbatim_never_rendered(
    airflow_home: Path, connection: str, area: dict[str, Any]
) -> None:
    store = area["store"]
    store.put(f"published/{KEY}", report_notebook())
    literal = "{{ conn.bookstore_default.password }} {{ var.value.x }}"
    made = schedule(store, name="jinja", cron="0 6 * * *", parameters={"x": 7, "label": literal})

    dag_run = parse(airflow_home).dags[made.dag_id].test()

    assert dag_run.state == "success"
    [record] = [
        run
        for run in ScheduleBook(store, "schedules").store.list_keys("runs/").keys
        if run.key.endswith(".ipynb")
    ]
    text = cell_text(executed(store.get(record.key).body))
    assert f"report x = 7 label = {literal}" in text
    assert json.loads(connection)["password"] not in text
