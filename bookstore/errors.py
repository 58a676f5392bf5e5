"""The exceptions bookstore raises.

Every failure a user can act on is a :class:`BookstoreError`; the REST handlers, the CLI and
the Airflow operator each map these classes to their own way of answering (an HTTP status, an
exit code, a failed task) in one place.
"""

from __future__ import annotations

#: What S3 is doing wrong, as :attr:`BookstoreError.fault` names it for programs (the archive
#: status, the history panel); the message says it for people, with what to do.
THROTTLED = "throttled"
CLOCK_SKEW = "clock-skew"
CREDENTIALS_REFUSED = "credentials-refused"
BUCKET_MISSING = "bucket-missing"
VERSIONING_OFF = "versioning-off"
UNREACHABLE = "unreachable"
NO_ANSWER = "no-answer"


class BookstoreError(Exception):
    """Root of every error bookstore raises on purpose.

    Attributes
    ----------
    fault
        When the storage service is at fault, which fault (:data:`THROTTLED`,
        :data:`CLOCK_SKEW`, ...), so that a caller can act on it; None otherwise.
    """

    fault: str | None = None

    def __init__(self, *args: object, fault: str | None = None) -> None:
        super().__init__(*args)
        if fault is not None:
            self.fault = fault


class InvalidRequestError(BookstoreError, ValueError):
    """Input that cannot be acted on: an unknown stage, a malformed body, a foreign cursor."""


class InvalidPathError(InvalidRequestError):
    """A notebook path or key that is malformed or would leave its prefix."""


class NotFoundError(BookstoreError):
    """The notebook (S3 key) does not exist."""


class VersionNotFoundError(NotFoundError):
    """The key exists, or may exist, but not at the requested version id."""


class AlreadyExistsError(BookstoreError):
    """The target of a write already exists and overwriting it was not asked for."""


class StoreUnavailableError(BookstoreError):
    """S3 could not be reached or answered with a server-side failure; retrying may help.

    Attributes
    ----------
    may_have_succeeded
        True when the request was sent but its answer never came (a read timeout, a dropped
        connection): S3 may still have acted on it, so a write must be checked before it is
        sent again.
    """

    def __init__(self, message: str, *, may_have_succeeded: bool = False, fault: str | None = None) -> None:
        super().__init__(message, fault=fault)
        self.may_have_succeeded = may_have_succeeded


class MisconfiguredError(BookstoreError):
    """The configuration cannot work: unknown backend, missing bucket, rejected credentials."""


class FeatureUnavailableError(BookstoreError):
    """The request needs an optional part this installation lacks (nbdime, for comparing)."""
