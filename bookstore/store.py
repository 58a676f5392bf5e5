"""The storage seam: what bookstore needs from an object store, and the backends that offer it.

Everything above this module sees a :class:`Store`: versioned objects under keys, answered
with small frozen dataclasses and failing with :mod:`bookstore.errors`, never a client
library's exceptions. A backend is one module that subclasses :class:`Store`, found by name
through :mod:`bookstore.backends`, and inherits the contract tests in
``tests/helpers/store_contract.py``. The S3 backend
(:mod:`bookstore.s3` and :mod:`bookstore.s3_client`) is the only one that imports boto3.
"""

from __future__ import annotations

import base64
import binascii
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, ClassVar, TypeVar

from .errors import (
    BookstoreError,
    FeatureUnavailableError,
    InvalidPathError,
    InvalidRequestError,
)
from .keys import validate_version_id

#: The content type every stored version has.
NOTEBOOK_CONTENT_TYPE = "application/x-ipynb+json"


@dataclass(frozen=True)
class Patience:
    """How long a caller waits for S3, and how often botocore sends a request.

    Attributes
    ----------
    connect_timeout, read_timeout
        Seconds to open a connection, and to wait for each read of an answer.
    attempts
        Requests botocore sends in all for one call (1: no retries of its own).
    """

    connect_timeout: float
    read_timeout: float
    attempts: int


#: A person is waiting (REST API, version panel, CLI): give up within seconds with a message.
INTERACTIVE = Patience(connect_timeout=3.0, read_timeout=5.0, attempts=2)
#: Background uploads: patient, and never re-sent by botocore, whose blind retry of a PUT
#: whose answer was lost would store a save twice; the archive queue retries, after checking.
BACKGROUND = Patience(connect_timeout=5.0, read_timeout=60.0, attempts=1)
#: Batch work (an Airflow task): patient, with botocore's retries.
BATCH = Patience(connect_timeout=5.0, read_timeout=60.0, attempts=3)


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of one key."""

    key: str
    version_id: str | None
    size: int
    last_modified: datetime
    is_latest: bool
    #: For a published version: the workspace version it was published from.
    source_version_id: str | None = None
    #: When the user saved (a save) or published (a publication); ``last_modified`` is when
    #: the version reached S3, later for a save archived after an outage.
    saved_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The version as the REST API and ``--json`` output show it."""
        answer: dict[str, Any] = {
            "version_id": self.version_id,
            "last_modified": self.last_modified.isoformat(),
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
            "size": self.size,
            "is_latest": self.is_latest,
        }
        if self.source_version_id is not None:
            answer["source_version_id"] = self.source_version_id
        return answer


@dataclass(frozen=True)
class VersionPage:
    """Versions of a key, newest first, and the cursor of the next page (None on the last)."""

    versions: tuple[ObjectVersion, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD request tells about one version."""

    key: str
    version_id: str | None
    size: int
    last_modified: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredObject:
    """The bytes of one version and what is known about it."""

    info: ObjectInfo
    body: bytes


@dataclass(frozen=True)
class StoredKey:
    """One key as a listing of current objects shows it (no version id: S3 lists none)."""

    key: str
    size: int
    last_modified: datetime
    #: The listing's entity tag: it changes whenever the content does (a cache key).
    etag: str | None = None


@dataclass(frozen=True)
class KeyPage:
    """Current keys under a prefix, in key order, and the cursor of the next page (None on
    the last)."""

    keys: tuple[StoredKey, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class LifecycleRule:
    """One rule of a bucket's lifecycle configuration, with what bookstore reads from it.

    Attributes
    ----------
    id
        The rule's ID (empty when it has none).
    enabled
        Whether its status is ``Enabled``.
    prefix
        The key prefix it applies to (``""``: every key).
    conditional
        True when it also filters on tags or sizes, so it may apply to only some keys there.
    noncurrent_days, newer_noncurrent_versions
        Its ``NoncurrentVersionExpiration``, when it has one.
    actions
        The names of its actions (``Expiration``, ``NoncurrentVersionExpiration``, ...).
    document
        The rule as the bucket holds it, in S3's lifecycle format, written back unchanged.
    """

    id: str
    enabled: bool
    prefix: str
    conditional: bool
    noncurrent_days: int | None
    newer_noncurrent_versions: int | None
    actions: tuple[str, ...]
    document: Mapping[str, Any]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> LifecycleRule:
        """Read a rule in S3's lifecycle format (``ID``, ``Status``, ``Filter``, actions)."""
        found = document.get("Filter")
        if found is None:  # the older form: a prefix beside the rule's fields
            prefix, conditional = str(document.get("Prefix") or ""), False
        elif "And" in found:  # a prefix and tags or sizes
            prefix, conditional = str(found["And"].get("Prefix") or ""), True
        else:
            prefix = str(found.get("Prefix") or "")
            conditional = any(name != "Prefix" for name in found)
        expiration = document.get("NoncurrentVersionExpiration") or {}
        return cls(
            id=str(document.get("ID") or ""),
            enabled=document.get("Status") == "Enabled",
            prefix=prefix,
            conditional=conditional,
            noncurrent_days=expiration.get("NoncurrentDays"),
            newer_noncurrent_versions=expiration.get("NewerNoncurrentVersions"),
            actions=tuple(name for name in LIFECYCLE_ACTIONS if name in document),
            document=document,
        )


def retention_rule_id(root: str) -> str:
    """The ID of bookstore's own lifecycle rule for noncurrent versions under ``root`` (the
    workspace root, no trailing slash): how :mod:`bookstore.retention` finds it again, and
    how a backend whose rules have no IDs (GCS) names it when it reads it back."""
    return f"bookstore-noncurrent-workspace:{root}"[:255]


#: The actions a lifecycle rule may take, as S3 names them.
LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)


@dataclass(frozen=True)
class Lifecycle:
    """A bucket's lifecycle configuration: its rules, and its other settings (e.g.
    ``TransitionDefaultMinimumObjectSize``), written back as they were."""

    rules: tuple[LifecycleRule, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)


def encode_cursor(key: str, version_id: str) -> str:
    raw = json.dumps([key, version_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, version_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error) as e:
        raise InvalidPathError(
            f"cursor {cursor!r} is not one this server handed out; start again without it"
        ) from e
    if not isinstance(key, str) or not isinstance(version_id, str):
        raise InvalidPathError(f"cursor {cursor!r} is not one this server handed out")
    try:
        validate_version_id(version_id)
    except InvalidRequestError as e:
        raise InvalidPathError(f"cursor {cursor!r} is not one this server handed out") from e
    return key, version_id


def encode_key_cursor(prefix: str, after: str) -> str:
    """The cursor of a listing of keys under ``prefix`` that goes on after the key ``after``."""
    raw = json.dumps({"prefix": prefix, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_key_cursor(cursor: str, prefix: str) -> str:
    """The key after which the listing of ``prefix`` that handed out ``cursor`` goes on."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor_prefix, after = decoded["prefix"], decoded["after"]
    except (ValueError, TypeError, KeyError, binascii.Error) as e:
        raise InvalidPathError(
            f"cursor {cursor!r} is not one this server handed out; start again without it"
        ) from e
    if not isinstance(after, str) or cursor_prefix != prefix:
        raise InvalidPathError(f"cursor {cursor!r} belongs to another listing; start again without it")
    return after


_Answer = TypeVar("_Answer")

#: Requests in flight at once in :meth:`Store.head_many` and :meth:`Store.get_many`.
REQUESTS_IN_FLIGHT = 8


class Store(ABC):
    """Versioned notebook storage in one bucket: the interface every backend implements.

    Attributes
    ----------
    bucket
        The bucket (or container) every key lives in; from configuration, never a request.
    endpoint_url
        Where the service is, when not the provider's default; shown in messages.
    patience
        How long each request waits for the service (callers bound their own waits by it).
    credential_source
        Where the store's credentials come from, in words for logs (never the credentials
        themselves): "the access key configured", "boto3's credential chain", ...
    """

    bucket: str
    endpoint_url: str | None = None
    patience: Patience = INTERACTIVE
    credential_source: str = "the backend's default credentials"
    #: The scheme of the URIs that name this backend's objects (see :meth:`uri`).
    scheme: ClassVar[str] = "s3"

    def uri(self, key: str, version_id: str | None = None) -> str:
        """The URI naming ``key`` (one version of it, when given) as the backend's own tools
        name it: ``s3://<bucket>/<key>?versionId=<id>`` for S3."""
        return f"{self.scheme}://{self.bucket}/{key}" + (f"?versionId={version_id}" if version_id else "")

    def versioning_fix(self) -> str:
        """What to do when the bucket does not keep versions, with the command that does it."""
        return "enable versioning on it"

    @abstractmethod
    def versioning_status(self) -> str | None:
        """``"Enabled"``, ``"Suspended"``, or None for a bucket that was never versioned."""

    @abstractmethod
    def put(
        self, key: str, body: bytes, metadata: Mapping[str, str] | None = None, *, sha256: str | None = None
    ) -> str | None:
        """Store ``body`` as a new version of ``key``; return its version id (None unversioned).

        ``sha256``, the hex SHA-256 of ``body`` when the caller has it: the store checks what
        it received against it and refuses (stores nothing) on a mismatch, so bytes damaged
        on the way are never a version.
        """

    def put_file(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        metadata: Mapping[str, str] | None = None,
        *,
        sha256: str | None = None,
    ) -> str | None:
        """Store the next ``size`` bytes of ``source`` as a new version of ``key``, as
        :meth:`put` does; a backend that can send big objects in parts without holding them
        in memory (S3's multipart upload) does so."""
        return self.put(key, source.read(size), metadata, sha256=sha256)

    @abstractmethod
    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """What is known about ``key`` (the latest version unless ``version_id`` is given)."""

    @abstractmethod
    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        """Read ``key`` (the latest version unless ``version_id`` is given)."""

    @abstractmethod
    def copy(
        self,
        source_key: str,
        source_version_id: str | None,
        target_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> str | None:
        """Copy one version to ``target_key`` inside the store, with ``metadata`` in place of
        the source's own; return the new version id."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Make ``key`` absent from listings and reads of its latest version; in a versioned
        bucket its versions stay readable by id (S3 adds a delete marker). Deleting an
        absent key is no error."""

    @abstractmethod
    def list_versions(self, key: str, *, limit: int = 100, cursor: str | None = None) -> VersionPage:
        """One page of the versions of exactly ``key``, newest first, without delete markers.
        ``next_cursor`` is None on the last page."""

    @abstractmethod
    def list_keys(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> KeyPage:
        """One page of the current keys (latest versions, no delete markers) that start with
        ``prefix``, in key order. ``next_cursor`` is None on the last page."""

    def head_many(self, targets: Sequence[tuple[str, str | None]]) -> list[ObjectInfo | BookstoreError]:
        """HEAD each ``(key, version_id)`` (a few at a time), answering each with what it
        found or the error it met, in order: a listing that needs every entry's metadata
        fails for none of them."""
        return _each(self.head, targets)

    def get_many(self, targets: Sequence[tuple[str, str | None]]) -> list[StoredObject | BookstoreError]:
        """GET each ``(key, version_id)``, as :meth:`head_many` HEADs them: small objects only."""
        return _each(self.get, targets)

    def lifecycle(self) -> Lifecycle:
        """The bucket's lifecycle configuration (no rules when it has none).

        Raises
        ------
        FeatureUnavailableError
            The backend has no lifecycle rules.
        """
        raise FeatureUnavailableError(f"{type(self).__name__} has no lifecycle rules")

    def set_lifecycle(self, lifecycle: Lifecycle) -> None:
        """Replace the bucket's lifecycle configuration with ``lifecycle`` (none at all when
        it has no rules)."""
        raise FeatureUnavailableError(f"{type(self).__name__} has no lifecycle rules")

    def iter_versions(self, key: str, page_size: int = 1000) -> Iterator[ObjectVersion]:
        """Every version of ``key``, newest first, fetched page by page."""
        cursor: str | None = None
        while True:
            page = self.list_versions(key, limit=page_size, cursor=cursor)
            yield from page.versions
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _each(
    request: Callable[[str, str | None], _Answer], targets: Sequence[tuple[str, str | None]]
) -> list[_Answer | BookstoreError]:
    """``request`` for each target, :data:`REQUESTS_IN_FLIGHT` at a time, each answered or its error."""

    def one(target: tuple[str, str | None]) -> _Answer | BookstoreError:
        try:
            return request(*target)
        except BookstoreError as e:
            return e

    if len(targets) <= 1:
        return [one(target) for target in targets]
    with ThreadPoolExecutor(min(REQUESTS_IN_FLIGHT, len(targets))) as pool:
        return list(pool.map(one, targets))
