"""Thin REST handlers of the ``bookstore`` server extension.

They parse the request, call the library, and format the answer; every
:class:`~bookstore.errors.BookstoreError` becomes an HTTP status in :data:`STATUS_FOR`.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ._version import __version__
from .errors import (
    BookstoreError,
    InvalidPathError,
    MisconfiguredError,
    NotFoundError,
    StoreUnavailableError,
)

AUTH_RESOURCE = "bookstore"

#: Error class -> HTTP status, most specific first.
STATUS_FOR: tuple[tuple[type[BookstoreError], int], ...] = (
    (InvalidPathError, 400),
    (NotFoundError, 404),
    (StoreUnavailableError, 503),
    (MisconfiguredError, 503),
    (BookstoreError, 500),
)

FEATURES = ("archive", "publish", "versions", "notebook", "restore")


class BookstoreHandler(APIHandler):
    """Base: authorization resource, JSON errors, access to the extension's objects."""

    auth_resource = AUTH_RESOURCE

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], BookstoreError):
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": str(exc_info[1]), "reason": type(exc_info[1]).__name__}))
            return
        super().write_error(status_code, **kwargs)

    def fail(self, error: BookstoreError) -> None:
        status = next(code for cls, code in STATUS_FOR if isinstance(error, cls))
        raise web.HTTPError(status, str(error)) from error

    @property
    def queue(self) -> Any:
        return self.settings["bookstore_extension"].archive_queue()


class StatusHandler(BookstoreHandler):
    """``GET /api/bookstore``: version, features, bucket, versioning, archive queue."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        bookstore = self.settings["bookstore_settings"]
        queue = self.queue
        answer: dict[str, Any] = {
            "version": __version__,
            "features": list(FEATURES),
            "archiving": queue is not None,
            **bookstore.describe(),
        }
        if queue is not None:
            answer["versioning"] = queue.versioning if queue.versioning_checked else "unknown"
            answer["archive"] = queue.status()
        self.finish(json.dumps(answer))


def default_handlers() -> list[tuple[str, type[BookstoreHandler]]]:
    return [
        (r"/api/bookstore/?", StatusHandler),
    ]
