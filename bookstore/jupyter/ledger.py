"""What an archive knows of its saves: :class:`ArchiveLedger`.

The books of the archive queue (:class:`~bookstore.jupyter.archive_queue.ArchiveQueue`),
apart from its uploads. Each save is spooled to local disk and counted pending until S3 has
it; the ledger answers what the rest of the server asks while that happens (is this
notebook's save archived yet? is archiving failing?) and what ``GET /api/bookstore`` shows.
How the uploads are done is the queue's business.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from ..errors import VERSIONING_OFF
from .spool import Spool, SpoolEntry


@dataclass(frozen=True)
class UploadSettings:
    """How saves are uploaded (``c.BookstoreContentsArchiver...``).

    Attributes
    ----------
    workers
        Upload threads. Keys are spread over them by a stable hash.
    max_spool_bytes
        Once the pending saves take this much disk, new saves are no longer archived (they
        are still saved locally) and the status says so, so a server whose uploads can never
        succeed (rejected credentials) does not fill the disk.
    retry_initial_delay, retry_max_delay
        Backoff between attempts at the same upload, in seconds.
    settle_delay
        Seconds to wait before checking again whether an upload whose answer was lost
        landed, so that S3 has acted on any request it held while stalled.
    upload_delay
        Seconds an upload waits after its save, so that the save's answer (built by the same
        Python process) is not slowed by the upload competing for the interpreter.
    upload_timeout
        Seconds an upload waits for S3's answer.
    autosave_interval
        Seconds between two versions of a notebook stored for saves the server made on its
        own (:attr:`~bookstore.jupyter.spool.SpoolEntry.auto`); 0 stores every one.
    """

    workers: int = 4
    max_spool_bytes: int = 1 << 30
    retry_initial_delay: float = 0.5
    retry_max_delay: float = 30.0
    settle_delay: float = 2.0
    upload_delay: float = 0.02
    upload_timeout: float = 60.0
    autosave_interval: float = 300.0


#: What became of a save that left the spool (:attr:`Archived.outcome`): stored as a new
#: version; not stored, its bytes being the notebook's latest version already; or not stored,
#: an autosave replaced by a later save of the notebook before its turn came.
STORED = "stored"
UNCHANGED = "unchanged"
COALESCED = "coalesced"


@dataclass(frozen=True)
class Archived:
    """The outcome of archiving one save: the version holding its bytes (none when coalesced)."""

    key: str
    version_id: str | None
    sha256: str
    saved_at: float
    archived_at: float
    outcome: str = STORED


class ArchiveLedger:
    """Pending saves, archived saves and errors of one spool, behind one condition."""

    def __init__(
        self, spool: Spool, settings: UploadSettings, logger: logging.Logger | logging.LoggerAdapter[Any]
    ) -> None:
        self.spool = spool
        self.settings = replace(settings, workers=max(1, settings.workers))
        self.workers = self.settings.workers
        self.max_spool_bytes = self.settings.max_spool_bytes
        self.log = logger
        self._cond = threading.Condition()
        self._stopping = False
        self._pending: dict[int, SpoolEntry] = {}  # by sequence number
        self._pending_by_key: dict[str, int] = {}
        self._pending_bytes = 0
        self._last_archived: dict[str, Archived] = {}
        self._archived_count = 0
        self._unchanged = 0
        self._coalesced = 0
        self._not_archived = 0
        self._reserialised = 0
        self._spool_full = False
        self._spool_full_logged = False
        self._spool_full_error = ""
        #: The last problem of any kind (S3, spool), and when.
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        #: The last error S3 answered an upload with, and what it means (see errors.py).
        self._s3_error: str | None = None
        self._fault: str | None = None
        self._last_success_at: float | None = None
        self._last_lag: float | None = None

    # -- book-keeping (callers hold the lock unless said otherwise) -----------------------

    def _spool_save(self, key: str, path: str, body: bytes, auto: bool = False) -> SpoolEntry | None:
        """Write one save to the spool and count it pending (caller does not hold the lock).

        Returns None, without raising, when it could not be spooled: a full spool or a
        failing local disk (no space left, read-only) must never fail the user's save.
        """
        with self._cond:
            if self._pending_bytes + len(body) > self.max_spool_bytes:
                self._not_archived += 1
                self._spool_full = True
                self._spool_full_error = (
                    f"archive spool is full ({self._pending_bytes} of {self.max_spool_bytes} "
                    f"bytes pending): {path!r} was saved locally but not archived; fix the "
                    f"problem below and save again."
                )
                message = f"{self._spool_full_error} Last upload error: {self._s3_error}"
                self._record_error(message)
                first, self._spool_full_logged = not self._spool_full_logged, True
                if first:
                    self.log.error("Bookstore: %s", message)
                return None
        try:
            entry = self.spool.add(key, path, body, auto=auto)
        except OSError as e:
            with self._cond:
                self._not_archived += 1
                self._record_error(
                    f"could not write the archive spool in {self.spool.folder}: {e}; "
                    f"{path!r} was saved but not archived: free space there and save again"
                )
            self.log.error("Bookstore: could not spool %r for archiving: %s", path, e)
            return None
        with self._cond:
            self._add_pending(entry)
        return entry

    def _add_pending(self, entry: SpoolEntry) -> None:
        self._pending[entry.seq] = entry
        self._pending_by_key[entry.key] = self._pending_by_key.get(entry.key, 0) + 1
        self._pending_bytes += entry.size

    def _settle(self, seq: int, archived: Archived | None = None) -> None:
        """Entry ``seq`` has left the spool: archived (as ``archived``, when known)."""
        outcome = archived.outcome if archived is not None else STORED
        if archived is not None and outcome != COALESCED:
            # Also when the entry was already settled (found gone from the spool first).
            self._last_archived[archived.key] = archived
            self._last_success_at = archived.archived_at
            self._last_lag = archived.archived_at - archived.saved_at
        entry = self._pending.pop(seq, None)
        if entry is not None:
            remaining = self._pending_by_key.get(entry.key, 1) - 1
            if remaining:
                self._pending_by_key[entry.key] = remaining
            else:
                self._pending_by_key.pop(entry.key, None)
            self._pending_bytes -= entry.size
            if outcome == COALESCED:
                self._coalesced += 1
            else:
                self._archived_count += 1
                self._unchanged += outcome == UNCHANGED
            self._spool_full = False
        self._cond.notify_all()

    def _record_error(self, message: str) -> None:
        self._last_error = message
        self._last_error_at = time.time()

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the archive stops (caller does not hold the lock)."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)

    def _failing_since(self) -> float | None:
        """Since when uploads fail, None while they work."""
        raise NotImplementedError

    # -- what others ask ------------------------------------------------------------------

    def pending(self, key: str | None = None) -> int:
        """Saves not yet archived, of one key or in all."""
        with self._cond:
            if key is None:
                return len(self._pending)
            return self._pending_by_key.get(key, 0)

    def count_reserialised(self) -> None:
        """Count a save archived from its model rather than from the bytes written to disk."""
        with self._cond:
            self._reserialised += 1

    def failing(self) -> bool:
        """Whether uploads are failing now (waiting for a pending save cannot help then)."""
        with self._cond:
            return self._failing_since() is not None or self._spool_full

    def wait_for(self, key: str, timeout: float) -> bool:
        """Wait until no save of ``key`` is pending; True if so within ``timeout`` seconds.

        An autosave of ``key`` held back for its interval is archived now: someone needs it.
        """
        self.hurry(key)
        return self._wait(lambda: not self._pending_by_key.get(key), timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending (held autosaves archived now); True if so within
        ``timeout`` seconds."""
        self.hurry(None)
        return self._wait(lambda: not self._pending, timeout)

    def hurry(self, key: str | None) -> None:
        """Archive the autosave of ``key`` (of every notebook: None) held back for its interval now."""
        raise NotImplementedError

    def _wait(self, done: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(done, timeout))

    def last_archived(self, key: str) -> Archived | None:
        """The most recent save of ``key`` archived by this server, if any."""
        with self._cond:
            return self._last_archived.get(key)

    def status(self) -> dict[str, Any]:
        """The archive's health, for the status endpoint. Never a credential."""
        with self._cond:
            failing_since = self._failing_since()
            last_error = self._last_error
            if self._spool_full:
                state = "spool-full"
                # Why S3 fails may be learnt after the spool filled: say both.
                last_error = f"{self._spool_full_error} Last upload error: {self._s3_error}"
            elif failing_since is not None and self._fault == VERSIONING_OFF:
                state = "held"
            elif failing_since is not None:
                state = "retrying"
            else:
                state = "ok"
            return {
                "state": state,
                "fault": self._fault if failing_since is not None else None,
                "pending": len(self._pending),
                "waiting": self._waiting(),
                "pending_bytes": self._pending_bytes,
                "archived": self._archived_count,
                "unchanged": self._unchanged,
                "coalesced": self._coalesced,
                "not_archived": self._not_archived,
                "reserialised": self._reserialised,
                "last_error": last_error,
                "last_error_at": self._last_error_at,
                "failing_since": failing_since,
                "last_success_at": self._last_success_at,
                "last_lag_seconds": self._last_lag,
                "max_spool_bytes": self.max_spool_bytes,
                "spool_dir": str(self.spool.folder),
                "workers": self.workers,
            }

    def _waiting(self) -> int:
        """Pending autosaves held back for their interval (caller holds the lock)."""
        raise NotImplementedError
