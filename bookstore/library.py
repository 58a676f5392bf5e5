"""The notebook library: the stages of a notebook in the bucket, and what can be done to them.

Every edge (the REST handlers, the CLI, the Airflow hook and operator, the runner) calls
this module and only parses its input and formats its answers.

A notebook has a history per *stage*: every save is a version of its **workspace** key,
every publication a version of its **published** key. Publishing is a server-side copy of
one exact workspace version (:mod:`bookstore.publishing`), so what Airflow runs is always
something that was saved, and the published object records which save it came from.

Everything here blocks on S3. Callers on an event loop run these methods in a worker
thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import metadata, notebooks, publishing
from .catalog import Catalog, notebook_key_of
from .config import (
    DEFAULT_PUBLISHED_PREFIX,
    DEFAULT_RUNS_PREFIX,
    DEFAULT_SCHEDULES_ROOT,
    DEFAULT_WORKSPACE_PREFIX,
)
from .errors import BookstoreError, InvalidPathError, InvalidRequestError, NotFoundError
from .keys import default_published_root, is_under, normalize_prefix, numbered_names, path_to_key
from .publishing import PendingSaves, Published
from .runs import QUEUED, RUNNING, RunLog, RunRecord
from .schedules import ScheduleBook
from .store import ObjectInfo, ObjectVersion, Store, StoredObject, VersionPage

if TYPE_CHECKING:
    from .config import Bookstore

log = logging.getLogger(__name__)

WORKSPACE = "workspace"
PUBLISHED = "published"
STAGES = (WORKSPACE, PUBLISHED)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

#: Versions whose details are remembered (a version never changes, so they never go stale).
DETAIL_CACHE_SIZE = 20_000


def parse_stage(value: str | None) -> str:
    """The stage named by ``value`` (``workspace`` when None or empty).

    Raises
    ------
    InvalidRequestError
        For any other name.
    """
    if value is None or value == "":
        return WORKSPACE
    if value not in STAGES:
        raise InvalidRequestError(f"unknown stage {value!r}: use one of {', '.join(map(repr, STAGES))}")
    return value


def parse_limit(
    value: str | int | None, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    """A page size between 1 and ``maximum`` (``default`` when None or empty)."""
    if value is None or value == "":
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError) as e:
        raise InvalidRequestError(f"limit {value!r} is not a whole number") from e
    if not 1 <= limit <= maximum:
        raise InvalidRequestError(f"limit must be between 1 and {maximum}, not {limit}")
    return limit


def restore_candidates(path: str) -> Iterator[str]:
    """Names for restoring ``path`` as a new file: ``a/b-restored.ipynb``, ``a/b-restored-1.ipynb``, ...

    Callers take the first one that does not exist.
    """
    return numbered_names(path, "-restored")


def page_as_json(key: str, stage: str, page: VersionPage) -> dict[str, Any]:
    """One page of versions as the REST API and ``bookstore versions --json`` show it."""
    return {
        "key": key,
        "stage": stage,
        "versions": [version.as_json() for version in page.versions],
        "next_cursor": page.next_cursor,
    }


class Library:
    """The notebooks of one bucket under one set of prefixes.

    Parameters
    ----------
    store
        The bucket (from configuration, never from a request).
    workspace_prefix, published_prefix, runs_prefix
        Where saves, publications and executed notebooks go.
    published_root, owner_index
        The prefix every user's publications lie under, which notebook keys are relative
        to, and which segment of a notebook key names its owner (see
        :meth:`~bookstore.config.Bookstore.published_layout`); by default the root the
        published prefix implies (``published`` for ``published/kylek/notebooks``).
    wait_timeout
        Seconds :meth:`publish_saved` waits for a notebook's pending archive.
    schedules_root
        Where schedules and run requests are kept (see :mod:`bookstore.schedules`).
    """

    def __init__(
        self,
        store: Store,
        *,
        workspace_prefix: str = DEFAULT_WORKSPACE_PREFIX,
        published_prefix: str = DEFAULT_PUBLISHED_PREFIX,
        runs_prefix: str = DEFAULT_RUNS_PREFIX,
        published_root: str | None = None,
        owner_index: int | None = None,
        wait_timeout: float = 10.0,
        schedules_root: str = DEFAULT_SCHEDULES_ROOT,
    ) -> None:
        self.store = store
        self.prefixes = {
            WORKSPACE: normalize_prefix(workspace_prefix),
            PUBLISHED: normalize_prefix(published_prefix),
        }
        self.runs_prefix = normalize_prefix(runs_prefix)
        self.published_root = (
            default_published_root(published_prefix, workspace_prefix)
            if published_root is None
            else normalize_prefix(published_root)
        )
        #: Every user's published notebooks, and any one of them by its notebook key.
        self.catalog = Catalog(
            store, self.published_root, owner_index=owner_index, hidden=(self.prefixes[WORKSPACE],)
        )
        #: The records of every run of a published notebook.
        self.runs = RunLog(store, self.runs_prefix)
        #: Every schedule, and the run requests waiting for Airflow.
        self.schedules = ScheduleBook(store, normalize_prefix(schedules_root))
        self.wait_timeout = wait_timeout
        self._details: OrderedDict[tuple[str, str | None], metadata.VersionDetails] = OrderedDict()
        self._details_lock = threading.Lock()

    @classmethod
    def from_settings(cls, bookstore: Bookstore, store: Store | None = None, **kwargs: Any) -> Library:
        """The library the ``c.Bookstore`` settings describe (building their store if not given)."""
        root, owner_index = bookstore.published_layout()
        return cls(
            store or bookstore.create_store(),
            workspace_prefix=bookstore.workspace_prefix,
            published_prefix=bookstore.published_prefix,
            published_root=root,
            owner_index=owner_index,
            **{"runs_prefix": bookstore.runs_prefix, "schedules_root": bookstore.schedules_root, **kwargs},
        )

    @classmethod
    def of_published_root(
        cls,
        store: Store,
        root: str,
        *,
        runs_prefix: str = DEFAULT_RUNS_PREFIX,
        schedules_root: str = DEFAULT_SCHEDULES_ROOT,
    ) -> Library:
        """The library of every publication under ``root``, as Airflow and ``bookstore run``
        see it: paths are notebook keys relative to ``root``, which run records name too."""
        return cls(
            store,
            published_prefix=root,
            published_root=root,
            runs_prefix=runs_prefix,
            schedules_root=schedules_root,
        )

    # -- keys -----------------------------------------------------------------------------

    def prefix(self, stage: str = WORKSPACE) -> str:
        """The key prefix of ``stage`` (normalised: no leading or trailing slash)."""
        return self.prefixes[parse_stage(stage)]

    def key(self, path: str, stage: str = WORKSPACE) -> str:
        """The S3 key of a Jupyter path in ``stage``.

        Raises
        ------
        InvalidPathError
            When ``path`` would leave the stage's prefix (``..``, absolute, encoded tricks).
        """
        prefix = self.prefix(stage)
        try:
            return path_to_key(prefix, path)
        except InvalidPathError as e:
            raise InvalidPathError(
                f"{path!r} is refused: it must stay under the {stage} prefix {prefix!r}: {e}"
            ) from e

    def notebook_key(self, path: str) -> str:
        """The notebook key of ``path``'s publication: its key relative to the published root,
        as the team catalog, run records and an Airflow task's ``notebook_key`` name it."""
        key = self.key(path, PUBLISHED)
        notebook_key = notebook_key_of(key, self.published_root)
        if notebook_key is None:
            raise InvalidPathError(f"{key!r} is not under the published root {self.published_root!r}")
        return notebook_key

    # -- publishing -----------------------------------------------------------------------

    def publish_saved(
        self,
        path: str,
        body: bytes,
        pending: PendingSaves | None = None,
        *,
        force: bool = False,
        published_by: str | None = None,
    ) -> Published:
        """Publish the notebook whose saved bytes are ``body``.

        The workspace version holding exactly these bytes is published: the one the archive
        stores (waited for, up to :attr:`wait_timeout`), or, when the latest workspace
        version holds other bytes or there is none, a new one stored here. When these bytes
        are already the latest published version, that version is answered (``unchanged``)
        unless ``force`` is given. ``published_by`` (who asked) is recorded with it.
        """
        published_key = self.key(path, PUBLISHED)
        with publishing.gave_up_after(path):
            source = self.ensure_archived(path, body, pending)
            return publishing.publish(
                self.store, path, source, published_key, force=force, published_by=published_by
            )

    def publish_version(
        self, path: str, version_id: str, *, force: bool = False, published_by: str | None = None
    ) -> Published:
        """Publish the workspace version ``version_id`` of ``path`` (see :meth:`publish_saved`)."""
        if not isinstance(version_id, str) or not version_id:
            raise InvalidRequestError("version_id must be a non-empty string")
        published_key = self.key(path, PUBLISHED)
        source = self.store.head(self.key(path, WORKSPACE), version_id)
        return publishing.publish(
            self.store, path, source, published_key, force=force, published_by=published_by
        )

    def ensure_archived(self, path: str, body: bytes, pending: PendingSaves | None = None) -> ObjectInfo:
        """The workspace version of ``path`` that holds ``body``, storing it if need be (see
        :func:`bookstore.publishing.ensure_archived`)."""
        key = self.key(path, WORKSPACE)
        return publishing.ensure_archived(self.store, key, path, body, pending, self.wait_timeout)

    # -- reading --------------------------------------------------------------------------

    def versions(
        self, path: str, stage: str = WORKSPACE, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> VersionPage:
        """One page of the versions of ``path`` in ``stage``, newest first.

        Raises
        ------
        NotFoundError
            When the notebook has no version at all in that stage.
        """
        stage = parse_stage(stage)
        key = self.key(path, stage)
        page = self.store.list_versions(key, limit=limit, cursor=cursor or None)
        if not page.versions and not cursor:
            hint = "publish it first" if stage == PUBLISHED else "save it in Jupyter first"
            raise NotFoundError(
                f"{path!r} has no {stage} versions (key {key!r} in bucket {self.store.bucket!r}): {hint}"
            )
        return VersionPage(self._with_details(page.versions), page.next_cursor)

    def _with_details(self, versions: tuple[ObjectVersion, ...]) -> tuple[ObjectVersion, ...]:
        """Versions with what only their metadata tells: when each was saved or published,
        and for a publication the workspace version it was published from.

        S3 lists no metadata, so this asks each version's HEAD, a few at a time, once: a
        version never changes, so what it said is remembered. The details are extra
        information: a version whose HEAD fails (deleted since the listing, S3 failing for a
        moment) keeps ``None``, and the listing itself still answers.
        """
        with self._details_lock:
            known = {(v.key, v.version_id): self._details.get((v.key, v.version_id)) for v in versions}
        missing = [target for target, details in known.items() if details is None]
        for target, found in zip(missing, self.store.head_many(missing), strict=True):
            if isinstance(found, BookstoreError):
                log.debug("Bookstore: no metadata for %r %s: %s", *target, found)
                continue
            details = metadata.version_details(found.metadata)
            known[target] = details
            with self._details_lock:
                self._details[target] = details
                while len(self._details) > DETAIL_CACHE_SIZE:
                    self._details.popitem(last=False)
        return tuple(_with(version, known[(version.key, version.version_id)]) for version in versions)

    def read(self, path: str, stage: str = WORKSPACE, version_id: str | None = None) -> StoredObject:
        """The bytes of one version of ``path`` in ``stage`` (the latest when ``version_id`` is
        None or empty).

        The latest version is read with one GET, whose answer names the version it returned,
        so a publish racing with the read cannot make the caller's record disagree with what
        it got.
        """
        return self.store.get(self.key(path, stage), version_id or None)

    def read_notebook(
        self, path: str, stage: str = WORKSPACE, version_id: str | None = None
    ) -> tuple[StoredObject, dict[str, Any]]:
        """One version of ``path`` and its notebook JSON as stored, e.g. to restore it."""
        stored = self.read(path, stage, version_id)
        return stored, notebooks.read_json(stored.body, describe(stored))

    def executed(self, path: str, run_id: str) -> tuple[RunRecord, StoredObject]:
        """The record of the run ``run_id`` of ``path``'s publication, and its executed notebook.

        Raises
        ------
        NotFoundError
            No such run, or it has no executed notebook (it is running, or never started).
        InvalidPathError
            The record names an output outside the runs prefix.
        """
        record = self.runs.get(self.notebook_key(path), run_id)
        if not record.output_version_id:
            state = {
                RUNNING: "is still running",
                QUEUED: "is waiting for Airflow to start it",
            }.get(record.status, "stopped before writing one")
            raise NotFoundError(f"run {run_id!r} of {path!r} has no executed notebook: it {state}")
        if not is_under(record.output_key, self.runs_prefix):
            raise InvalidPathError(
                f"run {run_id!r} names its output {record.output_key!r}, outside the runs prefix "
                f"{self.runs_prefix!r}; it is not read from here"
            )
        return record, self.store.get(record.output_key, record.output_version_id)

    def latest_version_id(self, path: str, stage: str = PUBLISHED) -> str:
        """The version id of the latest version of ``path`` in ``stage`` (published by default).

        Raises
        ------
        NotFoundError
            Nothing is there, or the bucket is not versioned.
        """
        key = self.key(path, stage)
        version_id = self.store.head(key).version_id
        if not version_id:
            raise NotFoundError(f"{key!r} has no version id: is versioning enabled on {self.store.bucket!r}?")
        return version_id


def _with(version: ObjectVersion, details: metadata.VersionDetails | None) -> ObjectVersion:
    """``version`` with its ``details``, when they could be read."""
    if details is None:
        return version
    return replace(version, saved_at=details.saved_at, source_version_id=details.source_version_id)


def describe(stored: StoredObject) -> str:
    """How messages name a stored version."""
    return f"version {stored.info.version_id!r} of {stored.info.key!r}"
