"""Scheduling a published notebook, and asking Airflow to run it now: the checks and writes the
REST API and the ``bookstore`` command share.

Both only write documents into the bucket (see :mod:`bookstore.schedules`): Jupyter holds no
Airflow credentials. A schedule or a request is accepted only for a notebook that is
published, at a version that is one of its publications, with parameters its ``parameters``
cell declares (unless forced), so that what Airflow later runs does not fail on what could be
told now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import notebooks
from .errors import (
    BookstoreError,
    InvalidRequestError,
    NotFoundError,
    NotPublishedError,
    VersionNotFoundError,
)
from .keys import path_to_key
from .library import PUBLISHED, Library, describe
from .parameters import check, inspect
from .runs import QUEUED, RunPage, RunRecord, new_run_id
from .schedules import Listed, Schedule, ScheduleBook, check_fields, parse_parameters, parse_schedule

log = logging.getLogger(__name__)

#: The fields of a run request's body.
RUN_FIELDS = ("version_id", "parameters", "force_parameters")


def schedule_answer(schedule: Schedule, created: bool | None = None, count: int = 3) -> dict[str, Any]:
    """A schedule as the REST API and ``--json`` answer it: the document, its ``dag_id``, the
    schedule in words and its next run times."""
    answer: dict[str, Any] = {
        **schedule.as_json(),
        "dag_id": schedule.dag_id,
        "description": schedule.describe(),
        "next_runs": [moment.isoformat() for moment in schedule.next_runs(count)],
    }
    if created is not None:
        answer["created"] = created
    return answer


def listed_json(entry: Listed) -> dict[str, Any]:
    """A listed schedule as the REST API and ``--json`` answer it: as :func:`schedule_answer`,
    or, for a document that cannot be read, ``{"key", "error"}``."""
    return entry.as_json() if entry.schedule is None else schedule_answer(entry.schedule)


def listing_answer(book: ScheduleBook, notebook_key: str | None = None) -> dict[str, Any]:
    """The team's schedules (or those of ``notebook_key``), malformed documents marked:
    ``{"schedules_root", "schedules": [...]}``."""
    listed = book.listing(notebook_key)
    return {"schedules_root": book.root, "schedules": [listed_json(entry) for entry in listed]}


def notebook_answer(book: ScheduleBook, notebook_key: str, name: str | None = None) -> dict[str, Any]:
    """The schedules of ``notebook_key`` (only the one called ``name``, when given), malformed
    documents marked: ``{"notebook_key", "schedules": [...]}``."""
    listed = book.listing(notebook_key)
    if name:
        listed = [entry for entry in listed if entry.schedule and entry.schedule.name == name]
    return {"notebook_key": notebook_key, "schedules": [listed_json(entry) for entry in listed]}


def history_answer(book: ScheduleBook, notebook_key: str, name: str) -> dict[str, Any]:
    """Every stored version of a schedule, newest first: ``{"notebook_key", "name", "history"}``.

    Raises
    ------
    NotFoundError
        The notebook never had a schedule called ``name``.
    """
    return {"notebook_key": notebook_key, "name": name, "history": book.history(notebook_key, name)}


def save_schedule(
    library: Library, book: ScheduleBook, path: str, body: Mapping[str, Any], *, by: str | None
) -> tuple[Schedule, bool]:
    """Create or change a schedule of the published notebook at ``path``; answers it and whether
    it is new.

    Raises
    ------
    InvalidRequestError
        A field is malformed; the pinned version is not one of the notebook's publications;
        or the parameters are not declared by the notebook (unless ``force_parameters``).
    NotPublishedError
        The notebook is not published.
    """
    notebook_key = library.notebook_key(path)
    if not isinstance(body, Mapping) or not isinstance(body.get("name"), str):
        raise InvalidRequestError(
            'name the schedule in the body, e.g. {"name": "daily", "cron": "0 6 * * *"}'
        )
    try:
        existing = book.find(notebook_key, body["name"])
    except InvalidRequestError:
        raise
    except BookstoreError as e:
        # A document written by hand that is no schedule: this one, valid, replaces it.
        log.warning("Bookstore: replacing %s", e)
        existing = None
    schedule = parse_schedule(body, notebook_key, by=by, existing=existing)
    _check_runnable(library, path, schedule.version_id, schedule.parameters, schedule.force_parameters)
    book.put(schedule)
    return schedule, existing is None


def request_run(
    library: Library, book: ScheduleBook, path: str, body: Mapping[str, Any], *, by: str | None
) -> RunRecord:
    """Ask Airflow to run the published notebook at ``path`` now: a run request document
    beside the notebook's schedules (the only thing written: on a hub, a user's key may write
    only under their own schedules), answered as the ``queued`` run it stands for, which
    :func:`queued_runs` lists until Airflow's run records it.

    Raises
    ------
    InvalidRequestError, NotPublishedError
        As :func:`save_schedule`.
    """
    check_fields(body, RUN_FIELDS, "a run request")
    version_id = body.get("version_id") or None
    if version_id is not None and not isinstance(version_id, str):
        raise InvalidRequestError("version_id must be a published version id, or null for the latest")
    parameters = parse_parameters(body.get("parameters"))
    force = body.get("force_parameters", False)
    if not isinstance(force, bool):
        raise InvalidRequestError("force_parameters must be true or false")
    notebook_key = library.notebook_key(path)
    _check_runnable(library, path, version_id, parameters, force)
    now = datetime.now(UTC)
    request = {
        "request_id": new_run_id(now),
        "notebook_key": notebook_key,
        "version_id": version_id,
        "parameters": parameters,
        "force_parameters": force,
        "requested_by": by,
        "requested_at": now.isoformat(),
    }
    book.request_run(request)
    return requested_run(library, request, now)


def requested_run(library: Library, request: Mapping[str, Any], when: datetime | None = None) -> RunRecord:
    """The ``queued`` run record a run request stands for; its run id is the request's."""
    notebook_key = str(request["notebook_key"])
    requested_at = request.get("requested_at")
    return RunRecord(
        run_id=str(request["request_id"]),
        notebook_key=notebook_key,
        source_key=path_to_key(library.published_root, notebook_key),
        source_version_id=request.get("version_id") or None,
        output_key="",
        started_at=when
        or (datetime.fromisoformat(requested_at) if isinstance(requested_at, str) else datetime.now(UTC)),
        parameters=dict(request.get("parameters") or {}),
        status=QUEUED,
        parameters_forced=False,
        request_id=str(request["request_id"]),
        requested_by=request.get("requested_by"),
    )


def runs_page(library: Library, notebook_key: str, *, limit: int, cursor: str | None = None) -> RunPage:
    """One page of the runs of ``notebook_key``, newest first, the runs asked for and not yet
    started by Airflow (:func:`queued_runs`) first on the first page: what the REST API and
    ``bookstore runs`` list."""
    page = library.runs.page(notebook_key, limit=limit, cursor=cursor)
    if cursor:
        return page
    return RunPage((*queued_runs(library, notebook_key, page.runs), *page.runs), page.next_cursor)


def queued_runs(library: Library, notebook_key: str, recorded: Iterable[RunRecord] = ()) -> list[RunRecord]:
    """The runs of ``notebook_key`` asked for and not yet recorded by Airflow, newest first
    (one listing of its requests); ``recorded`` are records already known, left out."""
    known = {record.run_id for record in recorded}
    book = library.schedules
    keys = [stored.key for stored in book.store.list_keys(book.requests_folder(notebook_key)).keys]
    runs = []
    for key, found in zip(keys, book.store.get_many([(key, None) for key in keys]), strict=True):
        try:
            if isinstance(found, BookstoreError):
                raise found
            request = read_request(found.body, repr(key))
            run = requested_run(library, request)
        except BookstoreError as e:
            log.warning("Bookstore: skipping the run request %r: %s", key, e)
            continue
        if run.run_id not in known and run.notebook_key == notebook_key:
            runs.append(run)
    return sorted(runs, key=lambda run: run.run_id, reverse=True)


def read_request(body: bytes, where: str) -> dict[str, Any]:
    """A stored run request, checked: what Airflow's run-request task carries out.

    Raises
    ------
    InvalidRequestError
        It is not a run request.
    """
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("request_id"), str):
            raise ValueError("no request_id")
        return {
            "request_id": data["request_id"],
            "notebook_key": str(data["notebook_key"]),
            "version_id": data.get("version_id") or None,
            "parameters": parse_parameters(data.get("parameters")),
            "force_parameters": bool(data.get("force_parameters")),
            "requested_by": data.get("requested_by"),
            "requested_at": data.get("requested_at"),
        }
    except (ValueError, KeyError, TypeError) as e:
        raise InvalidRequestError(f"{where} is not a run request: {e}") from e


def _check_runnable(
    library: Library, path: str, version_id: str | None, parameters: Mapping[str, Any], force: bool
) -> None:
    """Refuse what would fail in Airflow: no publication, an unknown version, parameters the
    version does not declare."""
    key = library.key(path, PUBLISHED)
    check_parameters = bool(parameters) and not force
    try:
        # The notebook itself only when its parameters cell must be read; otherwise a HEAD.
        stored = library.read(path, PUBLISHED, version_id) if check_parameters else None
        if stored is None:
            library.store.head(key, version_id)
    except VersionNotFoundError as e:
        raise InvalidRequestError(
            f"version {version_id!r} is not a published version of {path!r}: pin one that "
            f"'bookstore versions {path} --stage published' lists, or none to run the latest"
        ) from e
    except NotFoundError as e:
        raise NotPublishedError(
            f"{path!r} is not published ({key!r} does not exist): publish it first"
        ) from e
    if stored is not None:
        declared = inspect(notebooks.read(stored.body, describe(stored)))
        check(declared, parameters, f"{path} (published version {stored.info.version_id})")
