"""``PublishedVersionTrigger``: an asset watcher that announces each new published version.

It runs in Airflow's triggerer. Every ``poll_interval`` seconds it lists the versions of one
published notebook (one ``ListObjectVersions`` request) and announces the versions it has
not announced yet, oldest first, **one per poll**: each announcement becomes an asset event,
and Airflow's scheduler, which coalesces the events that arrive between two of its loops
into one DAG run, sees them apart, so every publish gets a DAG run of its own.

What it has announced is kept in Airflow's asset state store (in the metadata database), so
a triggerer that stops and starts again announces the versions published meanwhile. The
triggerer writes an announced event to its database within a second or so, in its own loop;
the watcher records the announcement one poll later, so that a triggerer stopped in between
announces the version again rather than lose it. A version announced twice runs once:
:class:`~bookstore.airflow.operators.PublishedNotebookOperator` skips a version it already
ran for the same task from a publication.

The first time a watcher runs it starts from the notebook's current latest version: what
was published before anyone watched does not start runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from .. import metadata
from ..errors import BookstoreError, NotFoundError
from ..library import PUBLISHED

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

#: Name of the asset state entry holding the last announced version.
CURSOR = "bookstore_announced"
#: Seconds between polls at the least: the triggerer stores announced events once a second,
#: and an announcement is recorded a poll later.
MIN_POLL_INTERVAL = 2.0
#: Versions looked at per poll at most (newest first) to find the ones not yet announced.
SCAN_LIMIT = 1000


class PublishedVersionTrigger(BaseEventTrigger):
    """Announce each new version of a published notebook as an asset event.

    Each event's payload (the asset event's ``extra["payload"]``) is the publication:
    ``notebook_key``, ``bucket``, ``key``, ``version_id``, ``published_at`` (ISO 8601),
    ``published_by`` and ``source_version_id`` (the save it was published from).

    Parameters
    ----------
    notebook_key
        The notebook's path under the published root, e.g. ``alice/notebooks/a.ipynb``.
    bookstore_conn_id
        Airflow connection to the bucket.
    poll_interval
        Seconds between two listings, and between two announcements (2 at the least).
    """

    def __init__(
        self, *, notebook_key: str, bookstore_conn_id: str = "bookstore_default", poll_interval: float = 5.0
    ) -> None:
        super().__init__()
        self.notebook_key = notebook_key
        self.bookstore_conn_id = bookstore_conn_id
        self.poll_interval = max(float(poll_interval), MIN_POLL_INTERVAL)
        self._memory: dict[str, Any] = {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "notebook_key": self.notebook_key,
                "bookstore_conn_id": self.bookstore_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook

        from .hooks import BookstoreHook

        hook = BookstoreHook(self.bookstore_conn_id)
        hook.connection = await BaseHook.aget_connection(self.bookstore_conn_id)
        key = hook.library.key(self.notebook_key, PUBLISHED)
        store = hook.store
        cursor = await self._load_cursor()
        log.info("Watching %s in bucket %r for new published versions (from %s)", key, store.bucket, cursor)
        announced: dict[str, Any] | None = None
        while True:
            if announced is not None:
                # A poll after the announcement: the triggerer has stored the event by now.
                await self._save_cursor(announced)
                announced = None
            try:
                new, latest = await asyncio.to_thread(unannounced_versions, store, key, cursor)
                if cursor is None:
                    # First run: start from what is published now.
                    cursor = latest
                    await self._save_cursor(cursor)
                elif new:
                    version_id, last_modified = new[0]
                    try:
                        payload = await asyncio.to_thread(self._publication, store, key, version_id)
                    except NotFoundError:
                        log.warning(
                            "%s: version %s was deleted before it ran; not announcing it", key, version_id
                        )
                    else:
                        log.info("%s: version %s published; announcing it", key, version_id)
                        yield TriggerEvent(payload)
                    cursor = announced = {"version_id": version_id, "last_modified": last_modified}
            except BookstoreError as e:
                log.warning(
                    "Could not list the versions of %s (trying again in %.0f s): %s",
                    key,
                    self.poll_interval,
                    e,
                )
            await asyncio.sleep(self.poll_interval)

    def _publication(self, store: Store, key: str, version_id: str) -> dict[str, Any]:
        info = store.head(key, version_id)
        details = metadata.version_details(info.metadata)
        return {
            "notebook_key": self.notebook_key,
            "bucket": store.bucket,
            "key": key,
            "version_id": version_id,
            "published_at": (details.saved_at or info.last_modified).isoformat(),
            "published_by": metadata.publisher(info.metadata),
            "source_version_id": details.source_version_id,
        }

    async def _load_cursor(self) -> dict[str, Any] | None:
        if self.asset_state_store is None:
            log.warning(
                "No asset state store (Airflow older than 3.3?): versions published while the "
                "triggerer is stopped will not start runs"
            )
            return self._memory.get(CURSOR)
        value = await self.asset_state_store.aget(CURSOR)
        return value if isinstance(value, dict) else None

    async def _save_cursor(self, cursor: dict[str, Any]) -> None:
        self._memory[CURSOR] = cursor
        if self.asset_state_store is not None:
            await self.asset_state_store.aset(CURSOR, cursor)


def unannounced_versions(
    store: Store, key: str, cursor: dict[str, Any] | None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The versions of ``key`` newer than ``cursor`` (oldest first, as ``(version id, last
    modified)``), and the latest version as a cursor (``version_id`` None when nothing is
    published)."""
    newer: list[tuple[str, str]] = []
    latest: dict[str, Any] = {"version_id": None, "last_modified": None}
    seen_id = (cursor or {}).get("version_id")
    seen_at = _time((cursor or {}).get("last_modified"))
    for index, version in enumerate(store.iter_versions(key, page_size=100)):
        if index == 0:
            latest = {"version_id": version.version_id, "last_modified": version.last_modified.isoformat()}
        if cursor is None or version.version_id == seen_id:
            break
        # The cursor's version gone (deleted): stop at anything older than it.
        if seen_at is not None and version.last_modified < seen_at:
            break
        if index >= SCAN_LIMIT:
            log.warning(
                "%s: more than %d versions not announced; announcing the newest of them", key, SCAN_LIMIT
            )
            break
        if version.version_id:
            newer.append((version.version_id, version.last_modified.isoformat()))
    return newer[::-1], latest


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class RunRequestTrigger(BaseEventTrigger):
    """Announce each run request in the bucket ("run now" in Jupyter) as an asset event, once.

    Every ``poll_interval`` seconds it lists the schedules root (one request per 1000 keys)
    and announces the oldest request not yet announced, **one per poll**, so that each
    starts a DAG run of its own. A request stays in the bucket until its run is recorded
    (:class:`~bookstore.airflow.operators.RequestedRunsOperator` removes it), so a triggerer
    that stops and starts again loses none; a request it announces again then runs once: its
    run record is no longer ``queued`` the second time.

    Each event's payload is the request: ``request_id``, ``notebook_key``, ``version_id``,
    ``parameters``, ``force_parameters``, ``requested_by``, ``requested_at``, and ``key`` (its
    document).
    """

    def __init__(self, *, bookstore_conn_id: str = "bookstore_default", poll_interval: float = 3.0) -> None:
        super().__init__()
        self.bookstore_conn_id = bookstore_conn_id
        self.poll_interval = max(float(poll_interval), MIN_POLL_INTERVAL)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"bookstore_conn_id": self.bookstore_conn_id, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook

        from ..scheduling import read_request
        from .hooks import BookstoreHook

        hook = BookstoreHook(self.bookstore_conn_id)
        hook.connection = await BaseHook.aget_connection(self.bookstore_conn_id)
        book = hook.library.schedules
        store = book.store
        log.info("Watching %s/ in bucket %r for run requests", book.root, store.bucket)
        announced: set[str] = set()
        while True:
            try:
                pending = await asyncio.to_thread(book.pending_requests)
                # Forget what is gone (run and removed); announce the oldest of the rest.
                announced &= {stored.key for stored in pending}
                new = [stored for stored in pending if stored.key not in announced]
                if new:
                    key = new[0].key
                    announced.add(key)
                    found = await asyncio.to_thread(store.get, key)
                    try:
                        request = read_request(found.body, repr(key))
                    except BookstoreError as e:
                        log.error("Not announcing %s, which cannot be run: %s", key, e)
                    else:
                        log.info(
                            "Run request %s for %s; announcing it",
                            request["request_id"],
                            request["notebook_key"],
                        )
                        yield TriggerEvent({**request, "bucket": store.bucket, "key": key})
            except BookstoreError as e:
                log.warning(
                    "Could not look for run requests (trying again in %.0f s): %s", self.poll_interval, e
                )
            await asyncio.sleep(self.poll_interval)
