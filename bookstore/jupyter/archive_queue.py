"""The archive queue: every save becomes an S3 version, in save order, without blocking.

Saves are written to a :class:`~bookstore.spool.Spool` (local disk) before the save is
answered, then uploaded by a few worker threads. Each key always goes to the same worker,
so versions of one notebook appear in save order, while different notebooks upload side by
side. A failed upload stays at the head of its worker's queue and is retried with
exponential backoff until it succeeds: nothing is skipped. Entries are deleted from the
spool only once S3 has answered with the new version, and a server that restarts replays
whatever is left.

Two kinds of save do not become a new version:

- a save whose bytes are the notebook's latest version already (its SHA-256 is the
  ``bookstore-sha256`` of the version S3 holds as latest): only *consecutive* identical
  saves, so saving A, B, then A again stores A, B, A;
- an autosave (a save the server made on its own, :attr:`SpoolEntry.auto`) that a later save
  of the same notebook replaces before its turn. A notebook gets at most one version for its
  autosaves per ``autosave_interval``: an autosave within the interval after the notebook's
  last stored version waits, in the spool, until the interval is over (then it is
  uploaded), and a newer autosave takes its place. A save a person asked for is uploaded at
  once and replaces a waiting autosave; stopping the queue uploads the waiting ones, and a
  server stopped before that replays them from the spool.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import zlib
from collections import deque
from typing import Any

from .. import metadata
from ..errors import (
    BUCKET_MISSING,
    CLOCK_SKEW,
    CREDENTIALS_REFUSED,
    THROTTLED,
    BookstoreError,
    MisconfiguredError,
    NotFoundError,
)
from ..notebooks import sha256_hex_of
from ..store import ObjectInfo, Store
from .bucket_check import UNKNOWN, BucketCheck
from .ledger import COALESCED, STORED, UNCHANGED, Archived, ArchiveLedger, UploadSettings
from .spool import Spool, SpoolEntry

log = logging.getLogger(__name__)

#: What the queue does about each fault, added to the error in the status and the log.
ARCHIVE_ADVICE = {
    THROTTLED: "uploads back off and retry by themselves; if it lasts, lower "
    "c.BookstoreContentsArchiver.upload_workers or ask for a higher request rate on the bucket",
    BUCKET_MISSING: "saves are kept on local disk and archived, in order, once the bucket exists again",
    CREDENTIALS_REFUSED: "saves are kept on local disk and archived once the bucket accepts the credentials "
    "(new keys in the configuration take effect when Jupyter restarts; the kept saves are archived then)",
    CLOCK_SKEW: "saves are kept on local disk and archived once the clock is right",
}


class ArchiveQueue(ArchiveLedger):
    """Upload spooled saves to S3 in the background, from threads of this process.

    Parameters
    ----------
    store
        Where versions go (its timeouts are the caller's: ``settings.upload_timeout`` is not
        applied here).
    spool
        Where pending saves wait; replayed by :meth:`start`.
    settings
        Workers, spool size, backoff: see :class:`~bookstore.jupyter.ledger.UploadSettings`.
    """

    def __init__(
        self,
        store: Store,
        spool: Spool,
        settings: UploadSettings | None = None,
        *,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        super().__init__(spool, settings or UploadSettings(), logger or log)
        self.store = store
        self._shards: list[deque[SpoolEntry]] = [deque() for _ in range(self.workers)]
        #: Per worker: the autosave of each key held back until its interval is over, and when
        #: that is (time.monotonic()); 0 once due.
        self._held: list[dict[str, tuple[float, SpoolEntry]]] = [{} for _ in range(self.workers)]
        #: When the save this queue last stored as a new version of each key was made (its
        #: saved_at): autosave intervals are counted in save time, so a backlog archived
        #: after an outage, or replayed after a restart, is coalesced as it was saved.
        self._stored_at: dict[str, float] = {}
        #: True while stopping: held autosaves are uploaded now, none is held any more.
        self._flushing = False
        self._threads: list[threading.Thread] = []
        self._started = False
        self._s3_failing_since: float | None = None
        self._bucket = BucketCheck(store, self.log)

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Replay the spool left by earlier runs and start the workers (idempotent)."""
        with self._cond:
            if self._started:
                return
            self._started = True
            replayed = self.spool.load()
            for entry in replayed:
                self._push(entry)
            # The first save of each worker may have been in flight when the previous server
            # died, held by a stalled S3 that acts on it later: settle before re-sending it.
            for shard in self._shards:
                if shard:
                    shard[0].uncertain = True
            for index in range(self.workers):
                thread = threading.Thread(
                    target=self._work, args=(index,), name=f"bookstore-archive-{index}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        if replayed:
            self.log.info(
                "Bookstore: replaying %d save(s) that were not yet archived to bucket %r",
                len(replayed),
                self.store.bucket,
            )
        threading.Thread(target=self.check_bucket, name="bookstore-check", daemon=True).start()

    def stop(self, timeout: float = 5.0) -> None:
        """Upload the autosaves held back for their interval (for up to ``timeout`` seconds,
        while S3 works), then stop the workers; whatever is still pending stays in the spool
        for the next start."""
        with self._cond:
            held = {entry.seq for shard in self._held for _, entry in shard.values()}
            self._flushing = True
            self._cond.notify_all()
            if held and self._started:
                self._cond.wait_for(
                    lambda: self._s3_failing_since is not None or not held & self._pending.keys(), timeout
                )
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self.spool.release()

    def check_bucket(self) -> str | None:
        """Check that the bucket is reachable and versioned (see :class:`BucketCheck`)."""
        return self._bucket.check()

    # -- the save path --------------------------------------------------------------------

    def enqueue(self, key: str, path: str, body: bytes, *, auto: bool = False) -> SpoolEntry | None:
        """Spool one save (durably, on local disk) and queue its upload; ``auto``: the server
        made it on its own (see :attr:`~bookstore.jupyter.spool.SpoolEntry.auto`).

        Returns None, without raising, when the save could not be spooled (see
        :meth:`~bookstore.jupyter.ledger.ArchiveLedger._spool_save`).
        """
        self.start()
        entry = self._spool_save(key, path, body, auto)
        if entry is not None:
            with self._cond:
                self._shard_of(entry).append(entry)
                self._cond.notify_all()
        return entry

    def _push(self, entry: SpoolEntry) -> None:
        """Count an entry pending and queue it (caller holds the lock)."""
        self._add_pending(entry)
        self._shard_of(entry).append(entry)

    def _shard_of(self, entry: SpoolEntry) -> deque[SpoolEntry]:
        return self._shards[self._index_of(entry.key)]

    def _index_of(self, key: str) -> int:
        return zlib.crc32(key.encode()) % self.workers

    def hurry(self, key: str | None) -> None:
        """Make the autosave of ``key`` (of every key: None) held back for its interval due now."""
        with self._cond:
            shards = self._held if key is None else [self._held[self._index_of(key)]]
            for held in shards:
                for name, (_, entry) in held.items():
                    if key is None or name == key:
                        held[name] = (0.0, entry)
            self._cond.notify_all()

    # -- workers --------------------------------------------------------------------------

    def _work(self, index: int) -> None:
        queue = self._shards[index]
        while True:
            with self._cond:
                entry, drop = self._next(index)
                if entry is None:
                    return
                if not drop:
                    # Measured against the wall clock the save was stamped with; replayed and
                    # older entries are already past it.
                    wait = entry.saved_at + self.settings.upload_delay - time.time()
                    if wait > 0:
                        self._cond.wait(wait)
                        if self._stopping:
                            return
            if drop:
                self._coalesce(entry)
                continue
            try:
                archived = self._upload(entry)
            except BookstoreError as e:
                self._failed(entry, e)
                continue
            except Exception as e:  # a bug must not kill the worker and strand the queue
                self.log.exception("Bookstore: unexpected error archiving %r", entry.path)
                entry.uncertain = True  # it may have failed after the upload
                self._failed(entry, e)
                continue
            self.spool.remove(entry)
            with self._cond:
                queue.popleft()
                self._done(entry, archived)
                self._cond.notify_all()

    def _next(self, index: int) -> tuple[SpoolEntry | None, bool]:
        """What worker ``index`` does next (caller holds the lock): upload an entry (it stays
        at the head of the worker's queue until done), drop an autosave a later save replaces
        (already taken out of the queue: ``(entry, True)``), or stop (``(None, False)``).

        Waits while there is nothing to do. Autosaves within their notebook's interval are
        moved aside to the worker's held ones until they are due.
        """
        queue, held = self._shards[index], self._held[index]
        while not self._stopping:
            now = time.monotonic()
            for key, (due, entry) in list(held.items()):
                if self._flushing or due <= now:
                    # Older than any save of its key still queued: it goes first.
                    del held[key]
                    entry.released = True
                    queue.appendleft(entry)
            if not queue:
                wake = min((due for due, _ in held.values()), default=None)
                self._cond.wait(None if wake is None else max(0.0, wake - now))
                continue
            entry = queue[0]
            replaced = held.pop(entry.key, None)
            if replaced is not None:
                # A later save of the notebook (this one) takes the waiting autosave's place.
                return replaced[1], True
            if not entry.auto:
                return entry, False
            if self._pending_by_key.get(entry.key, 0) > 1:
                # A later save of the notebook is already queued behind it: it is that one's turn.
                queue.popleft()
                return entry, True
            interval = self.settings.autosave_interval
            stored_at = self._stored_at.get(entry.key)
            # (At most an interval from now, whatever the wall clock did.)
            wait = 0.0 if stored_at is None else min(interval, stored_at + interval - time.time())
            if entry.released or self._flushing or wait <= 0:
                return entry, False
            queue.popleft()
            held[entry.key] = (now + wait, entry)
        return None, False

    def _coalesce(self, entry: SpoolEntry) -> None:
        """Drop an autosave that a later save of its notebook replaces (no lock held)."""
        self.spool.remove(entry)
        outcome = Archived(entry.key, None, "", entry.saved_at, time.time(), COALESCED)
        with self._cond:
            self._settle(entry.seq, outcome)

    def _upload(self, entry: SpoolEntry) -> Archived:
        """Store one save as a new version, exactly once, unless it is the latest version already.

        botocore never re-sends an upload (the queue's store has no retries of its own): a
        request whose answer was lost may still be acted on by S3, so before trying again
        the queue checks whether the save already landed.
        """
        if self._bucket.holding():
            # Ask again, once per backoff: uploads resume as soon as versioning is back.
            self._bucket.check(wait=True)
            if self._bucket.holding():
                entry.attempts += 1
                raise self._bucket.holding_error()
        with entry.open_body() as body:
            sha256 = sha256_hex_of(body)
        latest: ObjectInfo | None = None
        looked = False
        # Only an upload whose answer was lost (or one from before a restart) may have landed:
        # an error answer from S3 means nothing was stored.
        if entry.replayed or entry.uncertain:
            latest, looked = self._latest(entry.key), True
            landed = self._landed(entry, latest)
            if landed is None and entry.uncertain:
                # A stalled S3 acts on the requests it held the moment it resumes, maybe just
                # after answering the check; look again once they have had time to land.
                self._pause(self.settings.settle_delay)
                latest = self._latest(entry.key)
                landed = self._landed(entry, latest)
            if landed is not None:
                return landed
        with self._cond:
            known = self._last_archived.get(entry.key)
        # What this queue archived last tells when the bytes cannot be the latest version; when
        # they may be (or it archived nothing of the key yet), S3's latest version decides, so
        # a version another writer added in between is never taken for this save.
        if known is None or known.sha256 == sha256:
            if not looked:
                latest = self._latest_if_answered(entry.key)
            if latest is not None and metadata.content_hash(latest.metadata) == sha256:
                self.log.debug("Bookstore: %r is unchanged since version %s", entry.path, latest.version_id)
                return Archived(entry.key, latest.version_id, sha256, entry.saved_at, time.time(), UNCHANGED)
        entry.attempts += 1
        # Streamed from the spool file, never held whole: a big notebook costs one part of memory.
        with entry.open_body() as body:
            record = metadata.save_metadata(
                sha256=sha256, path=entry.path, save_id=entry.save_id, saved_at=entry.saved_at
            )
            version_id = self.store.put_file(entry.key, body, entry.size, record, sha256=sha256)
        if version_id in (None, "null") and (
            self._bucket.versioning is not None or self._bucket.seen_enabled
        ):
            # No version: the bucket stopped keeping versions. This save is its one unversioned
            # copy; the next ones wait (see BucketCheck.holding) rather than replace it.
            if self._bucket.check(wait=True) != "Enabled":
                self.log.warning(
                    "Bookstore: %r was stored as the only unversioned copy in bucket %r",
                    entry.path,
                    self.store.bucket,
                )
            version_id = None
        return Archived(entry.key, version_id, sha256, entry.saved_at, time.time())

    def _latest(self, key: str) -> ObjectInfo | None:
        """The latest version of ``key``, None when there is none."""
        try:
            return self.store.head(key)
        except NotFoundError:
            return None

    def _latest_if_answered(self, key: str) -> ObjectInfo | None:
        """The latest version of ``key``; None also when S3 fails to say, since the upload
        that follows then fails with the error that tells what is wrong (an error answering a
        HEAD request has no body to name it), or stores the save."""
        try:
            return self._latest(key)
        except BookstoreError as e:
            self.log.debug("Bookstore: could not tell whether %r is unchanged: %s", key, e)
            return None

    def _landed(self, entry: SpoolEntry, latest: ObjectInfo | None) -> Archived | None:
        """The version an earlier attempt (or run) stored for ``entry``, if ``latest`` is it."""
        if latest is None or not metadata.is_save(latest.metadata, entry.save_id):
            return None
        self.log.info(
            "Bookstore: %r was already archived as version %s by an attempt whose answer was lost",
            entry.path,
            latest.version_id,
        )
        sha256 = metadata.content_hash(latest.metadata) or ""
        return Archived(entry.key, latest.version_id, sha256, entry.saved_at, time.time())

    def _done(self, entry: SpoolEntry, archived: Archived) -> None:
        """Book-keeping after a confirmed upload (caller holds the lock)."""
        self._settle(entry.seq, archived)
        if archived.outcome == STORED:
            self._stored_at[entry.key] = entry.saved_at
        if self._s3_failing_since is not None and not any(self._shards_blocked()):
            self.log.info(
                "Bookstore: archiving to bucket %r works again; %d save(s) still pending",
                self.store.bucket,
                len(self._pending),
            )
            self._s3_failing_since = None
            self._fault = None
            self._spool_full_logged = False
        if self._bucket.versioning == UNKNOWN:
            # The start-up check could not reach S3; now that it answers, check again.
            threading.Thread(target=self.check_bucket, name="bookstore-check", daemon=True).start()

    def _shards_blocked(self) -> list[bool]:
        return [bool(q) and q[0].attempts > 0 for q in self._shards]

    def _failed(self, entry: SpoolEntry, error: Exception) -> None:
        fault = getattr(error, "fault", None)
        if isinstance(error, MisconfiguredError) and fault in (CREDENTIALS_REFUSED, None):
            # A refusal may be a bucket that is gone (S3 servers answer AccessDenied to a write
            # into a missing bucket): ask the bucket itself, to say which.
            found = self._bucket.diagnose()
            if found is not None and found.fault == BUCKET_MISSING:
                error, fault = found, BUCKET_MISSING
        advice = ARCHIVE_ADVICE.get(fault or "")
        with self._cond:
            first = self._s3_failing_since is None or fault != self._fault
            if self._s3_failing_since is None:
                self._s3_failing_since = time.time()
            self._fault = fault
            self._s3_error = f"archiving {entry.path!r} failed: {error}" + (f"; {advice}" if advice else "")
            self._record_error(self._s3_error)
        if first:
            # Once per episode, not per retry; the message never carries a credential.
            self.log.warning(
                "Bookstore: %s. Saves keep working and are kept on local disk; they will be "
                "archived, in order, once the bucket answers again.",
                self._s3_error,
            )
        else:
            self.log.debug("Bookstore: retrying %r after: %s", entry.path, error)
        if getattr(error, "may_have_succeeded", False):
            entry.uncertain = True
        backoff = self.settings.retry_initial_delay * 2 ** max(0, entry.attempts - 1)
        delay = min(self.settings.retry_max_delay, backoff)
        # Jittered, so that workers throttled together do not come back together.
        self._pause(delay * random.uniform(0.5, 1.0))
        entry.attempts = max(entry.attempts, 1)

    def _failing_since(self) -> float | None:
        return self._s3_failing_since

    def _waiting(self) -> int:
        return sum(len(held) for held in self._held)

    @property
    def versioning(self) -> str | None:
        """``"Enabled"``, ``"Suspended"``, None (never versioned) or ``"unknown"`` (not yet checked)."""
        return self._bucket.versioning

    @property
    def versioning_fix(self) -> str | None:
        """What to do about a bucket found not keeping versions, in the backend's own terms
        (the ``aws`` or ``gcloud`` command); None while it keeps them or was not checked yet."""
        if self._bucket.versioning in ("Enabled", UNKNOWN):
            return None
        return self.store.versioning_fix()
