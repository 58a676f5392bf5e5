"""The exceptions bookstore raises.

Every failure a user can act on is a :class:`BookstoreError`. Each class carries how the
edges answer it: :attr:`~BookstoreError.http_status` for the REST handlers and
:attr:`~BookstoreError.exit_status` for the ``bookstore`` command (a subclass inherits both
unless it says otherwise); the Airflow operator fails the task.
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
    http_status
        The HTTP status a REST handler answers this error with.
    exit_status
        The exit status of a ``bookstore`` command that stopped on this error (the command's
        ``--help`` lists them: :func:`exit_status_help`).
    """

    fault: str | None = None
    http_status: int = 500
    exit_status: int = 1
    #: What a command's exit status says, in the words ``bookstore --help`` lists it with.
    exit_meaning: str = "other failure"

    def __init__(self, *args: object, fault: str | None = None) -> None:
        super().__init__(*args)
        if fault is not None:
            self.fault = fault


class InvalidRequestError(BookstoreError, ValueError):
    """Input that cannot be acted on: an unknown stage, a malformed body, a foreign cursor."""

    http_status = 400
    exit_status = 2
    exit_meaning = "bad input"


class InvalidPathError(InvalidRequestError):
    """A notebook path or key that is malformed or would leave its prefix."""


class NotFoundError(BookstoreError):
    """The notebook (S3 key) does not exist."""

    http_status = 404
    exit_status = 3
    exit_meaning = "notebook, version or schedule not found"


class VersionNotFoundError(NotFoundError):
    """The key exists, or may exist, but not at the requested version id."""


class AlreadyExistsError(BookstoreError):
    """The target of a write already exists and overwriting it was not asked for."""

    http_status = 409
    exit_status = 4
    exit_meaning = "target exists (restore without --overwrite)"


class NotPublishedError(BookstoreError):
    """What the request needs published (a notebook to schedule or run on Airflow) is not."""

    http_status = 409
    exit_status = 4
    exit_meaning = "notebook not published (schedule, run --on-airflow)"


class StoreUnavailableError(BookstoreError):
    """S3 could not be reached or answered with a server-side failure; retrying may help.

    Attributes
    ----------
    may_have_succeeded
        True when the request was sent but its answer never came (a read timeout, a dropped
        connection): S3 may still have acted on it, so a write must be checked before it is
        sent again.
    """

    http_status = 503
    exit_status = 5
    exit_meaning = "storage unavailable"

    def __init__(self, message: str, *, may_have_succeeded: bool = False, fault: str | None = None) -> None:
        super().__init__(message, fault=fault)
        self.may_have_succeeded = may_have_succeeded


class MisconfiguredError(BookstoreError):
    """The configuration cannot work: unknown backend, missing bucket, rejected credentials."""

    http_status = 503
    exit_status = 6
    exit_meaning = "configuration or credentials refused"


class FeatureUnavailableError(BookstoreError):
    """The request needs an optional part this installation lacks (nbdime, for comparing)."""

    http_status = 501
    exit_status = 7
    exit_meaning = "not installed here (diff needs nbdime: notebook-bookstore[jupyter])"


def exit_status_help() -> str:
    """The exit statuses of the ``bookstore`` command, as its ``--help`` ends: one phrase per
    status, from the error classes that set it."""
    meanings: dict[int, list[str]] = {0: ["success"]}
    classes: list[type[BookstoreError]] = [BookstoreError, *_subclasses(BookstoreError)]
    for cls in classes:
        if "exit_status" in vars(cls):
            meanings.setdefault(cls.exit_status, []).append(cls.exit_meaning)
    return (
        "exit status: "
        + ", ".join(f"{status} {' or '.join(meanings[status])}" for status in sorted(meanings))
        + "."
    )


def _subclasses(cls: type[BookstoreError]) -> list[type[BookstoreError]]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]
