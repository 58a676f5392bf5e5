"""The S3 backend: :class:`S3Store`, which turns each operation of a store into S3 requests.

The S3 backend is two modules, the only ones in bookstore that import boto3 and botocore:
this one, and :mod:`bookstore.s3_client`, which builds the one boto3 client an
:class:`S3Store` holds and translates S3's failures into :mod:`bookstore.errors` in one
table, so the rest of bookstore never sees a botocore exception. Answers are the dataclasses
of :mod:`bookstore.store`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any, BinaryIO, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from .errors import InvalidPathError, MisconfiguredError
from .keys import validate_version_id
from .metadata import decode_metadata, encode_metadata
from .s3_client import error_code, new_client, translate
from .store import (
    INTERACTIVE,
    NOTEBOOK_CONTENT_TYPE,
    KeyPage,
    Lifecycle,
    LifecycleRule,
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

log = logging.getLogger(__name__)

#: Objects this big or bigger are uploaded in parts (S3's multipart upload), one part in memory
#: at a time; S3 wants parts of at least 5 MiB (the last excepted) and at most 10,000 of them.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000

#: The plain settings :func:`from_settings` takes (``c.Bookstore.S3.*``, a connection's fields).
SETTINGS = ("bucket", "endpoint_url", "region_name", "access_key_id", "secret_access_key")

#: The settings of a lifecycle configuration besides its rules, kept when it is rewritten.
LIFECYCLE_SETTINGS = ("TransitionDefaultMinimumObjectSize",)


class S3Store(Store):
    """Versioned notebook storage in one S3 bucket.

    Parameters
    ----------
    bucket
        The bucket every key lives in. It comes from configuration, never from a request.
    endpoint_url, region_name
        For S3-compatible servers (MinIO, SeaweedFS, ...) and non-default regions.
    access_key_id, secret_access_key
        Explicit credentials; when both are None boto3's default credential chain applies.
    patience
        Timeouts and botocore's attempts per request: :data:`INTERACTIVE` (the default),
        :data:`BACKGROUND` or :data:`BATCH`.
    client
        An existing boto3 S3 client, for callers that manage their own.
    multipart_threshold, part_size
        :meth:`put_file` sends objects of ``multipart_threshold`` bytes or more in parts of
        ``part_size`` bytes, holding one part in memory at a time.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        max_pool_connections: int = 16,
        patience: Patience = INTERACTIVE,
        client: Any = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
    ) -> None:
        if not bucket:
            raise MisconfiguredError(
                "no S3 bucket is configured: set c.Bookstore.S3.bucket (Jupyter), the 'bucket' "
                "extra of the Airflow connection, or BOOKSTORE_S3_BUCKET"
            )
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.patience = patience
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.credential_source = (
            "the access key configured"
            if access_key_id
            else "boto3's credential chain (no access key configured)"
        )
        if client is None:
            client = new_client(
                patience,
                max_pool_connections=max_pool_connections,
                endpoint_url=self.endpoint_url,
                region_name=region_name or None,
                aws_access_key_id=access_key_id or None,
                aws_secret_access_key=secret_access_key or None,
            )
        self._client = client

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def _raise(
        self, e: ClientError | BotoCoreError, key: str | None = None, version_id: str | None = None
    ) -> NoReturn:
        """Raise what ``e`` means (:func:`~bookstore.s3_client.translate`)."""
        raise translate(
            e,
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            read_timeout=self.patience.read_timeout,
            key=key,
            version_id=version_id,
        ) from e

    # -- bucket ---------------------------------------------------------------------------

    def versioning_fix(self) -> str:
        """What to do when the bucket does not keep versions, with the command that does it."""
        return (
            f"enable versioning on it, e.g. `aws s3api put-bucket-versioning --bucket {self.bucket} "
            "--versioning-configuration Status=Enabled` (or `mc version enable` for MinIO)"
        )

    def versioning_status(self) -> str | None:
        """``"Enabled"``, ``"Suspended"``, or None for a bucket that was never versioned."""
        try:
            answer = self._client.get_bucket_versioning(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as e:
            self._raise(e)
        status = answer.get("Status")
        return str(status) if status else None

    def lifecycle(self) -> Lifecycle:
        """The bucket's lifecycle configuration (no rules when it has none)."""
        try:
            answer = self._client.get_bucket_lifecycle_configuration(Bucket=self.bucket)
        except ClientError as e:
            if error_code(e) == "NoSuchLifecycleConfiguration":
                return Lifecycle()
            self._raise(e)
        except BotoCoreError as e:
            self._raise(e)
        settings = {k: answer[k] for k in LIFECYCLE_SETTINGS if k in answer}
        return Lifecycle(tuple(map(LifecycleRule.from_document, answer.get("Rules", []))), settings)

    def set_lifecycle(self, lifecycle: Lifecycle) -> None:
        """Replace the bucket's lifecycle configuration (deleting it when there is no rule)."""
        try:
            if lifecycle.rules:
                self._client.put_bucket_lifecycle_configuration(
                    Bucket=self.bucket,
                    LifecycleConfiguration={"Rules": [dict(rule.document) for rule in lifecycle.rules]},
                    **lifecycle.settings,
                )
            else:
                self._client.delete_bucket_lifecycle(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as e:
            self._raise(e)

    # -- objects --------------------------------------------------------------------------

    def put(
        self, key: str, body: bytes, metadata: Mapping[str, str] | None = None, *, sha256: str | None = None
    ) -> str | None:
        """Store ``body`` as a new version of ``key``; return its version id.

        The version id is None when the bucket is not versioned. With ``sha256`` S3 checks
        the body against it (``ChecksumSHA256``; botocore then computes no checksum of its
        own) and refuses it with ``BadDigest`` on a mismatch.
        """
        checksum = {"ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode()} if sha256 else {}
        try:
            answer = self._client.put_object(Body=body, **checksum, **self._writing(key, metadata))
        except (ClientError, BotoCoreError) as e:
            self._raise(e, key)
        return answer.get("VersionId")

    def put_file(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        metadata: Mapping[str, str] | None = None,
        *,
        sha256: str | None = None,
    ) -> str | None:
        """Store the next ``size`` bytes of ``source`` as a new version of ``key``.

        Below :attr:`multipart_threshold` this is one PUT. Above, a multipart upload reads and
        sends one part at a time, so memory stays at one part whatever the size, and the
        version id comes from its completion (boto3's managed ``upload_fileobj`` does not
        return it). A failed upload is aborted, so no part is left to be paid for; it is
        never completed twice, as botocore never re-sends it: a completion whose answer was
        lost raises with ``may_have_succeeded``, for the caller to check. Parts carry the
        checksums botocore computes for each (``sha256`` is the whole object's: S3 checks
        it on a single PUT only).
        """
        if size < self.multipart_threshold:
            return self.put(key, source.read(size), metadata, sha256=sha256)
        part_size = max(self.part_size, MIN_PART_SIZE, -(-size // MAX_PARTS))
        try:
            upload_id = self._client.create_multipart_upload(**self._writing(key, metadata))["UploadId"]
        except (ClientError, BotoCoreError) as e:
            self._raise(e, key)
        try:
            parts: list[dict[str, Any]] = []
            remaining = size
            while remaining > 0:
                chunk = source.read(min(part_size, remaining))
                if not chunk:
                    raise OSError(f"the source of {key!r} ended {remaining} bytes early")
                number = len(parts) + 1
                answer = self._client.upload_part(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                remaining -= len(chunk)
                del chunk
            answer = self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except (ClientError, BotoCoreError) as e:
            self._abort(key, upload_id)
            self._raise(e, key)
        except BaseException:
            self._abort(key, upload_id)
            raise
        return answer.get("VersionId")

    def _abort(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload, as well as S3 answers now (a lifecycle rule's
        ``AbortIncompleteMultipartUpload`` cleans up what this cannot)."""
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as e:
            log.debug("Bookstore: could not abort the multipart upload of %r: %s", key, e)

    def _writing(self, key: str, metadata: Mapping[str, str] | None) -> dict[str, Any]:
        """The arguments of a request that writes a new version of ``key``: a notebook, with
        ``metadata`` as S3 takes it."""
        return {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": NOTEBOOK_CONTENT_TYPE,
            "Metadata": encode_metadata(metadata),
        }

    def _object(self, key: str, version_id: str | None) -> dict[str, str]:
        """The arguments naming one version of ``key`` (the latest without ``version_id``)."""
        named = {"Bucket": self.bucket, "Key": key}
        if version_id:
            named["VersionId"] = validate_version_id(version_id)
        return named

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """What S3 knows about ``key`` (the latest version unless ``version_id`` is given)."""
        try:
            answer = self._client.head_object(**self._object(key, version_id))
        except (ClientError, BotoCoreError) as e:
            self._raise(e, key, version_id)
        return ObjectInfo(
            key=key,
            version_id=answer.get("VersionId"),
            size=int(answer.get("ContentLength", 0)),
            last_modified=answer["LastModified"],
            metadata=decode_metadata(answer.get("Metadata")),
        )

    def get(self, key: str, version_id: str | None = None) -> StoredObject:
        """Read ``key`` (the latest version unless ``version_id`` is given)."""
        try:
            answer = self._client.get_object(**self._object(key, version_id))
            body = answer["Body"].read()
        except (ClientError, BotoCoreError) as e:
            self._raise(e, key, version_id)
        info = ObjectInfo(
            key=key,
            version_id=answer.get("VersionId"),
            size=len(body),
            last_modified=answer["LastModified"],
            metadata=decode_metadata(answer.get("Metadata")),
        )
        return StoredObject(info=info, body=body)

    def copy(
        self,
        source_key: str,
        source_version_id: str | None,
        target_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> str | None:
        """Server-side copy of one version to ``target_key``; return the new version id.

        The copy carries ``metadata`` in place of the source's own.
        """
        source = self._object(source_key, source_version_id)
        try:
            answer = self._client.copy_object(
                CopySource=source, MetadataDirective="REPLACE", **self._writing(target_key, metadata)
            )
        except (ClientError, BotoCoreError) as e:
            self._raise(e, source_key, source_version_id)
        return answer.get("VersionId")

    def delete(self, key: str) -> None:
        """``DeleteObject`` without a version id: a delete marker in a versioned bucket."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            self._raise(e, key)

    # -- versions -------------------------------------------------------------------------

    def list_versions(self, key: str, *, limit: int = 100, cursor: str | None = None) -> VersionPage:
        """One page of the versions of exactly ``key``, newest first.

        S3 lists by prefix, so versions of longer keys (``a.ipynb.bak`` for ``a.ipynb``) are
        skipped; they sort after every version of ``key``, which ends the listing early.
        Delete markers are not versions of a notebook and are left out.

        ``next_cursor`` is None on the last page. Each S3 request asks for one entry more
        than the page, to know whether another page follows; a page of 1000 (S3's most per
        request) has no room for that, so when S3 says more entries follow it gets a cursor
        without a second request, and the page after it may be empty.
        """
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": key}
        if cursor:
            marker_key, marker_version = decode_cursor(cursor)
            if marker_key != key:
                raise InvalidPathError(f"cursor {cursor!r} belongs to another notebook")
            kwargs["KeyMarker"], kwargs["VersionIdMarker"] = marker_key, marker_version
        found: list[ObjectVersion] = []
        while True:
            kwargs["MaxKeys"] = min(1000, limit - len(found) + 1)
            try:
                answer = self._client.list_object_versions(**kwargs)
            except (ClientError, BotoCoreError) as e:
                self._raise(e, key)
            past_key = False
            for item in answer.get("Versions", []):
                if item["Key"] != key:
                    past_key = past_key or item["Key"] > key
                    continue
                if len(found) == limit:
                    last = found[-1]
                    return VersionPage(tuple(found), encode_cursor(key, last.version_id or "null"))
                found.append(
                    ObjectVersion(
                        key=key,
                        version_id=item.get("VersionId"),
                        size=int(item.get("Size", 0)),
                        last_modified=item["LastModified"],
                        is_latest=bool(item.get("IsLatest")),
                    )
                )
            if past_key or not answer.get("IsTruncated"):
                return VersionPage(tuple(found), None)
            if len(found) == limit:
                # No room was left for the look-ahead (S3 answers at most 1000 entries), and
                # asking for it alone costs a whole request: hand out the cursor; at worst
                # the next page is empty.
                return VersionPage(tuple(found), encode_cursor(key, found[-1].version_id or "null"))
            kwargs["KeyMarker"] = answer.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = answer.get("NextVersionIdMarker")

    # -- keys -----------------------------------------------------------------------------

    def list_keys(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> KeyPage:
        """One page of the current keys under ``prefix``, in key order (``ListObjectsV2``,
        which lists latest versions only, so a page costs one request per 1000 keys).

        The cursor is the last key of the page (``StartAfter``), bound to ``prefix``.
        """
        if limit < 1:
            raise InvalidPathError(f"limit must be at least 1, not {limit}")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if cursor:
            kwargs["StartAfter"] = decode_key_cursor(cursor, prefix)
        found: list[StoredKey] = []
        while True:
            kwargs["MaxKeys"] = min(1000, limit - len(found))
            try:
                answer = self._client.list_objects_v2(**kwargs)
            except (ClientError, BotoCoreError) as e:
                self._raise(e, prefix)
            found += (
                StoredKey(item["Key"], int(item.get("Size", 0)), item["LastModified"], item.get("ETag"))
                for item in answer.get("Contents", [])
            )
            more = bool(answer.get("IsTruncated")) and bool(found)
            if not more or len(found) >= limit:
                return KeyPage(tuple(found), encode_key_cursor(prefix, found[-1].key) if more else None)
            kwargs["StartAfter"] = found[-1].key


def from_settings(settings: Mapping[str, Any], patience: Patience = INTERACTIVE) -> S3Store:
    """The store of plain S3 settings: ``bucket``, and optionally ``endpoint_url``,
    ``region_name``, ``access_key_id`` and ``secret_access_key`` (see :mod:`bookstore.backends`)."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise MisconfiguredError(
            f"unknown S3 settings {', '.join(sorted(unknown))}; the S3 backend takes {', '.join(SETTINGS)}"
        )
    return S3Store(
        settings.get("bucket") or "",
        endpoint_url=settings.get("endpoint_url"),
        region_name=settings.get("region_name"),
        access_key_id=settings.get("access_key_id"),
        secret_access_key=settings.get("secret_access_key"),
        patience=patience,
    )
