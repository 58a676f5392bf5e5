"""An in-memory :class:`~bookstore.store.Store`: the store contract in a dict, for tests.

As fsspec's ``MemoryFileSystem`` is to fsspec's, :class:`MemoryStore` is to bookstore's storage
seam: it passes the same contract tests as the S3 backend (``tests/test_memory_store.py``), so
tests of what is built on the seam (the library, runs, the catalog, comparing, retention) run
in milliseconds, without a server. What only a real S3 can show (its errors, multipart uploads,
outages, the archive's faults, Jupyter end to end) stays on SeaweedFS.

It behaves as a versioned S3 bucket does where bookstore can tell: every write makes a new
version with an opaque id, listings are newest first and in key order, a copy is a new version
of the exact source version, metadata names are lower-cased as S3 stores them, a body that
does not match its SHA-256 is refused, a deleted key gets a delete marker (its versions stay
readable by id), listings of keys carry S3's entity tag (the MD5 of the bytes), and unknown
keys and versions fail as :class:`~bookstore.errors.NotFoundError` and
:class:`~bookstore.errors.VersionNotFoundError`. With versioning suspended (or never enabled)
a write or a delete replaces the key's ``"null"`` version.
Lifecycle rules are held as given (as SeaweedFS holds them; nothing expires).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bookstore.errors import (
    InvalidPathError,
    MisconfiguredError,
    NotFoundError,
    StoreUnavailableError,
    VersionNotFoundError,
)
from bookstore.keys import validate_version_id
from bookstore.store import (
    KeyPage,
    Lifecycle,
    ObjectInfo,
    ObjectVersion,
    Store,
    StoredKey,
    StoredObject,
    VersionPage,
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    encode_key_cursor,
)

#: The version id S3 gives a write to a bucket whose versioning is not enabled.
NULL_VERSION = "null"


@dataclass(frozen=True)
class _Version:
    version_id: str
    body: bytes
    metadata: Mapping[str, str]
    last_modified: datetime
    #: A delete marker: the key reads as absent while it is the latest.
    deleted: bool = False

    @property
    def etag(self) -> str:
        """S3's entity tag of an object stored in one request: the MD5 of its bytes, quoted."""
        return f'"{hashlib.md5(self.body, usedforsecurity=False).hexdigest()}"'


class MemoryStore(Store):
    """Versioned objects in memory, one bucket per instance; safe to use from many threads.

    Parameters
    ----------
    bucket
        The bucket's name, shown in messages as S3's is.
    versioning
        ``"Enabled"`` (the default), ``"Suspended"``, or None for a bucket never versioned;
        :attr:`versioning` may be changed later, as a bucket's setting can.
    """

    def __init__(self, bucket: str = "memory", *, versioning: str | None = "Enabled") -> None:
        if not bucket:
            raise MisconfiguredError("a MemoryStore needs a bucket name")
        self.bucket = bucket
        self.versioning = versioning
        self._objects: dict[str, list[_Version]] = {}  # per key, oldest first
        self._lifecycle = Lifecycle()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore(bucket={self.bucket!r})"

    @property
    def _where(self) -> str:
        return f"bucket {self.bucket!r}"

    # -- bucket ---------------------------------------------------------------------------

    def versioning_status(self) -> str | None:
        return self.versioning

    def lifecycle(self) -> Lifecycle:
        with self._lock:
            return self._lifecycle

    def set_lifecycle(self, lifecycle: Lifecycle) -> None:
        with self._lock:
            self._lifecycle = lifecycle if lifecycle.rules else Lifecycle()

    # -- objects --------------------------------------------------------------------------

    def put(
        self, key: str, body: bytes, metadata: Mapping[str, str] | None = None, *, sha256: str | None = None
    ) -> str | None:
        if sha256 is not None and hashlib.sha256(body).hexdigest() != sha256:
            raise StoreUnavailableError(
                f"{self._where} refused the bytes of {key!r}: they do not match their SHA-256 "
                "(BadDigest); try again shortly"
            )
        return self._write(key, bytes(body), metadata)

    def _write(
        self, key: str, body: bytes, metadata: Mapping[str, str] | None, *, deleted: bool = False
    ) -> str | None:
        stored = {name.lower(): str(value) for name, value in (metadata or {}).items()}
        enabled = self.versioning == "Enabled"
        version_id = uuid.uuid4().hex if enabled else NULL_VERSION
        with self._lock:
            versions = self._objects.setdefault(key, [])
            if not enabled:
                versions[:] = [v for v in versions if v.version_id != NULL_VERSION]
            if deleted and self.versioning is None:
                return None  # a bucket never versioned keeps no marker: the object is gone
            versions.append(_Version(version_id, body, stored, datetime.now(UTC), deleted))
        return version_id if enabled else None

    def delete(self, key: str) -> None:
        with self._lock:
            versions = self._objects.get(key, [])
            if not versions or versions[-1].deleted:
                return
        self._write(key, b"", None, deleted=True)

    def _find(self, key: str, version_id: str | None) -> _Version:
        if version_id:
            validate_version_id(version_id)
        with self._lock:
            versions = list(self._objects.get(key, ()))
        if version_id is None:
            if versions and not versions[-1].deleted:
                return versions[-1]
            raise NotFoundError(f"{key!r} does not exist in {self._where}")
        for version in versions:
            if version.version_id == version_id and not version.deleted:
                return version
        raise VersionNotFoundError(f"version {version_id!r} of {key!r} does not exist in {self._where}")

    def _info(self, key: str, version: _Version) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            version_id=None if self.versioning is None else version.version_id,
            size=len(version.body),
            last_modified=version.last_modified,
            metadata=dict(version.metadata),
        )

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        return self._info(key, self._find(key, version_id))

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        version = self._find(key, version_id)
        return StoredObject(info=self._info(key, version), body=version.body)

    def copy(
        self,
        source_key: str,
        source_version_id: str | None,
        target_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> str | None:
        source = self._find(source_key, source_version_id)
        return self._write(target_key, source.body, metadata)

    # -- listings -------------------------------------------------------------------------

    def list_versions(self, key: str, *, limit: int = 100, cursor: str | None = None) -> VersionPage:
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        with self._lock:
            entries = list(reversed(self._objects.get(key, ())))
        latest = entries[0] if entries else None
        newest_first = [version for version in entries if not version.deleted]  # no markers
        start = 0
        if cursor:
            marker_key, marker_version = decode_cursor(cursor)
            if marker_key != key:
                raise InvalidPathError(f"cursor {cursor!r} belongs to another notebook")
            ids = [v.version_id for v in newest_first]
            if marker_version not in ids:
                raise InvalidPathError(f"cursor {cursor!r} is not one this server handed out")
            start = ids.index(marker_version) + 1
        page = newest_first[start : start + limit]
        versions = tuple(
            ObjectVersion(
                key=key,
                version_id=version.version_id,
                size=len(version.body),
                last_modified=version.last_modified,
                is_latest=version is latest,
            )
            for version in page
        )
        more = start + limit < len(newest_first)
        return VersionPage(
            versions, encode_cursor(key, versions[-1].version_id or NULL_VERSION) if more else None
        )

    def list_keys(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> KeyPage:
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        after = decode_key_cursor(cursor, prefix) if cursor else None
        with self._lock:
            current = sorted(
                (key, versions[-1])
                for key, versions in self._objects.items()
                if versions
                and not versions[-1].deleted
                and key.startswith(prefix)
                and (after is None or key > after)
            )
        page = tuple(StoredKey(key, len(v.body), v.last_modified, v.etag) for key, v in current[:limit])
        more = len(current) > limit
        return KeyPage(page, encode_key_cursor(prefix, page[-1].key) if more else None)
