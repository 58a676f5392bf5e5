"""Schedules: when Airflow runs a published notebook, kept as documents in the bucket.

A data scientist schedules a published notebook from Jupyter (or ``bookstore schedule``); the
schedule is one JSON document in the bucket::

    <schedules root>/<notebook key>/<name>.json
    e.g. schedules/alice/notebooks/analysis/mine.ipynb/daily.json

and Airflow renders each document as a DAG (``dags/bookstore_schedules.py``, see
:mod:`bookstore.airflow.schedules`). The bucket is the only interface: Jupyter holds no
Airflow credentials, and a per-user policy on ``schedules/<user>/*`` bounds who may write a
user's schedules. The bucket's versioning keeps every change of a document.

A *run request* ("run now") is a document too, beside the notebook's schedules::

    <schedules root>/<notebook key>/@requests/<request id>.json

which Airflow's watcher on run requests turns into a run; the run's record keeps the
request's id, and the request is removed once its run is recorded. Until then the runs list
shows the request as a ``queued`` run (see :mod:`bookstore.scheduling`).

This module validates documents (:func:`parse_schedule`), names their DAGs
(:func:`dag_id`), tells their next run times, and reads and writes them
(:class:`ScheduleBook`). Values in a document are data: they are never rendered by Jinja.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .answers import json_fields
from .errors import BookstoreError, InvalidRequestError, NotFoundError
from .keys import path_to_key
from .store import Store, StoredKey

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: Parameters of a schedule or a run request, as JSON, at most.
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_RETRIES = 10
#: Minutes a run may take at most (a day).
MAX_TIMEOUT = 24 * 60
MAX_NOTIFY = 20
REQUESTS_FOLDER = "@requests"
DAG_ID_PREFIX = "bookstore_schedule"

_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+")
#: The fields a client may set; the others (who, when) are the server's.
FIELDS = (
    "name",
    "version_id",
    "cron",
    "timezone",
    "on_publish",
    "parameters",
    "enabled",
    "retries",
    "timeout",
    "notify",
    "force_parameters",
)


@dataclass(frozen=True)
class Schedule:
    """When and how Airflow runs one published notebook.

    Attributes
    ----------
    name
        The schedule's name, unique per notebook (``[A-Za-z0-9_.-]{1,64}``).
    notebook_key
        The notebook's key under the published root, e.g. ``alice/notebooks/a.ipynb``.
    cron
        Five cron fields (minute hour day month weekday), in ``timezone``; None when the
        schedule runs at publications only.
    timezone
        IANA time zone of ``cron`` (default UTC).
    on_publish
        Also run at each publication of the notebook, at exactly the version published.
    version_id
        The published version to run; None: the latest when the run starts.
    parameters
        papermill parameters (a JSON object), passed verbatim.
    enabled
        False: the DAG stays visible in Airflow but runs on no schedule.
    retries
        Airflow retries of a failed run.
    timeout
        Minutes a run may take; None: no limit.
    notify
        E-mail addresses told when a run fails.
    force_parameters
        Run even when the notebook does not declare ``parameters`` in its cell tagged
        ``parameters`` (see :mod:`bookstore.parameters`).
    created_by, created_at, updated_by, updated_at
        Who made the schedule and when, and who changed it last and when.
    """

    name: str
    notebook_key: str
    cron: str | None = None
    timezone: str = "UTC"
    on_publish: bool = False
    version_id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    retries: int = 0
    timeout: int | None = None
    notify: tuple[str, ...] = ()
    force_parameters: bool = False
    created_by: str | None = None
    created_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def dag_id(self) -> str:
        """The Airflow DAG that runs this schedule (see :func:`dag_id`)."""
        return dag_id(self.notebook_key, self.name)

    def as_json(self) -> dict[str, Any]:
        """The document as stored."""
        return {**json_fields(self), "notify": list(self.notify)}

    def describe(self) -> str:
        """The schedule in words, e.g. "at 06:00 every day (Europe/Paris), and at each publication"."""
        parts = []
        if self.cron:
            parts.append(f"{describe_cron(self.cron)} ({self.timezone})")
        if self.on_publish:
            parts.append("at each publication")
        text = ", and ".join(parts) or "never"
        return text if self.enabled else f"{text}; disabled"

    def next_runs(self, count: int = 3, after: datetime | None = None) -> list[datetime]:
        """The next ``count`` times the cron fires after ``after`` (default now), in the
        schedule's time zone; none when disabled or without a cron."""
        if not self.enabled or not self.cron:
            return []
        from croniter import croniter

        zone = ZoneInfo(self.timezone)
        start = (after or datetime.now(UTC)).astimezone(zone)
        times = croniter(self.cron, start)
        return [times.get_next(datetime) for _ in range(count)]


def dag_id(notebook_key: str, name: str) -> str:
    """The stable DAG id of the schedule ``name`` of ``notebook_key``.

    Readable (the notebook's path with ``_`` for what a DAG id cannot hold, and the name),
    and unique: a short hash of the exact key and name tells apart keys that read the same.
    """
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", notebook_key.removesuffix(".ipynb")).strip("_.-")
    digest = hashlib.sha256(f"{notebook_key}\0{name}".encode()).hexdigest()[:8]
    return f"{DAG_ID_PREFIX}__{readable[:150]}__{name}__{digest}"


_WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def describe_cron(cron: str) -> str:
    """The common cron shapes in words ("every hour at minute 5", "at 06:00 every day", "at
    06:00 on Monday"); others as "cron <fields>"."""
    minute, hour, day, month, weekday = cron.split()
    if day == "*" and month == "*" and minute.isdigit():
        if hour == "*" and weekday == "*":
            return f"every hour at minute {int(minute)}"
        if hour.isdigit():
            at = f"at {int(hour):02d}:{int(minute):02d}"
            if weekday == "*":
                return f"{at} every day"
            if weekday.isdigit() and int(weekday) <= 7:
                return f"{at} on {_WEEKDAYS[int(weekday) % 7]}"
    if cron == "* * * * *":
        return "every minute"
    return f"cron {cron}"


def parse_schedule(
    body: Mapping[str, Any],
    notebook_key: str,
    *,
    by: str | None = None,
    existing: Schedule | None = None,
    now: datetime | None = None,
) -> Schedule:
    """The schedule ``body`` asks for (a REST body, or a CLI's options), checked.

    Fields absent from ``body`` keep their value in ``existing`` (a change), or their default
    (a new schedule). ``by`` is who asks: recorded as ``updated_by`` (and ``created_by`` when
    new).

    Raises
    ------
    InvalidRequestError
        A field is malformed, unknown, or out of range; the message says what to fix.
    """
    check_fields(body, FIELDS, "a schedule")
    name = check_name(body.get("name", existing.name if existing else None))
    base = existing or Schedule(name=name, notebook_key=notebook_key)
    values: dict[str, Any] = {}
    if "cron" in body:
        values["cron"] = _cron(body["cron"])
    if "timezone" in body:
        values["timezone"] = _timezone(body["timezone"])
    if "on_publish" in body:
        values["on_publish"] = _bool(body, "on_publish")
    if "enabled" in body:
        values["enabled"] = _bool(body, "enabled")
    if "force_parameters" in body:
        values["force_parameters"] = _bool(body, "force_parameters")
    if "version_id" in body:
        version_id = body["version_id"]
        if version_id is not None and (not isinstance(version_id, str) or not version_id.strip()):
            raise InvalidRequestError("version_id must be a published version id, or null for the latest")
        values["version_id"] = version_id or None
    if "parameters" in body:
        values["parameters"] = parse_parameters(body["parameters"])
    if "retries" in body:
        values["retries"] = _whole(body, "retries", 0, MAX_RETRIES)
    if "timeout" in body:
        values["timeout"] = None if body["timeout"] is None else _whole(body, "timeout", 1, MAX_TIMEOUT)
    if "notify" in body:
        values["notify"] = _notify(body["notify"])
    schedule = replace(base, **values)
    if not schedule.cron and not schedule.on_publish:
        raise InvalidRequestError(
            "a schedule needs a cron (e.g. '0 6 * * *' for 06:00 every day) or on_publish: true, or both"
        )
    moment = now or datetime.now(UTC)
    return replace(
        schedule,
        name=name,
        notebook_key=notebook_key,
        created_by=schedule.created_by if existing else by,
        created_at=schedule.created_at if existing else moment,
        updated_by=by,
        updated_at=moment,
    )


def check_fields(body: Any, known: tuple[str, ...], what: str) -> None:
    """Refuse a body that is not a JSON object, or that has fields ``what`` does not have."""
    if not isinstance(body, Mapping):
        raise InvalidRequestError(f"{what} is a JSON object")
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise InvalidRequestError(
            f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            f"{what} has {', '.join(known)}"
        )


def check_name(name: Any) -> str:
    """``name`` as a schedule's name (``[A-Za-z0-9_.-]{1,64}``)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidRequestError(
            f"schedule name {name!r} is refused: use 1 to 64 letters, digits, '_', '.' or '-' (e.g. 'daily')"
        )
    return name


def parse_parameters(value: Any) -> dict[str, Any]:
    """``value`` as a run's parameters: a JSON object of at most 64 KiB.

    Raises
    ------
    InvalidRequestError
        Not an object, not JSON, or too large.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            f'parameters must be a JSON object such as {{"x": 3}}, not {type(value).__name__}'
        )
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidRequestError(f"parameters must be plain JSON: {e}") from e
    if len(text.encode("utf-8")) > MAX_PARAMETERS_BYTES:
        raise InvalidRequestError(
            f"parameters take {len(text.encode('utf-8'))} bytes as JSON; at most "
            f"{MAX_PARAMETERS_BYTES} are accepted: pass large inputs as a path or key, not inline"
        )
    return json.loads(text)


def _cron(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError("cron must be a string of five fields, e.g. '0 6 * * *'")
    fields = value.split()
    if len(fields) != 5:
        raise InvalidRequestError(
            f"cron {value!r} has {len(fields)} fields; give five: minute hour day-of-month month "
            "day-of-week (e.g. '0 6 * * *' for 06:00 every day, '*/15 * * * *' for every 15 minutes)"
        )
    from croniter import croniter

    text = " ".join(fields)
    if not croniter.is_valid(text):
        raise InvalidRequestError(
            f"cron {value!r} is not valid: minute 0-59, hour 0-23, day 1-31, month 1-12, "
            "day-of-week 0-6 (Sunday is 0), each a value, a range a-b, a list a,b, a step */n or *"
        )
    return text


def _timezone(value: Any) -> str:
    if value is None or value == "":
        return "UTC"
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"timezone {value!r} is not an IANA time zone such as 'Europe/Paris' or 'UTC'"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InvalidRequestError(
            f"timezone {value!r} is unknown: use an IANA name such as 'Europe/Paris', "
            "'America/New_York' or 'UTC'"
        ) from e
    return value


def _bool(body: Mapping[str, Any], name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{name} must be true or false")
    return value


def _whole(body: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequestError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _notify(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise InvalidRequestError("notify must be a list of e-mail addresses")
    bad = [item for item in value if not _EMAIL.fullmatch(item)]
    if bad:
        raise InvalidRequestError(f"notify: {', '.join(map(repr, bad))} is not an e-mail address")
    if len(value) > MAX_NOTIFY:
        raise InvalidRequestError(f"notify names {len(value)} addresses; at most {MAX_NOTIFY} are accepted")
    return tuple(dict.fromkeys(value))


def schedule_from_json(data: Any, where: str) -> Schedule:
    """A stored schedule document, checked as strictly as a new one.

    Raises
    ------
    BookstoreError
        ``data`` is not a schedule document (``where`` names it).
    """
    if not isinstance(data, Mapping):
        raise BookstoreError(f"{where} is not a schedule document (not a JSON object)")
    try:
        body = {name: data[name] for name in FIELDS if name in data}
        schedule = parse_schedule(body, str(data["notebook_key"]))
        return replace(
            schedule,
            created_by=data.get("created_by"),
            created_at=_time(data.get("created_at")),
            updated_by=data.get("updated_by"),
            updated_at=_time(data.get("updated_at")),
        )
    except (KeyError, TypeError, ValueError, InvalidRequestError) as e:
        raise BookstoreError(f"{where} is not a valid schedule document: {e}") from e


def schedule_from_checked(data: Mapping[str, Any]) -> Schedule:
    """A document :meth:`Schedule.as_json` wrote after it was checked (a cache of its own),
    without checking it again."""
    names = {f.name for f in fields(Schedule)}
    values = {name: value for name, value in data.items() if name in names}
    return Schedule(
        **{
            **values,
            "notify": tuple(values.get("notify") or ()),
            "parameters": dict(values.get("parameters") or {}),
            "created_at": _time(values.get("created_at")),
            "updated_at": _time(values.get("updated_at")),
        }
    )


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Listed:
    """A schedule document as the listing found it: its schedule, or why it cannot be read."""

    key: str
    etag: str | None
    schedule: Schedule | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """A valid schedule's document (with its ``dag_id``), or ``{"key", "error"}``."""
        if self.schedule is None:
            return {"key": self.key, "error": self.error}
        return {**self.schedule.as_json(), "dag_id": self.schedule.dag_id}


class ScheduleBook:
    """The schedule documents of one bucket under one root.

    Parameters
    ----------
    store
        The bucket.
    root
        The schedules root (``c.Bookstore.schedules_root``, a connection's ``schedules_root``).
    """

    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.root = root

    def folder(self, notebook_key: str) -> str:
        """The key prefix of ``notebook_key``'s schedules (ending in ``/``)."""
        return path_to_key(self.root, notebook_key) + "/"

    def key(self, notebook_key: str, name: str) -> str:
        """Where the schedule ``name`` of ``notebook_key`` is kept."""
        return f"{self.folder(notebook_key)}{check_name(name)}.json"

    def get(self, notebook_key: str, name: str) -> Schedule:
        """The schedule ``name`` of ``notebook_key``.

        Raises
        ------
        NotFoundError
            There is none.
        """
        key = self.key(notebook_key, name)
        try:
            stored = self.store.get(key)
        except NotFoundError as e:
            raise _no_schedule(notebook_key, name) from e
        return schedule_from_json(_json(stored.body, key), repr(key))

    def find(self, notebook_key: str, name: str) -> Schedule | None:
        """The schedule, or None when there is none."""
        try:
            return self.get(notebook_key, name)
        except NotFoundError:
            return None

    def put(self, schedule: Schedule) -> str | None:
        """Store ``schedule`` (a new version of its document); answers the version id."""
        body = json.dumps(schedule.as_json(), sort_keys=True, indent=1).encode("utf-8")
        return self.store.put(self.key(schedule.notebook_key, schedule.name), body, {})

    def delete(self, notebook_key: str, name: str) -> None:
        """Remove the schedule (its history stays in the bucket's versions), even when its
        document is malformed: removing it is how a hand-written bad one is fixed.

        Raises
        ------
        NotFoundError
            There is none.
        """
        key = self.key(notebook_key, name)
        try:
            self.store.head(key)
        except NotFoundError as e:
            raise _no_schedule(notebook_key, name) from e
        self.store.delete(key)

    def history(self, notebook_key: str, name: str, limit: int = 100) -> list[dict[str, Any]]:
        """Every stored version of the schedule, newest first: when, and the document then."""
        key = self.key(notebook_key, name)
        page = self.store.list_versions(key, limit=limit)
        if not page.versions:
            raise NotFoundError(f"{notebook_key!r} has never had a schedule named {name!r}")
        targets = [(version.key, version.version_id) for version in page.versions]
        answers = []
        for version, found in zip(page.versions, self.store.get_many(targets), strict=True):
            document = None if isinstance(found, BookstoreError) else _json(found.body, key, quiet=True)
            answers.append({**version.as_json(), "document": document})
        return answers

    def keys(self, notebook_key: str | None = None) -> Iterator[StoredKey]:
        """The keys of the schedule documents, in key order (every notebook's, or one's)."""
        prefix = self.folder(notebook_key) if notebook_key else self.root + "/"
        cursor = None
        while True:
            page = self.store.list_keys(prefix, limit=1000, cursor=cursor)
            for stored in page.keys:
                if is_schedule_key(stored.key, self.root):
                    yield stored
            cursor = page.next_cursor
            if not cursor:
                return

    def listing(
        self, notebook_key: str | None = None, known: Mapping[str, Listed] | None = None
    ) -> list[Listed]:
        """Every schedule document (of one notebook, or all), each read or why it cannot be.

        ``known`` holds documents read before, by key: one whose entity tag is unchanged is
        not read again.
        """
        found = list(self.keys(notebook_key))
        known = known or {}
        fresh = [
            stored for stored in found if not (stored.key in known and known[stored.key].etag == stored.etag)
        ]
        bodies = dict(
            zip(
                (stored.key for stored in fresh),
                self.store.get_many([(stored.key, None) for stored in fresh]),
                strict=True,
            )
        )
        answers = []
        for stored in found:
            if stored.key not in bodies:
                answers.append(known[stored.key])
                continue
            answers.append(self._read(stored, bodies[stored.key]))
        return answers

    def _read(self, stored: StoredKey, found: Any) -> Listed:
        try:
            if isinstance(found, BookstoreError):
                raise found
            data = _json(found.body, stored.key)
            schedule = schedule_from_json(data, repr(stored.key))
            expected = self.key(schedule.notebook_key, schedule.name)
            if expected != stored.key:
                raise BookstoreError(
                    f"{stored.key!r} says it is the schedule {schedule.name!r} of "
                    f"{schedule.notebook_key!r}, which belongs at {expected!r}"
                )
            return Listed(stored.key, stored.etag, schedule)
        except BookstoreError as e:
            log.warning("Bookstore: skipping the schedule document %r: %s", stored.key, e)
            return Listed(stored.key, stored.etag, error=str(e))

    # -- run requests ---------------------------------------------------------------------

    def requests_folder(self, notebook_key: str) -> str:
        """The key prefix of ``notebook_key``'s run requests (ending in ``/``)."""
        return f"{self.folder(notebook_key)}{REQUESTS_FOLDER}/"

    def request_key(self, notebook_key: str, request_id: str) -> str:
        """Where the run request ``request_id`` of ``notebook_key`` waits for Airflow."""
        return f"{self.requests_folder(notebook_key)}{request_id}.json"

    def request_run(self, request: Mapping[str, Any]) -> str:
        """Store a run request (see :mod:`bookstore.requests`); answers its key."""
        key = self.request_key(str(request["notebook_key"]), str(request["request_id"]))
        self.store.put(key, json.dumps(dict(request), sort_keys=True).encode("utf-8"), {})
        return key

    def pending_requests(self) -> list[StoredKey]:
        """The run requests not yet taken, oldest first by request id."""
        found = []
        cursor = None
        while True:
            page = self.store.list_keys(self.root + "/", limit=1000, cursor=cursor)
            found += [stored for stored in page.keys if f"/{REQUESTS_FOLDER}/" in stored.key]
            cursor = page.next_cursor
            if not cursor:
                break
        return sorted(found, key=lambda stored: stored.key.rsplit("/", 1)[-1])


def is_schedule_key(key: str, root: str) -> bool:
    """Whether ``key`` is a schedule document's (not a run request's) under ``root``."""
    if not key.startswith(root + "/") or not key.endswith(".json"):
        return False
    folder, _, name = key.rpartition("/")
    return (
        NAME_PATTERN.fullmatch(name.removesuffix(".json")) is not None
        and f"/{REQUESTS_FOLDER}/" not in folder + "/"
        and folder != root
    )


def _no_schedule(notebook_key: str, name: str) -> NotFoundError:
    return NotFoundError(f"{notebook_key!r} has no schedule named {name!r}")


def _json(body: bytes, key: str, *, quiet: bool = False) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:
        if quiet:
            return None
        raise BookstoreError(f"{key!r} is not JSON: {e}") from e
