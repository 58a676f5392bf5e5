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

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from . import metadata, notebooks
from .answers import json_fields
from .errors import NO_ANSWER, NotFoundError, StoreUnavailableError
from .store import ObjectInfo, Store

T = TypeVar("T")

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

    A save of ``key`` still pending is waited for, up to ``wait_timeout`` seconds, while the
    store answers; when the latest version then holds other bytes, or there is none, ``body``
    is stored here as a new version.

    Raises
    ------
    StoreUnavailableError
        The store did not answer within its read timeout (:attr:`Store.patience`), with or
        without a save on its way to it.
    """
    digest = notebooks.sha256_hex(body)
    if pending is not None and pending.pending(key):
        # While uploads fail, waiting cannot help: go to S3 now (503 if it is down).
        if pending.failing():
            log.info("Bookstore: archive of %r is retrying; storing the saved notebook directly", path)
        elif not _wait_for_save(store, key, path, pending, wait_timeout):
            log.info(
                "Bookstore: %r still pending after %.1f s; storing the saved notebook directly",
                path,
                wait_timeout,
            )
    # The first request of a publish: a store that holds it unanswered is known within one
    # read timeout, not after botocore's attempts of it.
    latest = _answered(store, lambda: _latest(store, key), f"while looking up {key!r}")
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
        latest = _answered(
            store, lambda: _latest(store, published_key), f"while looking up {published_key!r}"
        )
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


@contextlib.contextmanager
def gave_up_after(path: str) -> Iterator[None]:
    """Say, when the store is unavailable while publishing ``path``, how long publishing
    waited in all (a person waited that long for the answer)."""
    started = time.monotonic()
    try:
        yield
    except StoreUnavailableError as e:
        waited = time.monotonic() - started
        reason = str(e).removesuffix("try again shortly").rstrip(":;. ")
        raise StoreUnavailableError(
            f"{reason}; publishing {path!r} gave up after {waited:.1f} s in all (saves on their "
            "way to the store are archived once it answers): try again shortly",
            may_have_succeeded=e.may_have_succeeded,
            fault=e.fault,
        ) from e


def _wait_for_save(store: Store, key: str, path: str, pending: PendingSaves, timeout: float) -> bool:
    """Wait up to ``timeout`` s for the pending save of ``key``; True once it is archived.

    The store is asked about ``key`` meanwhile: a save still on its way is worth waiting for
    only while the store answers. A store that holds requests unanswered (frozen, behind a
    stuck proxy) is given up on after one read timeout, not after the whole wait.

    Raises
    ------
    StoreUnavailableError
        The store did not answer within its read timeout, or answered with a failure.
    """
    started = time.monotonic()
    probe = _in_background(lambda: _latest(store, key))
    limit = store.patience.read_timeout
    while not pending.wait_for(key, 0.1):
        waited = time.monotonic() - started
        if probe.done():
            probe.result()  # raises what the store answered, if it failed
        elif waited > limit:
            raise _no_answer(store, limit, f"while the save of {path!r} was on its way to it")
        if waited >= timeout:
            return False
    return True


def _answered(store: Store, call: Callable[[], T], doing: str) -> T:
    """``call()``'s answer, or :class:`StoreUnavailableError` when the store has not answered
    within its read timeout (the call is then left to end by itself, its answer unused)."""
    limit = store.patience.read_timeout
    future = _in_background(call)
    try:
        return future.result(timeout=limit)
    except TimeoutError:
        raise _no_answer(store, limit, doing) from None


def _no_answer(store: Store, seconds: float, doing: str) -> StoreUnavailableError:
    where = f"bucket {store.bucket!r}" + (f" at {store.endpoint_url}" if store.endpoint_url else "")
    return StoreUnavailableError(
        f"The {where} did not answer within {seconds:g} s {doing}; it may be overloaded or stuck",
        may_have_succeeded=True,
        fault=NO_ANSWER,
    )


def _in_background(call: Callable[[], T]) -> Future[T]:
    """Run ``call`` in a daemon thread: a read the caller may stop waiting for, which must
    not hold up the process's exit."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as e:  # handed to whoever waits for the answer
            future.set_exception(e)

    threading.Thread(target=run, name="bookstore-publish-read", daemon=True).start()
    return future
