"""The archive's start-up check of its bucket: reachable, and versioned, or a warning with the fix."""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..errors import BookstoreError
from ..store import Store

#: Versioning status before the bucket could be checked.
UNKNOWN = "unknown"

VERSIONING_FIX = (
    "enable versioning on it, e.g. `aws s3api put-bucket-versioning --bucket {bucket} "
    "--versioning-configuration Status=Enabled` (or `mc version enable` for MinIO)"
)


class BucketCheck:
    """Whether the archive's bucket keeps versions, as last found out (one check at a time)."""

    def __init__(self, store: Store, log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        self.store = store
        self.log = log
        #: ``"Enabled"``, ``"Suspended"``, None (never versioned) or :data:`UNKNOWN`.
        self.versioning: str | None = UNKNOWN
        self._checking = threading.Lock()

    def check(self) -> str | None:
        """Ask S3; warn, with the fix, when versioning is off. :data:`UNKNOWN` when S3 cannot
        tell now (a check already running answers what is known)."""
        if not self._checking.acquire(blocking=False):
            return self.versioning
        try:
            return self._check()
        finally:
            self._checking.release()

    def _check(self) -> str | None:
        bucket = self.store.bucket
        try:
            status = self.store.versioning_status()
        except BookstoreError as e:
            self.log.warning("Bookstore: cannot check bucket %r: %s", bucket, e)
            return UNKNOWN
        self.versioning = status
        if status != "Enabled":
            self.log.warning(
                "Bookstore: versioning is %s on bucket %r, so each save replaces the previous "
                "archived copy instead of adding a version. To keep every version, %s",
                "suspended" if status == "Suspended" else "not enabled",
                bucket,
                VERSIONING_FIX.format(bucket=bucket),
            )
        return status
