"""``BookstorePlugin``: template macros that resolve published notebooks, and the viewer
of executed notebooks on Airflow's API server.

Registered through the ``airflow.plugins`` entry point of the distribution (and, for
uninstalled checkouts, ``plugins/bookstore_plugin.py``)::

    version_id="{{ macros.bookstore.latest_version_id('kylek/notebooks/analysis/mine.ipynb') }}"

The "Executed notebook" link is not registered here. Airflow 3 builds an operator's links
on the worker when the task ends and keeps the URL in an XCom that the API server reads;
that only happens for links the operator class itself declares
(:attr:`PublishedNotebookOperator.operator_extra_links`). A link a plugin registers for an
operator takes precedence on the API server, which would then call ``get_link`` where the
task SDK cannot read XComs, and the UI would lose the link. Airflow lists the link from the
provider's ``extra-links`` instead. The link opens the viewer this plugin mounts at
``/bookstore`` on the API server (:mod:`bookstore.airflow.viewer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.plugins_manager import AirflowPlugin

from ..library import PUBLISHED
from .hooks import BookstoreHook
from .links import VIEWER_PREFIX

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]


def latest_version_id(notebook_key: str, conn_id: str = BookstoreHook.default_conn_name) -> str:
    """The S3 version id of the latest published version of ``notebook_key``.

    Parameters
    ----------
    notebook_key
        Path under the published prefix, e.g. ``kylek/notebooks/analysis/mine.ipynb``.
    conn_id
        The bookstore connection to look in.

    Raises
    ------
    NotFoundError
        Nothing is published at ``notebook_key``: the template, and so the task, fails.
    """
    return BookstoreHook(conn_id).latest_version_id(notebook_key)


def published_key(notebook_key: str, conn_id: str = BookstoreHook.default_conn_name) -> str:
    """The full S3 key of ``notebook_key`` under the connection's published prefix."""
    return BookstoreHook(conn_id).library.key(notebook_key, PUBLISHED)


class ViewerApp:
    """The viewer's ASGI application, built on its first request.

    Every Airflow process loads this plugin (task processes for the macros), and only the
    API server serves the viewer: importing FastAPI, Airflow's API security and nbconvert
    when the plugin loads would slow down every task's start by about half a second.
    """

    def __init__(self) -> None:
        self._app: Callable[..., Awaitable[None]] | None = None

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if self._app is None:  # no await before the assignment: one event loop builds it once
            from .viewer import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class BookstorePlugin(AirflowPlugin):
    """Macros ``macros.bookstore.latest_version_id`` and ``macros.bookstore.published_key``,
    and the executed-notebook viewer at ``/bookstore/executed/<key>`` on the API server."""

    name = "bookstore"
    macros = [latest_version_id, published_key]  # noqa: RUF012 - AirflowPlugin's declared shape
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin's declared shape
        {"app": ViewerApp(), "url_prefix": VIEWER_PREFIX, "name": "bookstore executed-notebook viewer"}
    ]
