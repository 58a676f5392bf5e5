"""Schedules end to end, with a running Airflow: a schedule made through Jupyter's REST API
becomes a DAG that runs on its own, "Run now" starts a run within seconds, pinning, disabling
and removing show at the next parse, an S3 frozen during a parse leaves the DAGs in place,
and a failed scheduled run e-mails the schedule's ``notify`` addresses.

One Airflow for the module (scheduler, dag-processor, triggerer, api-server, as ``make run``
starts them) with ``dags/bookstore_schedules.py`` in its DAGs folder, a Jupyter server
archiving to the same bucket, the session's SeaweedFS, and an SMTP server of the test's own
(aiosmtpd) as Airflow's ``smtp_default``. Every schedule fires every minute; they are made
together when the module starts, so their first runs share one minute (Run now, tested
first, runs while they wait for it). The DAG file is parsed every few seconds, and a DAG gone
from it marked stale soon after, so that changes show within seconds, not minutes.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
import pytest
import requests

from devtools.airflow import AirflowServices, connection_json
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import free_port
from tests.helpers.jupyter_process import JupyterServer, with_parameters
from tests.helpers.notebooks import cell_text, ensure_python3_kernel

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parent.parent

FOLDER = f"sched-{uuid.uuid4().hex[:6]}"
REPORT = f"{FOLDER}/report.ipynb"
BROKEN = f"{FOLDER}/broken.ipynb"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
PARAMETERS = "x = 1\nlabel = 'none'"
#: A parameter value that Airflow's Jinja would turn into the connection's secret.
JINJA = "{{ conn.bookstore_default.password }}"
EVERY_MINUTE = "* * * * *"
#: Where the connection says the team's Jupyter is (the failure mail links to it).
JUPYTER_URL = "https://jupyter.example.com/hub/user-redirect/lab"
RUN_REQUESTS_DAG_ID = "bookstore_run_requests"
#: Seconds between two parses of the DAG file (Airflow's default is 30).
PARSE_INTERVAL = 5
#: Long enough for a DAG's first minute to come and its run to finish on a busy machine.
RUN_TIMEOUT = 300


class Mailbox:
    """The messages an SMTP server of the test's own received (aiosmtpd)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def jupyter_config_extra() -> str:
    # Who schedules and asks for runs is recorded as the prefixes' owner, named here.
    return '\nc.Bookstore.username = "kylek"\n'


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: SeaweedFS,
    module_bucket: str,
    mailbox: tuple[Mailbox, int],
) -> Iterator[AirflowServices]:
    ensure_python3_kernel()
    folder = tmp_path_factory.mktemp("airflow")
    dags = folder / "dags"
    dags.mkdir()
    shutil.copy(REPO / "dags" / "bookstore_schedules.py", dags)
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": mailbox[1],
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@example.com"},
    }
    services = AirflowServices(
        folder,
        s3_server.endpoint_url,
        s3_server.access_key,
        s3_server.secret_key,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=str(PARSE_INTERVAL),
        # A DAG gone from its file is marked stale once its last parse is this much older than
        # the file's, looked for this often (Airflow's defaults: 50 s, every 60 s).
        AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD=str(2 * PARSE_INTERVAL),
        AIRFLOW__SCHEDULER__PARSING_CLEANUP_INTERVAL=str(PARSE_INTERVAL),
        AIRFLOW_CONN_BOOKSTORE_DEFAULT=connection_json(
            s3_server.endpoint_url,
            s3_server.access_key,
            s3_server.secret_key,
            module_bucket,
            jupyter_url=JUPYTER_URL,
        ),
        AIRFLOW_CONN_SMTP_DEFAULT=json.dumps(smtp),
    )
    try:
        services.start()
        yield services
    finally:
        services.stop()


def save(server: JupyterServer, path: str, source: str) -> None:
    server.request("PUT", f"/api/contents/{FOLDER}", json={"type": "directory"})
    server.save(
        path, with_parameters(source, parameters=PARAMETERS, language_info={"name": "python"}, **KERNEL)
    )


def publish(server: JupyterServer, path: str) -> str:
    answer = server.request("PUT", f"/api/bookstore/publish/{path}", json={})
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["version_id"])


def put_schedule(server: JupyterServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = server.request("PUT", f"/api/bookstore/schedules/{path}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def scheduled(server: JupyterServer, airflow: AirflowServices) -> dict[str, Any]:
    """Two published versions of REPORT and one of BROKEN (which raises), scheduled every
    minute: ``latest`` (REPORT's latest version), ``pinned`` (its first version) and
    ``failing`` (BROKEN, telling kylek@example.com)."""
    save(server, REPORT, "print('first', x, label)")
    first = publish(server, REPORT)
    save(server, REPORT, "print('second', x, label)")
    second = publish(server, REPORT)
    save(server, BROKEN, "print('broken', x)\nraise ValueError('the input table is empty')")
    broken = publish(server, BROKEN)
    latest = put_schedule(
        server, REPORT, {"name": "latest", "cron": EVERY_MINUTE, "parameters": {"x": 3, "label": JINJA}}
    )
    pinned = put_schedule(
        server, REPORT, {"name": "pinned", "cron": EVERY_MINUTE, "version_id": first, "parameters": {"x": 5}}
    )
    failing = put_schedule(
        server,
        BROKEN,
        {"name": "failing", "cron": EVERY_MINUTE, "parameters": {"x": 7}, "notify": ["kylek@example.com"]},
    )
    return {
        "first": first,
        "second": second,
        "broken": broken,
        "latest": latest,
        "pinned": pinned,
        "failing": failing,
    }


def dag(airflow: AirflowServices, dag_id: str) -> dict[str, Any] | None:
    """The DAG as Airflow's REST API shows it, or None when Airflow does not know it."""
    try:
        return dict(airflow.get(f"/dags/{dag_id}"))
    except requests.HTTPError as e:
        if e.response is not None and e.response.status_code == 404:
            return None
        raise


def runs(server: JupyterServer, path: str) -> list[dict[str, Any]]:
    answer = server.request("GET", f"/api/bookstore/runs/{path}", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["runs"])


def finished_run(airflow: AirflowServices, server: JupyterServer, path: str, dag_id: str) -> dict[str, Any]:
    """The first run of ``path`` that the DAG ``dag_id`` made, once it has finished."""

    def done() -> dict[str, Any] | None:
        mine = [run for run in runs(server, path) if (run.get("airflow") or {}).get("dag_id") == dag_id]
        ended = [run for run in mine if run["status"] in ("succeeded", "failed")]
        return min(ended, key=lambda run: run["started_at"]) if ended else None

    return airflow.wait(done, RUN_TIMEOUT, f"no run of {dag_id} finished", poll=2)


def output_text(server: JupyterServer, path: str, run_id: str) -> str:
    """What the run's executed notebook printed, as Jupyter serves it."""
    answer = server.request("GET", f"/api/bookstore/runs/{path}", params={"run_id": run_id})
    assert answer.status_code == 200, answer.text
    return cell_text(nbformat.reads(json.dumps(answer.json()["content"]), as_version=4))


def test_run_now_starts_a_run_with_the_requests_parameters(
    airflow: AirflowServices, server: JupyterServer, scheduled: dict[str, Any], s3_server: SeaweedFS
) -> None:
    answer = server.request(
        "POST", f"/api/bookstore/runs/{REPORT}", json={"parameters": {"x": 11, "label": JINJA}}
    )
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["request_id"]

    def listed() -> dict[str, Any] | None:
        return next((run for run in runs(server, REPORT) if run.get("request_id") == request_id), None)

    queued = listed()
    assert queued is not None and queued["status"] == "queued", queued

    def ended() -> dict[str, Any] | None:
        run = listed()
        return run if run and run["status"] in ("succeeded", "failed") else None

    ran = airflow.wait(ended, RUN_TIMEOUT, f"run request {request_id} did not finish", poll=1)

    assert ran["status"] == "succeeded", ran
    assert ran["run_id"] == queued["run_id"] == request_id
    assert ran["airflow"]["dag_id"] == RUN_REQUESTS_DAG_ID
    assert ran["parameters"] == {"x": 11, "label": JINJA}
    assert ran["source_version_id"] == scheduled["second"]
    assert ran["requested_by"] == "kylek"
    text = output_text(server, REPORT, ran["run_id"])
    assert f"second 11 {JINJA}" in text
    assert s3_server.secret_key not in text


def test_a_schedule_made_in_jupyter_runs_on_its_own_with_its_version_and_parameters(
    airflow: AirflowServices, server: JupyterServer, scheduled: dict[str, Any], s3_server: SeaweedFS
) -> None:
    latest, pinned = scheduled["latest"], scheduled["pinned"]

    shown = airflow.wait(lambda: dag(airflow, latest["dag_id"]), 180, "the schedule's DAG did not appear")

    assert shown["is_paused"] is False and shown["is_stale"] is False
    assert {"bookstore", "bookstore-schedule", "kylek"} <= {tag["name"] for tag in shown["tags"]}
    assert EVERY_MINUTE in str(shown["timetable_summary"])
    # It ran on its own (no one unpaused or triggered it): the latest version, its parameters.
    ran = finished_run(airflow, server, REPORT, latest["dag_id"])
    assert ran["status"] == "succeeded", ran
    assert ran["source_version_id"] == scheduled["second"]
    assert ran["parameters"] == {"x": 3, "label": JINJA}
    assert ran["airflow"]["run_id"].startswith("scheduled__")
    text = output_text(server, REPORT, ran["run_id"])
    # The Jinja-looking value reached the notebook as that text, never rendered.
    assert f"second 3 {JINJA}" in text
    assert s3_server.secret_key not in text
    # Pinned: the first version, although a later one is published.
    ran_pinned = finished_run(airflow, server, REPORT, pinned["dag_id"])
    assert ran_pinned["status"] == "succeeded", ran_pinned
    assert ran_pinned["source_version_id"] == scheduled["first"]
    assert "first 5 none" in output_text(server, REPORT, ran_pinned["run_id"])


def test_a_failed_scheduled_run_emails_the_schedules_addresses(
    airflow: AirflowServices,
    server: JupyterServer,
    scheduled: dict[str, Any],
    mailbox: tuple[Mailbox, int],
) -> None:
    box = mailbox[0]
    failing = scheduled["failing"]

    ran = finished_run(airflow, server, BROKEN, failing["dag_id"])
    airflow.wait(lambda: box.messages, RUN_TIMEOUT, "no failure mail arrived", poll=1)

    assert ran["status"] == "failed", ran
    message = box.messages[0]
    assert box.recipients[0] == ["kylek@example.com"]
    assert message["From"] == "airflow@example.com"
    subject = str(message["Subject"])
    body = html.unescape(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    notebook_key = f"kylek/notebooks/{BROKEN}"
    assert notebook_key in subject and "failing" in subject
    assert notebook_key in body
    assert scheduled["broken"] in body
    assert json.dumps({"x": 7}) in body
    # The error's first line, as the run's record in Jupyter says it, in its own words.
    assert ran["error"].startswith("ValueError: the input table is empty"), ran
    assert ran["error"] in subject, subject
    assert ran["error"] in body, body
    # Links to the failed task in Airflow, and to Jupyter.
    task = f"{airflow.url}/dags/{failing['dag_id']}/runs/{quote(ran['airflow']['run_id'], safe='')}/tasks/run"
    assert task in body, body
    assert JUPYTER_URL in body


def test_disable_keeps_the_dag_without_runs_and_delete_removes_it(
    airflow: AirflowServices, server: JupyterServer, scheduled: dict[str, Any]
) -> None:
    latest, pinned, failing = (scheduled[name]["dag_id"] for name in ("latest", "pinned", "failing"))
    airflow.wait(lambda: dag(airflow, failing), 180, "the failing schedule's DAG did not appear")

    put_schedule(server, REPORT, {"name": "latest", "enabled": False})
    for path, name in ((REPORT, "pinned"), (BROKEN, "failing")):
        answer = server.request("DELETE", f"/api/bookstore/schedules/{path}", params={"name": name})
        assert answer.status_code == 204, answer.text

    def disabled() -> dict[str, Any] | None:
        found = dag(airflow, latest)
        return found if found and found["timetable_summary"] in (None, "None") else None

    def gone(dag_id: str) -> bool:
        found = dag(airflow, dag_id)
        return found is None or found["is_stale"] is True

    shown = airflow.wait(disabled, 120, "the disabled schedule's DAG was not parsed again")
    airflow.wait(lambda: gone(pinned) and gone(failing), 120, "the removed schedules' DAGs stayed")
    listed = {found["dag_id"] for found in airflow.get("/dags", tags="bookstore", limit=100)["dags"]}

    # Disabled: still in Airflow, and the scheduler has no next run to make.
    assert shown["is_stale"] is False
    assert shown["next_dagrun_run_after"] is None and shown["next_dagrun_logical_date"] is None
    assert latest in listed
    # Removed: not listed any more.
    assert pinned not in listed and failing not in listed


def dag_processor_logs(airflow: AirflowServices) -> str:
    """Everything the dag-processor and its parsing processes logged so far."""
    paths = [airflow.log("dag-processor"), *sorted((airflow.folder / "airflow" / "logs").rglob("*.log"))]
    return "".join(path.read_text(errors="replace") for path in paths if path.is_file())


def test_dags_stay_when_s3_is_frozen_while_the_dag_processor_parses(
    airflow: AirflowServices, server: JupyterServer, scheduled: dict[str, Any], s3_server: SeaweedFS
) -> None:
    latest = scheduled["latest"]["dag_id"]
    airflow.wait(lambda: dag(airflow, latest), 180, "the schedule's DAG did not appear")
    seen = dag_processor_logs(airflow).count("Bookstore schedules: could not list")

    s3_server.pause()
    try:
        airflow.wait(
            lambda: dag_processor_logs(airflow).count("Bookstore schedules: could not list") > seen,
            180,
            "the dag-processor did not parse the DAG file while S3 was frozen",
        )
        # A parse is under way that found S3 frozen: the DAG is parsed after this only if that
        # parse (or a later one, as frozen) rendered it.
        noticed = datetime.now().astimezone()

        def parsed_since() -> dict[str, Any] | None:
            found = dag(airflow, latest)
            return found if found and datetime.fromisoformat(found["last_parsed_time"]) > noticed else None

        during = airflow.wait(parsed_since, 120, "the DAG's parse during the freeze was not recorded")
        listed = {found["dag_id"] for found in airflow.get("/dags", tags="bookstore", limit=100)["dags"]}
        errors = airflow.get("/importErrors")["import_errors"]
    finally:
        s3_server.resume()

    assert during["is_stale"] is False
    assert {latest, RUN_REQUESTS_DAG_ID} <= listed
    assert not [error for error in errors if "bookstore_schedules" in error["filename"]]
