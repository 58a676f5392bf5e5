"""The GCS backend's side that faces Google's client: credentials, patience, what failures mean.

The GCS backend is three modules, the only ones in bookstore that import ``google.cloud``:
:mod:`bookstore.gcs` turns each :class:`~bookstore.store.Store` operation into requests of
the official ``google-cloud-storage`` client, :mod:`bookstore.gcs_lifecycle` translates
lifecycle rules, and this one finds the credentials a client signs with
(:func:`credentials_from`), turns a :class:`~bookstore.store.Patience` into the client's
``timeout=`` and ``retry=`` arguments (:func:`call_options`), hashes and frames what an upload
sends (:class:`Digests`, :class:`UploadWindow`), and translates whatever the client raises
into :mod:`bookstore.errors` (:func:`translate`), so the rest of bookstore never sees a
Google exception.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import requests
from google.api_core import exceptions as api
from google.api_core.retry import Retry, if_transient_error
from google.auth import exceptions as auth
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud.storage import exceptions as media
from google.oauth2 import service_account

from .errors import (
    BUCKET_MISSING,
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

#: What a GCS request can fail with: the service's answers (and a retry given up on), the
#: HTTP transport's failures, credentials that cannot be found or refreshed, and a download
#: or upload whose checksum did not match.
ERRORS: tuple[type[BaseException], ...] = (
    api.GoogleAPIError,
    requests.RequestException,
    auth.GoogleAuthError,
    media.InvalidResponse,
    media.DataCorruption,
)

#: Statuses after which a write may still have been done (an internal error after the
#: commit, a gateway answering for a backend that did act): check before re-sending.
UNCERTAIN_STATUSES = frozenset({500, 502, 504})


# -- credentials -----------------------------------------------------------------------------


def credentials_from(settings: Mapping[str, Any]) -> Credentials | None:
    """The credentials the ``settings`` name: a service-account key file
    (``credentials_file``), a key's JSON text (``credentials_json``), anonymous ones for an
    emulator (``endpoint_url`` and neither), or None: Application Default Credentials, found
    by the client when it is built (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's login,
    the metadata server of GCE, GKE's Workload Identity, Cloud Composer...).

    Raises
    ------
    MisconfiguredError
        Both kinds of key named, or a key that cannot be read; the message never quotes it.
    """
    # No scopes here: the storage client adds those it needs.
    path = settings.get("credentials_file") or None
    text = settings.get("credentials_json") or None
    if path and text:
        raise MisconfiguredError(
            "both a GCS key file (credentials_file) and a key's JSON text (credentials_json) "
            "are set: keep one of them"
        )
    try:
        if path:
            if not os.path.isfile(path):
                raise MisconfiguredError(
                    f"the GCS key file {path!r} (credentials_file) does not exist or is not a file"
                )
            return service_account.Credentials.from_service_account_file(path)
        if text:
            return service_account.Credentials.from_service_account_info(json.loads(text))
    except (ValueError, KeyError, TypeError, OSError) as e:
        # ValueError covers JSON that does not parse and a key missing its fields (google-auth
        # names the field); the key itself is never part of the message.
        where = f"the key file {path!r}" if path else "the key's JSON text (credentials_json)"
        raise MisconfiguredError(
            f"{where} is not a Google service-account key ({type(e).__name__}): download a JSON "
            "key of the service account again, or use Application Default Credentials"
        ) from None
    if settings.get("endpoint_url"):
        return AnonymousCredentials()
    return None


def credential_source(credentials: Credentials | None) -> str:
    """Where ``credentials`` (from :func:`credentials_from`) come from, in words for logs."""
    if credentials is None:
        return "Application Default Credentials"
    if isinstance(credentials, AnonymousCredentials):
        return "anonymous requests (an endpoint_url and no key: an emulator)"
    email = getattr(credentials, "service_account_email", None)
    return f"the key of the service account {email}" if email else "the key configured"


# -- patience --------------------------------------------------------------------------------


def call_options(patience: Patience) -> dict[str, Any]:
    """The ``timeout=`` and ``retry=`` arguments of a client call as patient as ``patience``:
    ``(connect, read)`` timeouts, and at most ``patience.attempts`` requests in all.

    Google's :class:`~google.api_core.retry.Retry` is bounded by time, not by a number of
    requests, so each call gets a new one whose predicate counts (one attempt: no retry at
    all, as the archive queue wants: it checks whether an upload landed before sending it
    again). Its deadline leaves room for every attempt to take its whole read timeout.
    """
    timeout = (patience.connect_timeout, patience.read_timeout)
    if patience.attempts <= 1:
        return {"timeout": timeout, "retry": None}
    deadline = patience.attempts * (patience.connect_timeout + patience.read_timeout + 2.0)
    retry = Retry(
        predicate=_counting(if_transient_error, patience.attempts - 1),
        initial=0.2,
        maximum=2.0,
        multiplier=2.0,
        timeout=deadline,
    )
    return {"timeout": timeout, "retry": retry}


def _counting(predicate: Callable[[Exception], bool], retries: int) -> Callable[[Exception], bool]:
    """``predicate``, true at most ``retries`` times (one call's retries)."""
    left = [retries]

    def allowed(e: Exception) -> bool:
        if left[0] <= 0 or not predicate(e):
            return False
        left[0] -= 1
        return True

    return allowed


# -- uploads ---------------------------------------------------------------------------------


class UploadWindow(io.RawIOBase):
    """``size`` bytes of ``source`` from ``start`` on, as a stream of their own (from 0): a
    resumable upload starts at the beginning of its stream, and may seek back in it to send
    a chunk again."""

    def __init__(self, source: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self._source, self._start, self._size, self._position = source, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = min(max(base + offset, 0), self._size)
        self._source.seek(self._start + self._position)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._source.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


class Digests:
    """The SHA-256 and MD5 of bytes read in pieces."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self._sha256.update(data)
        self._md5.update(data)

    def check(self, key: str, sha256: str | None) -> None:
        """Refuse the bytes when they are not those whose SHA-256 the caller gave."""
        if sha256 is not None and self._sha256.hexdigest() != sha256.lower():
            raise StoreUnavailableError(
                f"the bytes read for {key!r} do not match their SHA-256 (damaged on the way); "
                "nothing was stored: try again"
            )

    def md5_base64(self) -> str:
        return base64.b64encode(self._md5.digest()).decode()


# -- failures --------------------------------------------------------------------------------


def translate(
    e: BaseException,
    *,
    bucket: str,
    endpoint_url: str | None,
    read_timeout: float,
    key: str | None = None,
    version_id: str | None = None,
    bucket_missing: bool = False,
) -> BookstoreError:
    """The :class:`BookstoreError` that says what ``e``, raised by a request about ``key``
    (and ``version_id``) in ``bucket``, means and what to do about it.

    ``bucket_missing``: the caller found out that a 404 was about the bucket, not the object
    (GCS's 404 says which only in its message text, which emulators do not follow).
    """
    where = f"bucket {bucket!r}" + (f" at {endpoint_url}" if endpoint_url else "")
    if isinstance(e, api.RetryError) and e.cause is not None:
        e = e.cause
    if isinstance(e, api.GoogleAPICallError):
        return _refused(e, where, bucket, key, version_id, bucket_missing)
    if isinstance(e, auth.DefaultCredentialsError):
        return MisconfiguredError(
            f"no Google credentials found for GCS {where}: name a service-account key "
            "(credentials_file or credentials_json), or set up Application Default Credentials "
            "(`gcloud auth application-default login`, GOOGLE_APPLICATION_CREDENTIALS, or a "
            "service account attached to the machine or pod)",
            fault=CREDENTIALS_REFUSED,
        )
    if isinstance(e, auth.RefreshError):
        return MisconfiguredError(
            f"Google refused the credentials for GCS {where} (their access token could not be "
            "refreshed): the key may be deleted, disabled or expired, or this machine's clock "
            "may be wrong; replace the key or log in again",
            fault=CREDENTIALS_REFUSED,
        )
    if isinstance(e, auth.TransportError):
        return StoreUnavailableError(
            f"cannot reach Google's token service for GCS {where}: is the network up?",
            fault=UNREACHABLE,
        )
    if isinstance(e, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        # The request went out and no (whole) answer came: GCS may have acted on it.
        what = (
            f"did not answer within {read_timeout:g} s; it may be overloaded or stuck:"
            if isinstance(e, requests.ReadTimeout)
            else "broke off its answer;"
        )
        return StoreUnavailableError(
            f"GCS {where} {what} try again shortly", may_have_succeeded=True, fault=NO_ANSWER
        )
    if isinstance(e, requests.ConnectionError):
        return StoreUnavailableError(
            f"cannot reach GCS {where} ({type(e).__name__}): is the server running?",
            fault=UNREACHABLE,
        )
    if isinstance(e, media.DataCorruption):
        return StoreUnavailableError(
            f"the bytes of {key!r} were damaged on the way to or from GCS {where} (checksum "
            "mismatch); nothing damaged was kept: try again"
        )
    return StoreUnavailableError(f"GCS {where} failed: {type(e).__name__}")


def versioning_fix(bucket: str) -> str:
    """How to turn on object versioning for ``bucket``, as a message tells it."""
    return f"`gcloud storage buckets update gs://{bucket} --versioning`"


def _refused(
    e: api.GoogleAPICallError,
    where: str,
    bucket: str,
    key: str | None,
    version_id: str | None,
    bucket_missing: bool,
) -> BookstoreError:
    """What GCS's answer refusing a request means."""
    status = int(e.code or 0)
    reason = f"{status} {e.reason}" if getattr(e, "reason", None) else str(status)
    text = str(e.message or "").lower()
    if status == 404 and (bucket_missing or key is None):
        return MisconfiguredError(
            f"{where} does not exist: create it with object versioning on "
            f"({versioning_fix(bucket)} once it exists), or fix the bucket name",
            fault=BUCKET_MISSING,
        )
    if status == 404 and version_id is not None:
        return VersionNotFoundError(f"version {version_id!r} of {key!r} does not exist in {where}")
    if status == 404:
        return NotFoundError(f"{key!r} does not exist in {where}")
    if status in (401, 403):
        on = f" on {key!r}" if key else ""
        return MisconfiguredError(
            f"GCS refused the credentials for {where} ({reason}){on}: check which service "
            "account they are and that it may read and write objects there (e.g. "
            "roles/storage.objectUser; reading the bucket's versioning and lifecycle needs "
            "storage.buckets.get too); on a team, IAM Conditions may allow each user only "
            "their own prefixes",
            fault=CREDENTIALS_REFUSED,
        )
    if status == 429:
        return StoreUnavailableError(
            f"GCS {where} is throttling requests ({reason}); slow down and try again shortly",
            fault=THROTTLED,
        )
    if status == 400 and ("md5" in text or "crc32c" in text or "hash" in text):
        # The bytes did not match the checksum sent with them (damaged on the way): GCS
        # stored nothing.
        return StoreUnavailableError(
            f"GCS {where} refused the bytes of {key!r}: they did not match their checksum "
            "(damaged on the way); nothing was stored: try again"
        )
    if status == 400 and key is not None and "name" in text:
        return InvalidPathError(f"GCS refused the key {key!r} ({reason}): use a shorter or plainer path")
    if status == 501:
        return FeatureUnavailableError(f"GCS {where} does not support this request ({reason})")
    if status >= 500 or status == 408:
        return StoreUnavailableError(
            f"GCS {where} is unavailable ({reason}); try again shortly",
            may_have_succeeded=status in UNCERTAIN_STATUSES,
        )
    return BookstoreError(f"GCS error on {key or where!r}: {reason}")
