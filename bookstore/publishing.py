"""Publishing: a server-side copy of the workspace version that holds a notebook's saved bytes.

What Airflow runs is always something that was saved. :func:`ensure_archived` finds the
workspace version holding exactly the saved bytes (waiting, through :class:`PendingSaves`, for
one still on its way to S3) or stores one; :func:`publish` copies one workspace version to its
published key with :func:`~bookstore.metadata.publication_metadata`, so the publication
records which save it came from. Content that already is the latest published version is
answered as it is (``unchanged``). :class:`~bookstore.library.Library` offers both by
Jupyter path (``publish_saved``, ``publish_version``).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from . import metadata, notebooks
from .answers import json_fields
from .errors import NotFoundError
from .store import ObjectInfo, Store

log = logging.getLogger(__name__)


class PendingSaves(Protocol):
    """What publishing needs from whatever archives saves (the Jupyter archive queue):
    whether a save of a key is still on its way to S3, and a way to wait for it."""

    def pending(self, key: str | None = None) -> int: ...

    def failing(self) -> bool: ...

    def wait_for(self, key: str, timeout: float) -> bool: ...


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
        return json_fields(self)


def ensure_archived(
    store: Store, key: str, path: str, body: bytes, pending: PendingSaves | None, wait_timeout: float
) -> ObjectInfo:
    """The version of the workspace ``key`` (of Jupyter ``path``) that holds ``body``.

    A save of ``key`` still pending is waited for, up to ``wait_timeout`` seconds; when the
    latest version then holds other bytes, or there is none, ``body`` is stored here as a new
    version.
    """
    digest = notebooks.sha256_hex(body)
    if pending is not None and pending.pending(key):
        # While uploads fail, waiting cannot help: go to S3 now (503 if it is down).
        if pending.failing():
            log.info("Bookstore: archive of %r is retrying; storing the saved notebook directly", path)
        elif not pending.wait_for(key, wait_timeout):
            log.info(
                "Bookstore: %r still pending after %.1f s; storing the saved notebook directly",
                path,
                wait_timeout,
            )
    latest = _latest(store, key)
    if latest is not None and metadata.content_hash(latest.metadata) == digest:
        return latest
    saved_at = time.time()
    record = metadata.save_metadata(
        sha256=digest, path=path, save_id=uuid.uuid4().hex, saved_at=saved_at, archived_by="publish"
    )
    version_id = store.put(key, body, record)
    log.info("Bookstore: archived %r as version %s of %r for publishing", path, version_id, key)
    return ObjectInfo(key, version_id, len(body), datetime.fromtimestamp(saved_at, UTC), record)


def publish(
    store: Store,
    path: str,
    source: ObjectInfo,
    published_key: str,
    *,
    force: bool = False,
    published_by: str | None = None,
) -> Published:
    """Copy the workspace version ``source`` (of Jupyter ``path``) to ``published_key``,
    recording who published it (``published_by``); unless ``force`` is given, content that
    already is the latest published version is answered as it is (``unchanged``)."""
    sha = metadata.content_hash(source.metadata)
    if sha and not force:
        latest = _latest(store, published_key)
        if latest is not None and metadata.content_hash(latest.metadata) == sha:
            log.info("Bookstore: %r is already published as version %s", path, latest.version_id)
            return Published(
                path=path,
                key=published_key,
                version_id=latest.version_id,
                source_key=latest.metadata.get(metadata.SOURCE_KEY, source.key),
                source_version_id=metadata.version_details(latest.metadata).source_version_id,
                sha256=sha,
                unchanged=True,
            )
    record = metadata.publication_metadata(
        source_key=source.key,
        source_version_id=source.version_id,
        path=path,
        sha256=sha,
        published_at=time.time(),
        published_by=published_by,
    )
    version_id = store.copy(source.key, source.version_id, published_key, record)
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


def _latest(store: Store, key: str) -> ObjectInfo | None:
    try:
        return store.head(key)
    except NotFoundError:
        return None
