"""Run records: every execution of a published notebook, readable from the bucket alone.

The runner writes a small JSON record for each run, when it starts (``running``) and when
it ends (``succeeded`` or ``failed``, with the executed notebook's key and version id), so
that Jupyter can show a notebook's runs without Airflow credentials, and ``bookstore rerun``
can repeat one. Records lie under::

    <runs prefix>/@records/<notebook key>/<inverted start time>_<run id>.json

one folder per notebook key (its path under the published root, an Airflow task's
``notebook_key``), named so that S3's key order lists the newest run first. ``@`` cannot
appear in an Airflow DAG id, so the folder never meets a DAG's executed notebooks under
``<runs prefix>/<dag id>/...``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .answers import json_fields
from .errors import BookstoreError, InvalidRequestError, NotFoundError
from .keys import path_to_key
from .store import KeyPage, Store

log = logging.getLogger(__name__)

RECORDS_FOLDER = "@records"
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200

_RUN_ID = re.compile(r"^(\d{8}T\d{12}Z)-([0-9a-f]{8})$")
_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
# Microseconds since the epoch fit in 17 digits until the year 5138.
_INVERT_FROM = 10**17 - 1


def new_run_id(started_at: datetime) -> str:
    """A run id that says when the run started: ``20261128T021500123456Z-1a2b3c4d``."""
    return f"{started_at.astimezone(UTC):{_TIME_FORMAT}}-{uuid.uuid4().hex[:8]}"


def run_started_at(run_id: str) -> datetime:
    """When the run ``run_id`` started (its id says so).

    Raises
    ------
    InvalidRequestError
        ``run_id`` is not one bookstore makes.
    """
    match = _RUN_ID.fullmatch(run_id) if isinstance(run_id, str) else None
    try:
        if match is None:
            raise ValueError("no match")
        return datetime.strptime(match.group(1), _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as e:  # also the right shape with no such date (a 13th month)
        raise InvalidRequestError(
            f"run id {run_id!r} is malformed: run ids look like 20261128T021500123456Z-1a2b3c4d"
        ) from e


def first_line(text: str | None, limit: int = 300) -> str | None:
    """The first non-empty line of an error message, shortened to ``limit`` characters."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return None


@dataclass(frozen=True)
class RunRecord:
    """One execution of a published notebook.

    Attributes
    ----------
    run_id
        Bookstore's id of the run (see :func:`new_run_id`), unique and time-ordered.
    notebook_key
        The notebook's path under the published root, e.g. ``alice/notebooks/a.ipynb``.
    source_key, source_version_id
        The published object and the exact version that ran.
    parameters
        What papermill injected.
    output_key, output_version_id
        Where the executed notebook is (its version id once it is uploaded).
    status
        ``queued`` (asked for from Jupyter, Airflow has not started it yet), ``running``,
        ``succeeded`` or ``failed``.
    started_at, finished_at
        When the run started and ended.
    error
        The first line of why it failed.
    airflow
        The Airflow task instance (``dag_id``, ``run_id``, ``task_id``, ``try_number``,
        ``map_index``), when Airflow ran it.
    published_event
        True when the version ran because its publication started the DAG run (an asset
        event), rather than because it was the latest or pinned.
    parameters_forced
        True when the run was forced past the parameters check: the notebook does not
        declare some of ``parameters`` in a cell tagged ``parameters`` (see
        :mod:`bookstore.parameters`), so they may not have taken effect.
    request_id, requested_by
        When someone asked for the run from Jupyter or ``bookstore run --on-airflow`` (see
        :mod:`bookstore.scheduling`): the request's id and who asked.
    """

    run_id: str
    notebook_key: str
    source_key: str
    source_version_id: str | None
    output_key: str
    started_at: datetime
    parameters: dict[str, Any] = field(default_factory=dict)
    status: str = RUNNING
    finished_at: datetime | None = None
    output_version_id: str | None = None
    error: str | None = None
    airflow: dict[str, Any] | None = None
    published_event: bool = False
    parameters_forced: bool = False
    request_id: str | None = None
    requested_by: str | None = None

    @property
    def succeeded(self) -> bool | None:
        """True or False once the run ended; None while it is queued or runs."""
        return None if self.status in (QUEUED, RUNNING) else self.status == SUCCEEDED

    def finished(
        self, *, succeeded: bool, output_version_id: str | None, error: str | None = None
    ) -> RunRecord:
        """This record as the run ended."""
        return replace(
            self,
            status=SUCCEEDED if succeeded else FAILED,
            finished_at=datetime.now(UTC),
            output_version_id=output_version_id,
            error=None if succeeded else first_line(error),
        )

    def as_json(self) -> dict[str, Any]:
        """The record as stored, and as the REST API and ``--json`` show it."""
        return {**json_fields(self), "succeeded": self.succeeded}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> RunRecord:
        """A record as :meth:`as_json` wrote it.

        Raises
        ------
        BookstoreError
            ``data`` is not a run record (``where`` names it in the message).
        """
        try:
            status = data["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            airflow = data.get("airflow")
            return cls(
                run_id=str(data["run_id"]),
                notebook_key=str(data["notebook_key"]),
                source_key=str(data["source_key"]),
                source_version_id=data.get("source_version_id"),
                output_key=str(data["output_key"]),
                started_at=datetime.fromisoformat(data["started_at"]),
                parameters=dict(data.get("parameters") or {}),
                status=status,
                finished_at=datetime.fromisoformat(data["finished_at"]) if data.get("finished_at") else None,
                output_version_id=data.get("output_version_id"),
                error=data.get("error"),
                airflow=dict(airflow) if isinstance(airflow, Mapping) else None,
                published_event=bool(data.get("published_event")),
                parameters_forced=bool(data.get("parameters_forced")),
                request_id=data.get("request_id"),
                requested_by=data.get("requested_by"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise BookstoreError(f"{where} is not a bookstore run record: {e}") from e


@dataclass(frozen=True)
class RunPage:
    """Runs of one notebook, newest first, and the cursor of the next page (None on the last)."""

    runs: tuple[RunRecord, ...]
    next_cursor: str | None


class RunLog:
    """The run records of one bucket under one runs prefix.

    Parameters
    ----------
    store
        The bucket.
    runs_prefix
        Where executed notebooks and their records go.
    """

    def __init__(self, store: Store, runs_prefix: str) -> None:
        self.store = store
        self.runs_prefix = runs_prefix

    def folder(self, notebook_key: str) -> str:
        """The key prefix of the records of ``notebook_key`` (ending in ``/``)."""
        return path_to_key(self.runs_prefix, f"{RECORDS_FOLDER}/{notebook_key}") + "/"

    def record_key(self, notebook_key: str, run_id: str) -> str:
        """Where the record of ``run_id`` is."""
        started = run_started_at(run_id)
        micros = int(started.timestamp() * 1_000_000)
        return f"{self.folder(notebook_key)}{_INVERT_FROM - micros:017d}_{run_id}.json"

    def start(
        self,
        *,
        notebook_key: str,
        source_key: str,
        source_version_id: str | None,
        output_key: str,
        parameters: Mapping[str, Any],
        airflow: Mapping[str, Any] | None = None,
        published_event: bool = False,
        parameters_forced: bool = False,
        request: RunRecord | None = None,
    ) -> RunRecord:
        """Record a run that is starting, and answer its record; the run a ``request`` (a
        ``queued`` record) asked for keeps its id and who asked."""
        started = datetime.now(UTC)
        record = RunRecord(
            run_id=request.run_id if request else new_run_id(started),
            notebook_key=notebook_key,
            source_key=source_key,
            source_version_id=source_version_id,
            output_key=output_key,
            started_at=started,
            parameters=json.loads(json.dumps(dict(parameters), default=str)),
            airflow={name: value for name, value in (airflow or {}).items() if value is not None} or None,
            published_event=published_event,
            parameters_forced=parameters_forced,
            request_id=request.request_id if request else None,
            requested_by=request.requested_by if request else None,
        )
        self.write(record)
        return record

    def write(self, record: RunRecord) -> None:
        """Store ``record`` (a new version of its key, replacing what was said before)."""
        body = json.dumps(record.as_json(), sort_keys=True, indent=1).encode("utf-8")
        self.store.put(self.record_key(record.notebook_key, record.run_id), body, {})

    def get(self, notebook_key: str, run_id: str) -> RunRecord:
        """The record of ``run_id``.

        Raises
        ------
        InvalidRequestError
            ``run_id`` is malformed.
        NotFoundError
            No such run of ``notebook_key``.
        """
        key = self.record_key(notebook_key, run_id)
        try:
            stored = self.store.get(key)
        except NotFoundError as e:
            raise NotFoundError(f"no run {run_id!r} of {notebook_key!r} (no record at {key!r})") from e
        return _parse(stored.body, key)

    def page(
        self, notebook_key: str, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> RunPage:
        """One page of the runs of ``notebook_key``, newest first.

        A record that cannot be read (removed since the listing, not JSON) is left out of
        the page and logged; the others still answer.
        """
        listing: KeyPage = self.store.list_keys(self.folder(notebook_key), limit=limit, cursor=cursor or None)
        targets = [(stored.key, None) for stored in listing.keys if stored.key.endswith(".json")]
        runs = []
        for (key, _), found in zip(targets, self.store.get_many(targets), strict=True):
            try:
                if isinstance(found, BookstoreError):
                    raise found
                runs.append(_parse(found.body, key))
            except BookstoreError as e:
                log.warning("Bookstore: skipping the run record %r: %s", key, e)
        return RunPage(tuple(runs), listing.next_cursor)

    def abandon_earlier_tries(self, record: RunRecord, scan: int = 50) -> list[RunRecord]:
        """Mark as failed the earlier Airflow tries of ``record``'s task that still say
        ``running``: their worker stopped (killed, lost) without finishing them.

        Only the newest ``scan`` records of the notebook are looked at: a retry starts soon
        after the try it replaces. Answers the records it changed.
        """
        mine = record.airflow or {}
        if not mine.get("try_number") or int(mine["try_number"]) <= 1:
            return []
        same_task = ("dag_id", "run_id", "task_id", "map_index")
        abandoned = []
        for run in self.page(record.notebook_key, limit=scan).runs:
            theirs = run.airflow or {}
            if (
                run.status == RUNNING
                and run.run_id != record.run_id
                and all(theirs.get(name) == mine.get(name) for name in same_task)
                and int(theirs.get("try_number") or 0) < int(mine["try_number"])
            ):
                ended = replace(
                    run.finished(succeeded=False, output_version_id=None),
                    error=f"abandoned: try {theirs.get('try_number')} stopped without finishing "
                    f"(its worker was stopped or lost); try {mine['try_number']} replaced it",
                )
                self.write(ended)
                abandoned.append(ended)
        return abandoned


def airflow_links(record: RunRecord, airflow_url: str | None) -> dict[str, str | None]:
    """Where Airflow's UI shows the task that made ``record`` (``airflow_url``) and its
    executed notebook (``viewer_url``, the bookstore plugin's viewer); both None when no
    Airflow URL is configured or Airflow did not make the run."""
    task = task_instance_path(record.airflow or {})
    if not airflow_url or task is None:
        return {"airflow_url": None, "viewer_url": None}
    base = airflow_url.rstrip("/")
    viewer = None
    if record.output_version_id:
        version = quote(record.output_version_id, safe="")
        viewer = f"{base}/bookstore/executed/{quote(record.output_key)}?version_id={version}"
    return {"airflow_url": f"{base}/{task}", "viewer_url": viewer}


def task_instance_path(airflow: Mapping[str, Any]) -> str | None:
    """Where Airflow's UI shows a task instance (``dag_id``, ``run_id``, ``task_id`` and
    ``map_index`` of ``airflow``), relative to the UI's base URL; None without the first three."""
    if not all(airflow.get(name) for name in ("dag_id", "run_id", "task_id")):
        return None
    dag_id, run_id, task_id = (quote(str(airflow[name]), safe="") for name in ("dag_id", "run_id", "task_id"))
    mapped = f"/mapped/{airflow['map_index']}" if airflow.get("map_index") is not None else ""
    return f"dags/{dag_id}/runs/{run_id}/tasks/{task_id}{mapped}"


def _parse(body: bytes, key: str) -> RunRecord:
    try:
        data = json.loads(body)
    except ValueError as e:
        raise BookstoreError(f"{key!r} is not JSON: {e}") from e
    if not isinstance(data, dict):
        raise BookstoreError(f"{key!r} is not a bookstore run record")
    return RunRecord.from_json(data, repr(key))
