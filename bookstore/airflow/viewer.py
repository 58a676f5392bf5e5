"""The executed-notebook viewer: Airflow's API server renders a run's notebook as HTML.

The plugin (:mod:`bookstore.airflow.plugin`) mounts :func:`create_app` at
:data:`~bookstore.airflow.links.VIEWER_PREFIX`, which serves::

    GET /bookstore/executed/<key>?version_id=<S3 version id>&conn_id=bookstore_default

``key`` is the executed notebook's full S3 key, and must lie under the connection's runs
prefix: the viewer shows what tasks executed, not the bucket. Without ``version_id``, the
latest version is shown. Answers: 200 ``text/html`` (nbconvert's HTML exporter, under a
header naming the notebook and the task that executed it, with a link back to that task in
Airflow's UI); 400 for a key outside the runs prefix or an object that is not a notebook;
401/403 without a valid Airflow session or token, or without read access to the DAG's task
instances; 404 for an unknown key, version or connection; 503 when S3 cannot be reached.

Authentication is Airflow's own: the browser's session cookie, as Airflow's UI has it, or
``Authorization: Bearer <token>`` from ``POST /auth/token``. A browser (a request that
accepts ``text/html`` and sends no ``Authorization``) without a valid session is sent to
Airflow's login, which sends it back here afterwards, as Airflow's UI does
(``/api/v2/auth/login?next=<this page>``); API clients get the 401/403. Authorization
follows the operator's key layout, ``<runs prefix>/<dag_id>/<run_id>/<task_id>/...``: the
user needs read access to the task instances of the DAG the key's first folder names.

Airflow's API server imports this module; workers never do (it imports FastAPI).
"""

from __future__ import annotations

import html
import logging
import re
import threading
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote, unquote, urlencode

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import get_user
from airflow.sdk.exceptions import AirflowNotFoundException
from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import metadata
from ..errors import (
    BookstoreError,
    InvalidPathError,
    InvalidRequestError,
    NotFoundError,
    StoreUnavailableError,
)
from ..keys import key_to_path
from ..runs import task_instance_path
from .hooks import BookstoreHook
from .links import EXECUTED_ROUTE

if TYPE_CHECKING:
    from ..store import StoredObject

log = logging.getLogger(__name__)

#: The rendered notebook is untrusted: anyone who can publish a notebook decides its
#: outputs (HTML, JavaScript), and it is served from Airflow's origin, where the viewer's
#: session cookie is valid. ``sandbox`` (without ``allow-scripts`` or ``allow-same-origin``)
#: puts the page in an opaque origin of its own with scripts, forms, pop-ups and top-level
#: navigation disabled, so nothing in a notebook can call Airflow's API as the logged-in
#: user; the fetch directives keep it from loading anything but its own inline styles and
#: data: images (no tracking pixels, no exfiltration). ``frame-ancestors 'self'`` lets
#: Airflow's own UI frame it and no other site.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "sandbox",
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "font-src data:",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Rendered for one user's session: no shared cache may keep it.
    "Cache-Control": "private, no-store",
}

#: The signed-in user, as Airflow's own API authenticates them: ``Authorization: Bearer
#: <token>``, or else the session cookie Airflow's UI holds (401 without either, 403 for
#: a token that is not Airflow's).
UserDep = Annotated[BaseUser, Depends(get_user)]

#: How each bookstore error is answered; the first matching class wins.
ERROR_STATUS: tuple[tuple[type[BookstoreError], int], ...] = (
    (InvalidRequestError, status.HTTP_400_BAD_REQUEST),
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (StoreUnavailableError, status.HTTP_503_SERVICE_UNAVAILABLE),
)


class Hooks:
    """One hook (and so one S3 client) per connection, rebuilt when the connection changes.

    Each request reads the connection again (Airflow caches it briefly), so an edited
    connection applies to the next request, while the S3 client is built once per
    connection version rather than per request.
    """

    def __init__(self) -> None:
        self._hooks: dict[str, tuple[str, BookstoreHook]] = {}
        self._lock = threading.Lock()

    def get(self, conn_id: str) -> BookstoreHook:
        hook = BookstoreHook(conn_id)
        conn = hook.connection
        fingerprint = f"{conn.get_uri()}|{conn.extra or ''}"
        with self._lock:
            known = self._hooks.get(conn_id)
            if known is not None and known[0] == fingerprint:
                return known[1]
            self._hooks[conn_id] = (fingerprint, hook)
        return hook


def run_path(hook: BookstoreHook, key: str) -> str:
    """``key`` relative to the connection's runs prefix.

    Raises
    ------
    InvalidPathError
        ``key`` is not under the runs prefix, or would leave it (``..``, encoded or not).
    """
    prefix = hook.runs_prefix
    try:
        return key_to_path(prefix, key)
    except InvalidPathError as e:
        raise InvalidPathError(
            f"{key!r} is not an executed notebook: the viewer shows only keys under the runs "
            f"prefix {prefix!r} of connection {hook.bookstore_conn_id!r} ({e})"
        ) from e


def render(stored: StoredObject, dag_id: str, ui_root: str = "/") -> str:
    """The notebook in ``stored`` as a standalone HTML page (nbconvert, lab template), titled
    with the notebook's name and the task that executed it, under a header linking back to
    that task in Airflow's UI at ``ui_root`` (to the DAG ``dag_id`` when the notebook does not
    record its task instance).

    Raises
    ------
    InvalidRequestError
        The object is not a notebook nbformat can read.
    """
    import nbformat
    from nbconvert import HTMLExporter

    name = unquote(stored.info.key.rsplit("/", 1)[-1])
    try:
        notebook = nbformat.reads(stored.body.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, ValueError) as e:
        # nbformat raises NotJSONError (a ValueError) and validation errors as ValueError.
        raise InvalidRequestError(
            f"version {stored.info.version_id!r} of {stored.info.key!r} is not a notebook: {e}"
        ) from e
    task = metadata.airflow_task(stored.info.metadata)
    path = task_instance_path(task)
    if path is None:
        task = {"dag_id": dag_id}
        path = f"dags/{quote(dag_id, safe='')}"
    ran_by = " · ".join(task[part] for part in ("task_id", "dag_id") if part in task)
    # The page's title, whatever title the notebook's own metadata gives.
    notebook.metadata["title"] = f"{name} · {ran_by} · executed notebook"
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    header = page_header(name, task, stored.info.version_id, ui_root.rstrip("/") + "/" + path)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + header, str(body), count=1)


def page_header(name: str, task: dict[str, str], version_id: str | None, task_url: str) -> str:
    """The viewer's header: which notebook, which task ran it, and the way back to that task."""
    e = html.escape
    if "task_id" in task:
        ran = (
            f"executed by task <b>{e(task['task_id'])}</b> of DAG <b>{e(task['dag_id'])}</b>, "
            f"run <b>{e(task['run_id'])}</b>"
            + (f", try {e(task['try_number'])}" if "try_number" in task else "")
            + (f", map index {e(task['map_index'])}" if "map_index" in task else "")
        )
        back = "Open this task in Airflow"
    else:
        ran = f"executed by DAG <b>{e(task['dag_id'])}</b>"
        back = "Open this DAG in Airflow"
    version = f" · version <code>{e(version_id)}</code>" if version_id else ""
    return (
        '<header id="bookstore-viewer-header" style="font: 14px/1.5 system-ui, sans-serif; '
        "padding: 12px 20px; margin-bottom: 8px; border-bottom: 1px solid #d0d0d0; "
        'background: #f6f7f9; color: #1d1d1d">'
        f'<h1 style="font-size: 20px; margin: 0 0 4px">{e(name)}</h1>'
        f"<div>{ran}{version} · "
        f'<a id="bookstore-task-link" href="{e(task_url)}">{back}</a></div>'
        "</header>"
    )


def _forbidden_unless_dag_readable(user: BaseUser, dag_id: str) -> None:
    """Raise 403 unless ``user`` may read the task instances of ``dag_id``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel

    allowed = get_auth_manager().is_authorized_dag(
        method="GET",
        access_entity=DagAccessEntity.TASK_INSTANCE,
        details=DagDetails(id=dag_id, team_name=DagModel.get_team_name(dag_id)),
        user=user,
    )
    if not allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"you may not read the task instances of DAG {dag_id!r}, which this notebook belongs to",
        )


def create_app() -> FastAPI:
    """The viewer's FastAPI application, as the plugin mounts it."""
    hooks = Hooks()
    app = FastAPI(
        title="bookstore executed-notebook viewer",
        description="Executed notebooks of bookstore's PublishedNotebookOperator, rendered as HTML.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.exception_handler(StarletteHTTPException)
    async def login_for_browsers(request: Request, error: StarletteHTTPException) -> Response:
        if signing_in_helps(request, error):
            return RedirectResponse(login_url(request), status.HTTP_307_TEMPORARY_REDIRECT)
        return await http_exception_handler(request, error)

    @app.get(EXECUTED_ROUTE + "/{key:path}", response_class=HTMLResponse)
    def executed_notebook(
        key: str,
        user: UserDep,
        version_id: Annotated[str | None, Query(description="S3 version id; default: latest")] = None,
        conn_id: Annotated[str, Query(description="bookstore connection")] = BookstoreHook.default_conn_name,
    ) -> HTMLResponse:
        try:
            hook = hooks.get(conn_id)
            dag_id = run_path(hook, key).split("/", 1)[0]
            _forbidden_unless_dag_readable(user, dag_id)
            page = render(hook.store.get(key, version_id or None), unquote(dag_id), ui_root())
        except BookstoreError as e:
            raise _http_error(e) from e
        except AirflowNotFoundException as e:
            message = f"there is no Airflow connection {conn_id!r}"
            raise HTTPException(status.HTTP_404_NOT_FOUND, message) from e
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    return app


def signing_in_helps(request: Request, error: StarletteHTTPException) -> bool:
    """Whether ``error`` is Airflow's answer to a browser without a valid session: no
    session (401) or an expired or foreign one (403 "Invalid JWT token", which Airflow's UI
    also answers with its login), to a request that accepts HTML and sends no token."""
    unauthenticated = error.status_code == status.HTTP_401_UNAUTHORIZED or (
        error.status_code == status.HTTP_403_FORBIDDEN and error.detail == "Invalid JWT token"
    )
    return (
        unauthenticated
        and "authorization" not in request.headers
        and "text/html" in request.headers.get("accept", "")
    )


def ui_root() -> str:
    """The path of Airflow's UI and API on its server (``[api] base_url``'s path), e.g. ``/``."""
    from airflow.api_fastapi.app import get_cookie_path

    return get_cookie_path()


def login_url(request: Request) -> str:
    """Airflow's login, which sends the browser back to this request's page afterwards."""
    return f"{ui_root().rstrip('/')}/api/v2/auth/login?{urlencode({'next': str(request.url)})}"


def _http_error(error: BookstoreError) -> HTTPException:
    """The HTTP answer to a bookstore error (its message is meant for a person)."""
    for cls, code in ERROR_STATUS:
        if isinstance(error, cls):
            return HTTPException(code, str(error))
    log.error("Viewer failed: %s", error)
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, str(error))
