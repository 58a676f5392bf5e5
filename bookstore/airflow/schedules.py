"""Schedules rendered as DAGs: what ``dags/bookstore_schedules.py`` calls.

Every schedule document in the bucket (see :mod:`bookstore.schedules`) becomes one DAG:

- its ``dag_id`` is the schedule's (stable, shown in Jupyter);
- its schedule is the cron in the schedule's time zone, the notebook's publications (its
  published-notebook asset), or either; a disabled schedule's DAG stays visible and runs on
  no schedule; an enabled one runs without anyone unpausing it;
- one task, :class:`~bookstore.airflow.operators.ScheduledNotebookOperator`, runs the
  notebook with the schedule's version, parameters, retries and timeout, and updates the
  executed notebook's asset; a failed run e-mails the schedule's ``notify`` addresses
  (:class:`ScheduleFailureMail`).

Plus one DAG, :data:`RUN_REQUESTS_DAG_ID`, scheduled on the run requests that Jupyter writes
("run now"): each request starts one of its runs.

Parsing is cheap and safe. The documents are listed with one request per 1000; a document
whose entity tag is unchanged since the last parse is not read again (a local cache,
:func:`cache_path`). When S3 or the connection fails during a parse, the DAGs rendered the
last time are rendered again from that cache and the failure is logged: an outage never
makes the schedules vanish from Airflow. Nothing from a document reaches Jinja.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG
from airflow.sdk.bases.notifier import BaseNotifier

from ..errors import BookstoreError
from ..schedules import Listed, Schedule, ScheduleBook, schedule_from_checked
from ..store import INTERACTIVE
from .assets import executed_notebook_asset, published_notebook_asset, run_requests_asset
from .hooks import BookstoreHook
from .operators import RequestedRunsOperator, ScheduledNotebookOperator

log = logging.getLogger(__name__)

#: The DAG that carries out run requests ("run now" in Jupyter).
RUN_REQUESTS_DAG_ID = "bookstore_run_requests"
#: Where the cache of schedule documents is, when set (default: under AIRFLOW_HOME).
CACHE_ENV = "BOOKSTORE_SCHEDULES_CACHE"
#: When a schedule document that does not say when it was made starts.
START = datetime(2026, 1, 1, tzinfo=UTC)


def schedule_dags(bookstore_conn_id: str = BookstoreHook.default_conn_name) -> dict[str, DAG]:
    """One DAG per schedule in the connection's bucket, and the run-requests DAG, by dag id.

    Failures to reach the bucket or read the connection are logged and answered with the
    DAGs of the cached documents; never raised, so the DAG file always imports.
    """
    hook = BookstoreHook(bookstore_conn_id)
    try:
        book = ScheduleBook(hook.make_store(INTERACTIVE), hook.schedules_root)
        path = cache_path(bookstore_conn_id, book)
    except Exception as e:  # the connection is missing or malformed: nothing can be listed
        log.error("Bookstore schedules: connection %r cannot be used: %s", bookstore_conn_id, e)
        return {}
    known = read_cache(path)
    try:
        listed = book.listing(known=known)
    except BookstoreError as e:
        log.error(
            "Bookstore schedules: could not list %s/ in bucket %r (%s); rendering the %d schedule "
            "documents read before",
            book.root,
            book.store.bucket,
            e,
            len(known),
        )
        listed = list(known.values())
    else:
        write_cache(path, listed)
    dags: dict[str, DAG] = {}
    for entry in listed:
        if entry.schedule is None:
            log.warning("Bookstore schedules: not rendering %s: %s", entry.key, entry.error)
            continue
        try:
            dag = schedule_dag(entry.schedule, hook)
        except Exception as e:  # a document no DAG can be made of breaks only itself
            log.error("Bookstore schedules: cannot render %s as a DAG: %s", entry.key, e)
            continue
        dags[dag.dag_id] = dag
    try:
        dags[RUN_REQUESTS_DAG_ID] = run_requests_dag(hook)
    except Exception as e:
        log.error("Bookstore schedules: cannot render %s: %s", RUN_REQUESTS_DAG_ID, e)
    return dags


def schedule_dag(schedule: Schedule, hook: BookstoreHook) -> DAG:
    """The DAG that runs ``schedule``."""
    from airflow.sdk.definitions.timetables.assets import AssetOrTimeSchedule
    from airflow.sdk.definitions.timetables.trigger import CronTriggerTimetable

    key = schedule.notebook_key
    published = (
        published_notebook_asset(key, hook.bookstore_conn_id, hook=hook) if schedule.on_publish else None
    )
    cron = CronTriggerTimetable(schedule.cron, timezone=schedule.timezone) if schedule.cron else None
    when: Any
    if not schedule.enabled:
        when = None
    elif cron is not None and published is not None:
        when = AssetOrTimeSchedule(timetable=cron, assets=published)
    elif cron is not None:
        when = cron
    else:
        when = [published]
    default_args: dict[str, Any] = {
        "owner": schedule.created_by or "bookstore",
        "retries": schedule.retries,
        "retry_delay": timedelta(minutes=1),
    }
    if schedule.timeout:
        default_args["execution_timeout"] = timedelta(minutes=schedule.timeout)
    if schedule.notify:
        # The task's own callback: it runs where the task ran, with the error, after the last try.
        default_args["on_failure_callback"] = ScheduleFailureMail(schedule, hook)
    dag = DAG(
        dag_id=schedule.dag_id,
        description=f"{key} ({schedule.name}): {schedule.describe()}"[:500],
        doc_md=_doc(schedule, hook),
        schedule=when,
        # From when it was made: a cron time that passed before then (this morning's 06:00 for
        # a daily schedule made at 10:00) does not run.
        start_date=schedule.created_at or START,
        catchup=False,
        # Never paused: a disabled schedule has no schedule at all, so enabling it later
        # needs nobody to unpause it in Airflow.
        is_paused_upon_creation=False,
        max_active_runs=1,
        default_args=default_args,
        tags=["bookstore", "bookstore-schedule", *([schedule.created_by] if schedule.created_by else [])],
    )
    with dag:
        ScheduledNotebookOperator(
            task_id="run",
            notebook_key=key,
            version_id=schedule.version_id,
            parameters=schedule.parameters,
            force_parameters=schedule.force_parameters,
            bookstore_conn_id=hook.bookstore_conn_id,
            outlets=[executed_notebook_asset(key, hook.bookstore_conn_id, hook=hook)],
        )
    return dag


def run_requests_dag(hook: BookstoreHook) -> DAG:
    """The DAG scheduled on run requests: each request written from Jupyter starts one run."""
    dag = DAG(
        dag_id=RUN_REQUESTS_DAG_ID,
        description="Runs published notebooks when someone asks from Jupyter (Run now)",
        doc_md=(
            "Each run request that Jupyter (or `bookstore run --on-airflow`) writes into the "
            f"bucket under `{hook.schedules_root}/<notebook key>/@requests/` starts one run of this DAG, "
            "which runs the notebook at the version and with the parameters asked for. Its run "
            "record (the Runs tab in Jupyter) names the request."
        ),
        schedule=[run_requests_asset(hook.bookstore_conn_id, hook=hook)],
        start_date=START,
        catchup=False,
        is_paused_upon_creation=False,
        tags=["bookstore"],
    )
    with dag:
        RequestedRunsOperator(task_id="run", bookstore_conn_id=hook.bookstore_conn_id)
    return dag


def _doc(schedule: Schedule, hook: BookstoreHook) -> str:
    """The DAG's documentation: what it runs, and where the schedule is kept."""
    version = f"version `{schedule.version_id}`" if schedule.version_id else "its latest published version"
    lines = [
        f"Runs the published notebook `{schedule.notebook_key}` ({version}) {schedule.describe()}.",
        "",
        f"Schedule `{schedule.name}`, kept in the bucket at "
        f"`{hook.schedules_root}/{schedule.notebook_key}/{schedule.name}.json`; made by "
        f"{schedule.created_by or 'an unknown user'}, last changed by "
        f"{schedule.updated_by or 'an unknown user'}"
        + (f" at {schedule.updated_at:%Y-%m-%d %H:%M UTC}" if schedule.updated_at else "")
        + ". Change it from Jupyter (Schedule…) or `bookstore schedule`, not here.",
        "",
        f"Parameters: `{json.dumps(schedule.parameters)}`",
    ]
    jupyter = hook.extra_value("jupyter_url")
    if jupyter:
        lines += ["", f"[Open Jupyter]({jupyter})"]
    return "\n".join(lines)


# -- the cache of documents -----------------------------------------------------------------


def cache_path(bookstore_conn_id: str, book: ScheduleBook) -> Path:
    """Where the documents read at the last parse are kept: ``$BOOKSTORE_SCHEDULES_CACHE``,
    or a file per connection, bucket and root under ``$AIRFLOW_HOME/bookstore``."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    from airflow.configuration import AIRFLOW_HOME

    name = hashlib.sha256(f"{bookstore_conn_id}\0{book.store.bucket}\0{book.root}".encode()).hexdigest()[:16]
    return Path(AIRFLOW_HOME) / "bookstore" / f"schedules-{name}.json"


def read_cache(path: Path) -> dict[str, Listed]:
    """The documents read at the last parse, by key; empty when there is no usable cache."""
    try:
        data = json.loads(path.read_text())
        entries = data["documents"]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("Bookstore schedules: ignoring the cache %s: %s", path, e)
        return {}
    known = {}
    for key, entry in entries.items():
        try:
            # Checked when it was read from the bucket: not checked again (crons cost).
            schedule = schedule_from_checked(entry["document"]) if entry.get("document") else None
        except (TypeError, AttributeError, ValueError) as e:
            schedule, entry = None, {**entry, "error": str(e)}
        known[key] = Listed(key, entry.get("etag"), schedule, entry.get("error"))
    return known


def write_cache(path: Path, listed: Iterable[Listed]) -> None:
    """Keep what this parse read for the next (atomically: a parse never sees half a file)."""
    documents = {
        entry.key: {
            "etag": entry.etag,
            "document": entry.schedule.as_json() if entry.schedule else None,
            "error": entry.error,
        }
        for entry in listed
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".schedules-", delete=False) as out:
            json.dump({"documents": documents}, out)
        os.replace(out.name, path)
    except OSError as e:
        log.warning("Bookstore schedules: could not write the cache %s: %s", path, e)


# -- failure mail -----------------------------------------------------------------------------


class ScheduleFailureMail(BaseNotifier):
    """E-mail a schedule's ``notify`` addresses when one of its runs fails, through Airflow's
    SMTP connection (``smtp_default``, or the connection extra ``smtp_conn_id``).

    The message names the notebook, the version that ran, the parameters, the error's first
    line, and links to the run in Jupyter (the connection extra ``jupyter_url``) and in
    Airflow. Nothing in it is rendered by Jinja: the schedule's values are escaped text.
    """

    template_fields = ()

    def __init__(self, schedule: Schedule, hook: BookstoreHook) -> None:
        super().__init__()
        self.schedule = schedule
        self.smtp_conn_id = hook.extra_value("smtp_conn_id") or "smtp_default"
        self.jupyter_url = hook.extra_value("jupyter_url")

    def notify(self, context: Mapping[str, Any]) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        subject, body = self.message(context)
        with SmtpHook(smtp_conn_id=self.smtp_conn_id) as smtp:
            smtp.send_email_smtp(to=list(self.schedule.notify), subject=subject, html_content=body)
        log.info("Told %s that %s failed", ", ".join(self.schedule.notify), self.schedule.dag_id)

    def message(self, context: Mapping[str, Any]) -> tuple[str, str]:
        """The subject and HTML body for the failed run in ``context``."""
        schedule = self.schedule
        ti = context.get("ti") or context.get("task_instance")
        error = context.get("exception")
        # A notebook that failed says why in its own words; the message around them names the
        # key and version, which the mail shows apart (and which would crowd the subject).
        reason = getattr(error, "reason", None) or str(error or "")
        first_line = next((line.strip() for line in reason.splitlines() if line.strip()), "unknown")
        # A notebook that raised names the version that ran; a run refused or stopped early, none.
        result = getattr(error, "result", None)
        version = (
            getattr(result, "source_version_id", None)
            or schedule.version_id
            or "the latest published version"
        )
        rows = [
            ("Notebook", schedule.notebook_key),
            ("Schedule", f"{schedule.name}: {schedule.describe()}"),
            ("Version", version),
            ("Parameters", json.dumps(schedule.parameters)),
            ("Error", first_line),
        ]
        links = []
        log_url = getattr(ti, "log_url", None)
        if log_url:
            links.append(("the run in Airflow", str(log_url)))
        if self.jupyter_url:
            links.append(("the notebook's runs in Jupyter", self.jupyter_url))
        table = "".join(
            f"<tr><th align='left'>{html.escape(name)}</th>"
            f"<td><code>{html.escape(str(value))}</code></td></tr>"
            for name, value in rows
        )
        anchors = "".join(
            f"<li><a href='{html.escape(url)}'>{html.escape(text)}</a></li>" for text, url in links
        )
        body = (
            f"<p>A scheduled run of <code>{html.escape(schedule.notebook_key)}</code> failed.</p>"
            f"<table>{table}</table>" + (f"<ul>{anchors}</ul>" if anchors else "")
        )
        subject = f"[bookstore] {schedule.notebook_key} ({schedule.name}) failed: {first_line}"[:200]
        return subject, body
