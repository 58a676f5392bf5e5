"""The "Executed notebook" link on a :class:`PublishedNotebookOperator` task.

Airflow 3 builds operator links on the worker when a task finishes and stores the URL as
an XCom, which the UI reads. The operator pushes where it wrote the executed notebook
(:data:`OUTPUT_XCOM_KEY`), also when the notebook failed. What the link opens is the
``[bookstore] executed_notebook_link`` option (``AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK``):

``viewer`` (the default)
    The notebook rendered as HTML by the plugin's viewer (:mod:`bookstore.airflow.viewer`)
    on Airflow's own API server, behind Airflow's login, at ``[api] base_url``.
``s3``
    The ``[bookstore] notebook_url_template`` option formatted with the object's location:
    by default the raw URL of the object version on its backend (S3's, or GCS's JSON API
    download URL; :data:`OBJECT_URLS`), or a viewer or console of your own. (The value is
    named ``s3`` for every backend.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow.sdk import BaseOperatorLink

from . import CONFIG_SECTION, DEFAULT_NOTEBOOK_URL_TEMPLATE
from .hooks import BookstoreHook

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

#: XCom key under which the operator records where the executed notebook went.
OUTPUT_XCOM_KEY = "bookstore_output"

#: Where the plugin mounts its viewer on Airflow's API server, and the viewer's route.
VIEWER_PREFIX = "/bookstore"
EXECUTED_ROUTE = "/executed"

#: Values of ``[bookstore] executed_notebook_link``.
VIEWER = "viewer"
S3 = "s3"
LINK_KINDS = (VIEWER, S3)

#: The raw URL of one object version, by backend: the ``{object_url}`` of the template.
OBJECT_URLS = {
    "s3": "{endpoint_url}/{bucket}/{key}?versionId={version_id}",
    # The XML API's /<bucket>/<key> has no generation on emulators; the JSON API's download
    # URL reads one generation on Google's service and on fake-gcs-server alike.
    "gcs": "{endpoint_url}/storage/v1/b/{bucket}/o/{quoted_key}?alt=media&generation={version_id}",
}

#: Where a backend's objects are served when the connection names no endpoint.
GCS_ENDPOINT = "https://storage.googleapis.com"


def link_kind() -> str:
    """The configured ``[bookstore] executed_notebook_link``: :data:`VIEWER` or :data:`S3`."""
    from airflow.sdk import conf

    kind = str(conf.get(CONFIG_SECTION, "executed_notebook_link", fallback=VIEWER)).strip().lower()
    if kind not in LINK_KINDS:
        log.warning(
            "[%s] executed_notebook_link is %r, not one of %s: linking to the viewer",
            CONFIG_SECTION,
            kind,
            ", ".join(LINK_KINDS),
        )
        return VIEWER
    return kind


def url_template() -> str:
    """The configured ``[bookstore] notebook_url_template``, or the default."""
    from airflow.sdk import conf

    return str(conf.get(CONFIG_SECTION, "notebook_url_template", fallback=DEFAULT_NOTEBOOK_URL_TEMPLATE))


def notebook_url(output: Mapping[str, Any], template: str | None = None) -> str:
    """Format the link to one executed notebook.

    Parameters
    ----------
    output
        What the operator pushed: ``backend`` (``s3`` when absent), ``bucket``, ``key``,
        ``version_id``, ``endpoint_url`` and ``region_name``.
    template
        A format string with the fields ``{bucket}``, ``{key}``, ``{quoted_key}``,
        ``{version_id}``, ``{endpoint_url}`` and ``{object_url}``; default: :func:`url_template`.
    """
    backend = str(output.get("backend") or "s3")
    if backend == "gcs":
        default_endpoint = GCS_ENDPOINT
    else:
        default_endpoint = f"https://s3.{output.get('region_name') or 'us-east-1'}.amazonaws.com"
    key = str(output["key"])
    fields = {
        "bucket": quote(str(output["bucket"]), safe=""),
        "key": quote(key, safe="/"),
        "quoted_key": quote(key, safe=""),
        "version_id": quote(str(output.get("version_id") or ""), safe=""),
        "endpoint_url": str(output.get("endpoint_url") or default_endpoint).rstrip("/"),
    }
    object_url = OBJECT_URLS.get(backend, OBJECT_URLS["s3"]).format(**fields)
    return (template or url_template()).format(object_url=object_url, **fields)


def viewer_url(key: str, version_id: str | None, conn_id: str, base_url: str | None = None) -> str:
    """The plugin's viewer page of one executed notebook on Airflow's API server.

    Parameters
    ----------
    key, version_id
        The executed notebook's key and version id.
    conn_id
        The bookstore connection the viewer reads it through.
    base_url
        Where Airflow's API server is reached (``[api] base_url``); without one, the link
        is relative to the page showing it, Airflow's own UI.
    """
    query = {"version_id": version_id} if version_id else {}
    query["conn_id"] = conn_id
    base = (base_url or "").rstrip("/")
    return f"{base}{VIEWER_PREFIX}{EXECUTED_ROUTE}/{quote(key, safe='/')}?{urlencode(query)}"


def api_base_url() -> str:
    """Airflow's ``[api] base_url`` (empty when unset)."""
    from airflow.sdk import conf

    return str(conf.get("api", "base_url", fallback="") or "")


class ExecutedNotebookLink(BaseOperatorLink):
    """Link from a task to the notebook it executed: Airflow's viewer, or the bucket (see the module)."""

    name = "Executed notebook"

    @property
    def xcom_key(self) -> str:
        """Where Airflow keeps the built URL (fixed, so subclasses share it)."""
        return "_link_bookstore_executed_notebook"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The URL of the task's executed notebook, or "" before it has one."""
        from airflow.sdk.execution_time.xcom import XCom

        output = XCom.get_value(ti_key=ti_key, key=OUTPUT_XCOM_KEY)
        if not output:
            return ""
        if link_kind() == VIEWER:
            conn_id = getattr(operator, "bookstore_conn_id", None) or BookstoreHook.default_conn_name
            return viewer_url(str(output["key"]), output.get("version_id"), conn_id, api_base_url())
        try:
            return notebook_url(output)
        except (KeyError, IndexError, ValueError) as e:
            log.warning("[%s] notebook_url_template cannot be formatted: %s", CONFIG_SECTION, e)
            return ""
