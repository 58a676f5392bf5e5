"""What every REST handler of the ``bookstore`` server extension shares.

Handlers parse the request, call :class:`~bookstore.library.Library` (in a worker thread, as
it blocks on S3), and format the answer. Every :class:`~bookstore.errors.BookstoreError`
becomes the HTTP status its class names (``http_status``), answered as JSON ``{"message":
..., "reason": ...}``; :func:`endpoint` gives a method sign-in, authorization and that answer
at once.

URL paths reach the handlers already percent-decoded once by tornado; they are not decoded
again here (:mod:`bookstore.keys` checks every decoding of a path itself).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from http.client import responses
from typing import Any, TypeVar

from anyio.to_thread import run_sync
from jupyter_client.jsonutil import json_default
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..compare import nbdime_available
from ..errors import (
    AlreadyExistsError,
    BookstoreError,
    InvalidRequestError,
    MisconfiguredError,
    NotFoundError,
)
from ..keys import validate_path
from ..library import Library
from ..notebooks import write as write_notebook
from ..store import StoredObject

AUTH_RESOURCE = "bookstore"
#: The action an Authorizer is asked about before a publication, on :data:`AUTH_RESOURCE`
#: (besides ``write``, which every PUT asks): ``is_authorized(handler, user, "publish",
#: "bookstore")``. jupyter_server's and JupyterHub's own Authorizers allow it to anyone who
#: may use the server; an administrator's may refuse it (README: "JupyterHub").
PUBLISH_ACTION = "publish"

FEATURES = (
    "archive",
    "publish",
    "versions",
    "notebook",
    "parameters",
    "restore",
    "catalog",
    "published",
    "copy",
    "runs",
    "schedules",
    "run-requests",
)


def features() -> list[str]:
    """What this server offers; ``diff`` when nbdime is installed (the ``jupyter`` extra)."""
    return [*FEATURES, "diff"] if nbdime_available() else list(FEATURES)


T = TypeVar("T")
Method = TypeVar("Method", bound=Callable[..., Awaitable[None]])


def answers_errors(method: Method) -> Method:
    """Turn a :class:`BookstoreError` raised by a handler method into its HTTP status."""

    @functools.wraps(method)
    async def wrapper(self: BookstoreHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except BookstoreError as e:
            status = e.http_status
            if status == 500:
                self.log.error("Bookstore: %s failed", self.request.path, exc_info=e)
            # The message goes in as an argument: it may hold '%' (encoded paths).
            raise web.HTTPError(status, "%s", str(e)) from e

    return wrapper  # type: ignore[return-value]


def endpoint(method: Method) -> Method:
    """A REST method of bookstore: signed in, authorized on the ``bookstore`` resource, and
    answering a :class:`BookstoreError` with its HTTP status."""
    return web.authenticated(authorized(answers_errors(method)))  # type: ignore[return-value]


#: Publishing: the ``publish`` action on ``bookstore``, which an administrator's Authorizer
#: may refuse to some users while they still read, save and compare.
may_publish: Callable[[Any], Any] = authorized(
    PUBLISH_ACTION,
    AUTH_RESOURCE,
    message="you may not publish notebooks on this server: its Authorizer refuses the action "
    f"{PUBLISH_ACTION!r} on resource {AUTH_RESOURCE!r}; ask your administrator",
)
#: Writing into the Jupyter contents (restore, copy) is a write on ``contents`` too.
may_write_contents: Callable[[Any], Any] = authorized(
    "write",
    "contents",
    message="you may not write files on this server: its Authorizer refuses 'write' on 'contents'",
)


#: What to do instead when there is no saved notebook to publish or compare with.
IF_NOT_SAVED = {
    "publish": 'save it first, or publish one of its workspace versions with {"version_id": ...}',
    "compare": "save it first, or compare two stored versions (remote_stage and remote_version_id)",
    "inspect": "save it first, or inspect a stored version (stage and version_id)",
}


async def saved_notebook(contents_manager: Any, path: str, action: str = "publish") -> bytes:
    """The bytes of the notebook saved at ``path``, as the archiver stores them.

    ``.ipynb`` files are read as they are on disk; notebooks another manager stores in
    another format (jupytext's ``.py``, ...) are serialised the way the archiver does.
    ``action`` (a key of :data:`IF_NOT_SAVED`) words the error when there is none.
    """
    if not await ensure_async(contents_manager.file_exists(path)):
        if await ensure_async(contents_manager.dir_exists(path)):
            raise InvalidRequestError(f"{path!r} is a folder, not a notebook")
        hint = IF_NOT_SAVED[action]
        raise NotFoundError(f"no notebook is saved at {path!r} on this Jupyter server: {hint}")
    model = await ensure_async(contents_manager.get(path, content=False))
    if model["type"] != "notebook":
        raise InvalidRequestError(f"{path!r} is a {model['type']}, not a notebook: only notebooks {action}")
    if path.endswith(".ipynb"):
        raw = await ensure_async(contents_manager.get(path, content=True, type="file", format="base64"))
        return base64.b64decode(raw["content"])
    model = await ensure_async(contents_manager.get(path, content=True, type="notebook"))
    return write_notebook(model["content"]).encode("utf-8")


#: What a request without credentials is told (Jupyter itself says only "Forbidden", or
#: "'_xsrf' argument missing from POST" for a write).
SIGN_IN = (
    "this request has no Jupyter credentials: send the server's token in the header "
    "'Authorization: token <token>' (`jupyter server list` shows it), or sign in with a browser"
)


class BookstoreHandler(APIHandler):
    """Base: authorization resource, JSON errors, parsing, access to the extension's objects."""

    auth_resource = AUTH_RESOURCE

    def check_xsrf_cookie(self) -> None:
        try:
            super().check_xsrf_cookie()
        except web.HTTPError as e:
            if e.status_code == 403 and "_xsrf" in (e.log_message or ""):
                raise web.HTTPError(403, "%s", SIGN_IN) from e
            raise

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if not isinstance(error, web.HTTPError):
            super().write_error(status_code, **kwargs)
            return
        cause = error.__cause__
        message = error.get_message()
        if status_code == 403 and not message and getattr(self, "_jupyter_current_user", None) is None:
            message = SIGN_IN
        reply = {
            "message": message or responses.get(status_code, "Unknown HTTP Error"),
            "reason": type(cause).__name__
            if isinstance(cause, BookstoreError)
            else error.reason or responses.get(status_code, "Unknown"),
        }
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(reply))

    # -- what handlers use ----------------------------------------------------------------

    @property
    def library(self) -> Library:
        library: Library | None = self.settings.get("bookstore_library")
        if library is None:
            raise MisconfiguredError(
                f"{self.settings.get('bookstore_unconfigured')}; then restart this Jupyter server"
            )
        return library

    @property
    def queue(self) -> Any:
        return self.settings["bookstore_extension"].archive_queue()

    async def blocking(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` (which blocks on S3) in a worker thread."""
        return await run_sync(functools.partial(function, *args))

    def notebook_path(self, path: str | None) -> str:
        if path is None:
            raise InvalidRequestError("name a notebook after the endpoint, e.g. .../analysis/mine.ipynb")
        return validate_path(path)

    def notebook_key(self, notebook_key: str | None) -> str:
        """A published notebook's key relative to the published root, checked to stay there."""
        if not notebook_key:
            raise InvalidRequestError(
                "name a published notebook after the endpoint by its notebook key, e.g. "
                ".../alice/notebooks/analysis/mine.ipynb (GET /api/bookstore/catalog lists them)"
            )
        self.library.catalog.key(notebook_key)
        return notebook_key

    def requester(self) -> str | None:
        """Who asks, for the record: the user the identity provider authenticated (on a hub,
        the JupyterHub user of the request's token or cookie, checked by the hub; never
        ``$JUPYTERHUB_USER``), or, when Jupyter's own token or password identifies no one in
        particular (its users are then random "Anonymous" names), the owner the prefixes
        belong to (:meth:`~bookstore.config.Bookstore.owner`)."""
        if type(self.identity_provider) in (IdentityProvider, PasswordIdentityProvider):
            owner: str | None = self.settings["bookstore_settings"].owner()
            return owner
        user = self.current_user
        return str(user.username) if user and user.username else None

    async def save_into_contents(
        self, content: dict[str, Any], target: str | None, candidates: Iterable[str], *, overwrite: bool
    ) -> tuple[dict[str, Any], bool]:
        """Save a notebook into this server's contents, at ``target`` (refused when it exists,
        unless ``overwrite``) or at the first free name of ``candidates``; return the contents
        model and whether a file was replaced."""
        manager = self.contents_manager
        existed = False
        if target is None:
            for candidate in candidates:
                if not await ensure_async(manager.exists(candidate)):
                    target = candidate
                    break
        else:
            existed = bool(await ensure_async(manager.exists(target)))
            if existed and not overwrite:
                raise AlreadyExistsError(
                    f'{target!r} already exists: send "overwrite": true to replace it, or choose '
                    "another target_path"
                )
        assert target is not None
        await self._make_folders(target)
        model = await ensure_async(
            manager.save({"type": "notebook", "format": "json", "content": content}, target)
        )
        return model, existed

    async def _make_folders(self, path: str) -> None:
        """Create the folders ``path`` lies in that do not exist yet, as a person would."""
        manager = self.contents_manager
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if await ensure_async(manager.dir_exists(folder)):
                continue
            if await ensure_async(manager.file_exists(folder)):
                raise InvalidRequestError(f"{folder!r} is a file, so {path!r} cannot be written in it")
            await ensure_async(manager.save({"type": "directory"}, folder))

    def finish_notebook(self, stored: StoredObject) -> None:
        """Answer one stored version's notebook JSON as stored, naming it in the headers."""
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Bookstore-Key", stored.info.key)
        self.set_header("X-Bookstore-Version-Id", stored.info.version_id or "null")
        self.finish(stored.body)

    def body(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """The JSON object in the request body (``{}`` when empty), with only known ``fields``."""
        raw = self.request.body.strip()
        if not raw:
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise InvalidRequestError(f"the request body is not valid JSON ({e})") from e
        if not isinstance(body, dict):
            raise InvalidRequestError(f"the request body must be a JSON object, not {type(body).__name__}")
        unknown = sorted(set(body) - set(fields))
        if unknown:
            raise InvalidRequestError(
                f"unknown field(s) {', '.join(map(repr, unknown))} in the request body; "
                f"known: {', '.join(map(repr, fields))}"
            )
        return body

    def string_field(self, body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = body.get(name)
        if value is None:
            if required:
                raise InvalidRequestError(f"the request body needs {name!r}")
            return None
        if not isinstance(value, str) or not value:
            raise InvalidRequestError(f"{name!r} must be a non-empty string, not {value!r}")
        return value

    def bool_field(self, body: dict[str, Any], name: str) -> bool:
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise InvalidRequestError(f"{name!r} must be true or false, not {value!r}")
        return value

    def finish_json(self, answer: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer, default=json_default))
