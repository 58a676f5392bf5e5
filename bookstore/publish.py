"""Publish, list, read and restore notebook versions: the logic the REST API and the CLI share.

A notebook has two histories in the bucket, one per *stage*: every save is a version of its
workspace key, every publication a version of its published key. Publishing is a
server-side copy of one exact workspace version, so what Airflow runs is always something
that was saved; the published object records which version it came from.

Everything here blocks on S3. Callers on an event loop (the Jupyter handlers) run these
methods in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .archive_queue import META_PATH, META_SAVE_ID, META_SAVED_AT, META_SHA256
from .errors import BookstoreError, InvalidRequestError, NotFoundError
from .keys import path_to_key, validate_path
from .store import ObjectInfo, ObjectVersion, S3Store, StoredObject, VersionPage

if TYPE_CHECKING:
    from .archive_queue import ArchiveQueue
    from .config import Bookstore

log = logging.getLogger(__name__)

WORKSPACE = "workspace"
PUBLISHED = "published"
STAGES = (WORKSPACE, PUBLISHED)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

#: S3 metadata recorded on every published version.
META_SOURCE_KEY = "bookstore-source-key"
META_SOURCE_VERSION_ID = "bookstore-source-version-id"
META_PUBLISHED_AT = "bookstore-published-at"
#: Set on workspace versions that publishing stored itself, rather than the archive queue.
META_ARCHIVED_BY = "bookstore-archived-by"

#: HEAD requests in flight at once while reading the metadata of a page of versions.
DETAIL_LOOKUPS = 8
#: Versions whose metadata is remembered (a version never changes, so it never goes stale).
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


def parse_limit(value: str | int | None) -> int:
    """A page size between 1 and :data:`MAX_PAGE_SIZE` (:data:`DEFAULT_PAGE_SIZE` when None)."""
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    try:
        limit = int(value)
    except (TypeError, ValueError) as e:
        raise InvalidRequestError(f"limit {value!r} is not a whole number") from e
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    return limit


def _timestamp(value: str | None) -> datetime | None:
    """A time bookstore wrote into metadata (seconds since the epoch), or None."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


def _details(metadata: Mapping[str, str]) -> tuple[datetime | None, str | None]:
    """When a version was saved (a save) or published (a publication), and the save a
    publication was published from."""
    saved_at = _timestamp(metadata.get(META_SAVED_AT) or metadata.get(META_PUBLISHED_AT))
    return saved_at, metadata.get(META_SOURCE_VERSION_ID)


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def restore_candidates(path: str) -> Iterator[str]:
    """Names for restoring ``path`` as a new file: ``a/b-restored.ipynb``, ``a/b-restored-1.ipynb``, ...

    Callers take the first one that does not exist.
    """
    folder, name = posixpath.split(validate_path(path))
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suffix = f".{ext}" if dot else ""
    counter = 0
    while True:
        tail = "-restored" if counter == 0 else f"-restored-{counter}"
        yield posixpath.join(folder, f"{stem}{tail}{suffix}")
        counter += 1


def parse_notebook(stored: StoredObject) -> dict[str, Any]:
    """The notebook JSON of a stored version, checked to look like a notebook."""
    info = stored.info
    try:
        content = json.loads(stored.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BookstoreError(
            f"version {info.version_id!r} of {info.key!r} is not a notebook (not JSON): {e}"
        ) from e
    if not isinstance(content, dict) or "cells" not in content or "nbformat" not in content:
        raise BookstoreError(f"version {info.version_id!r} of {info.key!r} is not a Jupyter notebook")
    return content


@dataclass(frozen=True)
class Published:
    """The outcome of publishing one notebook version."""

    path: str
    key: str
    version_id: str | None
    source_key: str
    source_version_id: str | None
    sha256: str | None
    #: True when the content was already the latest published version, which is answered
    #: instead of publishing it again.
    unchanged: bool = False

    def as_json(self) -> dict[str, Any]:
        """The answer of the REST API and of ``bookstore publish --json``."""
        return {
            "path": self.path,
            "key": self.key,
            "version_id": self.version_id,
            "source_key": self.source_key,
            "source_version_id": self.source_version_id,
            "sha256": self.sha256,
            "unchanged": self.unchanged,
        }


def page_as_json(key: str, stage: str, page: VersionPage) -> dict[str, Any]:
    """One page of versions as the REST API and ``bookstore versions --json`` show it."""
    return {
        "key": key,
        "stage": stage,
        "versions": [version.as_json() for version in page.versions],
        "next_cursor": page.next_cursor,
    }


class Publisher:
    """Publish, list, read and restore the versions of notebooks under one configuration.

    Parameters
    ----------
    store
        The bucket (from configuration, never from a request).
    bookstore
        The prefixes of the two stages.
    wait_timeout
        Seconds :meth:`publish_saved` waits for a notebook's pending archive.
    """

    def __init__(self, store: S3Store, bookstore: Bookstore, *, wait_timeout: float = 10.0) -> None:
        self.store = store
        self.bookstore = bookstore
        self.wait_timeout = wait_timeout
        self._details: OrderedDict[tuple[str, str | None], tuple[datetime | None, str | None]] = OrderedDict()
        self._details_lock = threading.Lock()

    # -- keys -----------------------------------------------------------------------------

    def prefix(self, stage: str = WORKSPACE) -> str:
        """The key prefix of ``stage`` (normalised: no leading or trailing slash)."""
        return {
            WORKSPACE: self.bookstore.workspace_prefix,
            PUBLISHED: self.bookstore.published_prefix,
        }[parse_stage(stage)]

    def key(self, path: str, stage: str = WORKSPACE) -> str:
        """The S3 key of a Jupyter path in ``stage``; refuses paths that leave the prefix."""
        return path_to_key(self.prefix(stage), path)

    def existing_variants(self, path: str, stage: str = WORKSPACE) -> list[str]:
        """Paths with versions in ``stage`` that ``path``, which has none, probably meant.

        People paste keys: the whole key (``published/kylek/notebooks/a.ipynb``) or an Airflow
        ``notebook_key`` (``kylek/notebooks/a.ipynb``, under the published root). Each way of
        reading ``path`` as a key that lands under the stage's prefix is tried.
        """
        prefix = self.prefix(stage)
        parts = prefix.split("/") if prefix else []
        found: list[str] = []
        for depth in range(len(parts)):
            head = "/".join(parts[:depth])
            key = f"{head}/{path}" if head else path
            if not key.startswith(prefix + "/"):
                continue
            candidate = key[len(prefix) + 1 :]
            try:
                validate_path(candidate)
                self.store.head(key)
            except BookstoreError:
                continue
            found.append(candidate)
        return found

    # -- publishing -----------------------------------------------------------------------

    def publish_saved(
        self, path: str, body: bytes, queue: ArchiveQueue | None = None, *, force: bool = False
    ) -> Published:
        """Publish the notebook whose saved bytes are ``body``.

        The workspace version holding exactly these bytes is published: the one the archive
        queue stores (waited for, up to :attr:`wait_timeout`), or, when the latest workspace
        version holds other bytes or there is none, a new one stored here. When these bytes
        are already the latest published version, that version is answered (``unchanged``)
        unless ``force`` is given.
        """
        published_key = self.key(path, PUBLISHED)
        source = self.ensure_archived(path, body, queue)
        return self._copy(path, source, published_key, force=force)

    def publish_version(self, path: str, version_id: str, *, force: bool = False) -> Published:
        """Publish the workspace version ``version_id`` of ``path`` (see :meth:`publish_saved`)."""
        if not isinstance(version_id, str) or not version_id:
            raise InvalidRequestError("version_id must be a non-empty string")
        source_key = self.key(path, WORKSPACE)
        published_key = self.key(path, PUBLISHED)
        source = self.store.head(source_key, version_id)
        return self._copy(path, source, published_key, force=force)

    def ensure_archived(self, path: str, body: bytes, queue: ArchiveQueue | None = None) -> ObjectInfo:
        """The workspace version of ``path`` that holds ``body``, storing it if need be."""
        key = self.key(path, WORKSPACE)
        digest = sha256_hex(body)
        if queue is not None and queue.pending(key):
            # While uploads fail, waiting cannot help: go to S3 now (503 if it is down).
            if queue.status()["state"] != "ok":
                log.info("Bookstore: archive of %r is retrying; storing the saved notebook directly", path)
            elif not queue.wait_for(key, self.wait_timeout):
                log.info(
                    "Bookstore: %r still pending after %.1f s; storing the saved notebook directly",
                    path,
                    self.wait_timeout,
                )
        try:
            latest: ObjectInfo | None = self.store.head(key)
        except NotFoundError:
            latest = None
        if latest is not None and latest.metadata.get(META_SHA256) == digest:
            return latest
        saved_at = time.time()
        metadata = {
            META_SHA256: digest,
            META_PATH: path,
            META_SAVE_ID: uuid.uuid4().hex,
            META_SAVED_AT: f"{saved_at:.6f}",
            META_ARCHIVED_BY: "publish",
        }
        version_id = self.store.put(key, body, metadata)
        log.info("Bookstore: archived %r as version %s of %r for publishing", path, version_id, key)
        return ObjectInfo(key, version_id, len(body), datetime.fromtimestamp(saved_at, UTC), metadata)

    def _copy(self, path: str, source: ObjectInfo, published_key: str, *, force: bool) -> Published:
        sha = source.metadata.get(META_SHA256)
        if sha and not force:
            unchanged = self._published_with(published_key, sha)
            if unchanged is not None:
                log.info("Bookstore: %r is already published as version %s", path, unchanged.version_id)
                return Published(
                    path=path,
                    key=published_key,
                    version_id=unchanged.version_id,
                    source_key=unchanged.metadata.get(META_SOURCE_KEY, source.key),
                    source_version_id=unchanged.metadata.get(META_SOURCE_VERSION_ID) or None,
                    sha256=sha,
                    unchanged=True,
                )
        metadata = {
            META_SOURCE_KEY: source.key,
            META_SOURCE_VERSION_ID: source.version_id or "null",
            META_PATH: path,
            META_PUBLISHED_AT: f"{time.time():.6f}",
        }
        if sha:
            metadata[META_SHA256] = sha
        version_id = self.store.copy(source.key, source.version_id, published_key, metadata)
        log.info(
            "Bookstore: published %r version %s as %r version %s",
            source.key,
            source.version_id,
            published_key,
            version_id,
        )
        return Published(
            path=path,
            key=published_key,
            version_id=version_id,
            source_key=source.key,
            source_version_id=source.version_id,
            sha256=sha,
        )

    def _published_with(self, published_key: str, sha: str) -> ObjectInfo | None:
        """The latest published version, if it holds the content whose hash is ``sha``."""
        try:
            latest = self.store.head(published_key)
        except NotFoundError:
            return None
        return latest if latest.metadata.get(META_SHA256) == sha else None

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
        moment) or that carries none (put there by another tool) keeps ``None``, and the
        listing itself still answers.
        """

        def detailed(version: ObjectVersion) -> ObjectVersion:
            cache_key = (version.key, version.version_id)
            with self._details_lock:
                details = self._details.get(cache_key)
            if details is None:
                try:
                    info = self.store.head(version.key, version.version_id)
                except BookstoreError as e:
                    log.debug("Bookstore: no metadata for %r %s: %s", version.key, version.version_id, e)
                    return version
                details = _details(info.metadata)
                with self._details_lock:
                    self._details[cache_key] = details
                    while len(self._details) > DETAIL_CACHE_SIZE:
                        self._details.popitem(last=False)
            return replace(version, saved_at=details[0], source_version_id=details[1])

        if len(versions) <= 1:
            return tuple(map(detailed, versions))
        with ThreadPoolExecutor(min(DETAIL_LOOKUPS, len(versions))) as pool:
            return tuple(pool.map(detailed, versions))

    def read(self, path: str, stage: str = WORKSPACE, version_id: str | None = None) -> StoredObject:
        """The bytes of one version of ``path`` in ``stage`` (the latest when ``version_id`` is None)."""
        return self.store.get(self.key(path, stage), version_id or None)

    def read_notebook(
        self, path: str, stage: str = WORKSPACE, version_id: str | None = None
    ) -> tuple[StoredObject, dict[str, Any]]:
        """One version of ``path`` and its notebook JSON, for restoring it."""
        stored = self.read(path, stage, version_id)
        return stored, parse_notebook(stored)
