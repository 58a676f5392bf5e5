"""The archive's checks of its bucket: reachable, and versioned, or a warning with the fix.

Checked at start-up, and again whenever an upload hints that the bucket changed under the
running server (an answer without a version id, a refusal). A bucket that stops keeping
versions while the server runs (versioning suspended, or the bucket deleted and made again
without it) makes the queue hold saves on local disk rather than let them overwrite each
other: :meth:`BucketCheck.holding`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..errors import VERSIONING_OFF, BookstoreError, MisconfiguredError
from ..store import Store

#: Versioning status before the bucket could be checked.
UNKNOWN = "unknown"


class BucketCheck:
    """Whether the archive's bucket keeps versions, as last found out (one check at a time)."""

    def __init__(self, store: Store, log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.store = store
        self.log = log
        #: ``"Enabled"``, ``"Suspended"``, None (never versioned) or :data:`UNKNOWN`.
        self.versioning: str | None = UNKNOWN
        #: Whether this server has seen the bucket versioned.
        self.seen_enabled = False
        self._warned: str | None = UNKNOWN
        self._checking = threading.Lock()

    def check(self, *, wait: bool = False) -> str | None:
        """Ask S3; warn, with the fix, when versioning is off. :data:`UNKNOWN` when S3 cannot
        tell now. A check already running answers what is known, unless ``wait``."""
        if not self._checking.acquire(blocking=wait):
            return self.versioning
        try:
            return self._check()
        finally:
            self._checking.release()

    def diagnose(self) -> BookstoreError | None:
        """What is wrong with the bucket, asked of S3 now (None: it answers, whatever its
        versioning): tells a bucket that is gone from keys that are refused."""
        with self._checking:
            try:
                self._record(self.store.versioning_status())
            except BookstoreError as e:
                return e
        return None

    def holding(self) -> bool:
        """Whether saves must wait: the bucket stopped keeping versions while we used it."""
        return self.versioning == "Suspended" or (self.versioning is None and self.seen_enabled)

    def holding_error(self) -> MisconfiguredError:
        """Why saves are held, and what to do, as the queue reports it."""
        bucket = self.store.bucket
        state = "suspended" if self.versioning == "Suspended" else "not enabled (was it made again?)"
        return MisconfiguredError(
            f"versioning is {state} on bucket {bucket!r}, so each upload would replace the "
            "previous one: saves are kept on local disk, not archived, until it is enabled "
            f"again; {self.store.versioning_fix()}",
            fault=VERSIONING_OFF,
        )

    def _check(self) -> str | None:
        try:
            status = self.store.versioning_status()
        except BookstoreError as e:
            self.log.warning("Bookstore: cannot check bucket %r: %s", self.store.bucket, e)
            return UNKNOWN
        self._record(status)
        return status

    def _record(self, status: str | None) -> None:
        bucket = self.store.bucket
        self.versioning = status
        if status == "Enabled":
            if self._warned not in (UNKNOWN, "Enabled"):
                self.log.info("Bookstore: versioning is enabled again on bucket %r", bucket)
            self.seen_enabled = True
        elif status != self._warned:  # once per change, not at every check
            if self.holding():
                self.log.warning(
                    "Bookstore: bucket %r no longer keeps versions (versioning: %s); saves are "
                    "held on local disk until it does",
                    bucket,
                    status or "not enabled",
                )
            else:
                self.log.warning(
                    "Bookstore: versioning is %s on bucket %r, so each save replaces the previous "
                    "archived copy instead of adding a version. To keep every version, %s",
                    "suspended" if status == "Suspended" else "not enabled",
                    bucket,
                    self.store.versioning_fix(),
                )
        self._warned = status
