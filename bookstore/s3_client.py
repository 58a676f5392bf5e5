"""The S3 backend's side that faces botocore: its clients, what S3 takes, what S3's failures mean.

The S3 backend is two modules, the only ones in bookstore that import boto3 and botocore:
:mod:`bookstore.s3` turns each :class:`~bookstore.store.Store` operation into S3 requests,
and this one builds the clients it sends them with (one boto3 session per process; timeouts
and retries from a :class:`~bookstore.store.Patience`) and translates whatever botocore
raises into :mod:`bookstore.errors`, with one table of S3 error codes, :data:`ERROR_CODES`.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from .errors import (
    BUCKET_MISSING,
    CLOCK_SKEW,
    CREDENTIALS_REFUSED,
    NO_ANSWER,
    THROTTLED,
    UNREACHABLE,
    BookstoreError,
    FeatureUnavailableError,
    InvalidPathError,
    MisconfiguredError,
    NotFoundError,
    StoreUnavailableError,
    VersionNotFoundError,
)
from .store import Patience

#: S3 error codes (and bare HTTP statuses, which HEAD requests answer with) -> error class.
ERROR_CODES: dict[str, type[BookstoreError]] = {
    "NoSuchKey": NotFoundError,
    "NotFound": NotFoundError,
    "404": NotFoundError,
    "NoSuchVersion": VersionNotFoundError,
    "InvalidVersionId": VersionNotFoundError,
    "KeyTooLongError": InvalidPathError,
    "NoSuchBucket": MisconfiguredError,
    "InvalidBucketName": MisconfiguredError,
    "InvalidAccessKeyId": MisconfiguredError,
    "SignatureDoesNotMatch": MisconfiguredError,
    "AccessDenied": MisconfiguredError,
    "AllAccessDisabled": MisconfiguredError,
    "ExpiredToken": MisconfiguredError,
    "InvalidToken": MisconfiguredError,
    "403": MisconfiguredError,
    "RequestTimeTooSkewed": MisconfiguredError,
    "SlowDown": StoreUnavailableError,
    "Throttling": StoreUnavailableError,
    "TooManyRequests": StoreUnavailableError,
    "ErrTooManyRequest": StoreUnavailableError,
    "RequestLimitExceeded": StoreUnavailableError,
    "429": StoreUnavailableError,
    "ServiceUnavailable": StoreUnavailableError,
    "InternalError": StoreUnavailableError,
    "RequestTimeout": StoreUnavailableError,
    "500": StoreUnavailableError,
    "502": StoreUnavailableError,
    "503": StoreUnavailableError,
    "504": StoreUnavailableError,
    # The body did not match the checksum sent with it (damaged on the way): nothing stored.
    "BadDigest": StoreUnavailableError,
    "XAmzContentChecksumMismatch": StoreUnavailableError,
    "NotImplemented": FeatureUnavailableError,
    "501": FeatureUnavailableError,
}

#: Codes of S3 slowing a client down: nothing was done, the request may be sent again later.
THROTTLING_CODES = frozenset(
    {"SlowDown", "Throttling", "TooManyRequests", "ErrTooManyRequest", "RequestLimitExceeded", "429"}
)
#: Server-side failures after which a write may still have been done (a gateway answering
#: for a backend that did act, an internal error after the commit): check before re-sending.
UNCERTAIN_CODES = frozenset({"InternalError", "500", "502", "504"})


_shared_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _client(**kwargs: Any) -> Any:
    """A new S3 client from the one boto3 session of this process.

    Each session loads botocore's service models and endpoint rules on its first client
    (tens of ms, more on a busy machine); every store a process builds (the archive's, the
    REST API's, a hook's) shares what the first one loaded. A boto3 session is not safe to
    build clients from two threads at once, hence the lock; the clients themselves are.
    Credentials given here are the client's own: the session's default credential chain,
    when used, is looked up once and refreshed by botocore where it can expire.
    """
    global _shared_session
    with _session_lock:
        if _shared_session is None:
            _shared_session = boto3.session.Session()
        return _shared_session.client("s3", **kwargs)


def new_client(patience: Patience, *, max_pool_connections: int = 16, **settings: str | None) -> Any:
    """An S3 client as patient as ``patience``, with boto3's client ``settings``
    (``endpoint_url``, ``region_name``, ``aws_access_key_id``, ``aws_secret_access_key``:
    None leaves one to boto3's defaults and credential chain)."""
    config = Config(
        connect_timeout=patience.connect_timeout,
        read_timeout=patience.read_timeout,
        retries={"total_max_attempts": patience.attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
        # S3-compatible servers on a host:port want path-style addressing.
        s3={"addressing_style": "path"} if settings.get("endpoint_url") else None,
    )
    return _client(config=config, **settings)


def error_code(e: ClientError) -> str:
    """The S3 error code of a refused request (empty when its answer had none, as HEAD's)."""
    return str(e.response.get("Error", {}).get("Code", ""))


def translate(
    e: ClientError | BotoCoreError,
    *,
    bucket: str,
    endpoint_url: str | None,
    read_timeout: float,
    key: str | None = None,
    version_id: str | None = None,
) -> BookstoreError:
    """The :class:`BookstoreError` that says what ``e``, raised by a request about ``key``
    (and ``version_id``) in ``bucket``, means and what to do about it."""
    where = f"bucket {bucket!r}" + (f" at {endpoint_url}" if endpoint_url else "")
    if isinstance(e, ClientError):
        return _refused(e, where, bucket, key, version_id)
    if isinstance(e, NoCredentialsError | PartialCredentialsError):
        return MisconfiguredError(
            f"no S3 credentials found for {where}: set an access key id and secret, "
            "or configure the AWS default credential chain",
            fault=CREDENTIALS_REFUSED,
        )
    if isinstance(e, ReadTimeoutError | ConnectionClosedError):
        # The request went out and no answer came: S3 may have acted on it.
        what = (
            f"did not answer within {read_timeout:g} s; it may be overloaded or stuck:"
            if isinstance(e, ReadTimeoutError)
            else "closed the connection before answering;"
        )
        return StoreUnavailableError(
            f"S3 {where} {what} try again shortly", may_have_succeeded=True, fault=NO_ANSWER
        )
    if isinstance(e, BotoConnectionError):
        return StoreUnavailableError(
            f"cannot reach S3 {where} ({type(e).__name__}): is the server running?",
            fault=UNREACHABLE,
        )
    return StoreUnavailableError(f"S3 {where} failed: {type(e).__name__}")


def _refused(
    e: ClientError, where: str, bucket: str, key: str | None, version_id: str | None
) -> BookstoreError:
    """What S3's answer refusing a request means (:data:`ERROR_CODES`)."""
    code = error_code(e)
    status = str(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    cls = ERROR_CODES.get(code) or ERROR_CODES.get(status) or BookstoreError
    if cls is NotFoundError and version_id is not None:
        cls = VersionNotFoundError
    if code in ("InvalidArgument", "InvalidRequest", "400") and version_id is not None:
        # S3 refusing a version id it cannot parse (a HEAD's answer has no code, only
        # its status): no such version, as for AWS's "Invalid version id specified".
        cls = VersionNotFoundError
    fault: str | None = None
    may_have_succeeded = False
    if cls is VersionNotFoundError:
        message = f"version {version_id!r} of {key!r} does not exist in {where}"
    elif cls is NotFoundError:
        message = f"{key!r} does not exist in {where}"
    elif cls is InvalidPathError:
        message = f"S3 refused the key {key!r} ({code}): use a shorter path"
    elif code in ("NoSuchBucket", "InvalidBucketName"):
        fault = BUCKET_MISSING
        message = f"{where} does not exist: create it (with versioning enabled), or fix the bucket name"
    elif code == "RequestTimeTooSkewed":
        fault = CLOCK_SKEW
        message = (
            f"S3 {where} refused the request because this machine's clock is too "
            "far from S3's (RequestTimeTooSkewed): synchronise the clock, e.g. turn on NTP "
            "(`timedatectl set-ntp true`)"
        )
    elif cls is MisconfiguredError and code in ("AccessDenied", "403") and key:
        # Signed correctly, but not allowed there: on a team, another user's prefix.
        fault = CREDENTIALS_REFUSED
        message = (
            f"S3 refused the credentials for {where} ({code}) on {key!r}: they may not use "
            "that key. Where each user has credentials of their own, they reach only that "
            "user's prefixes: check whose access key this is and which user the prefixes "
            "name (c.Bookstore.username, $JUPYTERHUB_USER)"
        )
    elif cls is MisconfiguredError:
        fault = CREDENTIALS_REFUSED
        message = (
            f"S3 refused the credentials for {where} ({code or status}): check the "
            "access key id and secret (rotated or expired keys must be replaced in the "
            "configuration), and that they may read and write this bucket"
        )
    elif cls is FeatureUnavailableError:
        message = f"S3 {where} does not support this request ({code or status})"
    elif code in THROTTLING_CODES or (not code and status == "429"):
        fault = THROTTLED
        message = f"S3 {where} is throttling requests ({code or status}); slow down and try again shortly"
    elif cls is StoreUnavailableError:
        may_have_succeeded = (code or status) in UNCERTAIN_CODES
        message = f"S3 {where} is unavailable ({code or status}); try again shortly"
    else:
        message = f"S3 error on {key or bucket!r}: {code or status}"
    if cls is StoreUnavailableError:
        return StoreUnavailableError(message, may_have_succeeded=may_have_succeeded, fault=fault)
    return cls(message, fault=fault)
