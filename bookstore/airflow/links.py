"""The "Executed notebook" link on a :class:`PublishedNotebookOperator` task.

Airflow 3 builds operator links on the worker when a task finishes and stores the URL as
an XCom, which the UI reads. The operator pushes where it wrote the executed notebook
(:data:`OUTPUT_XCOM_KEY`), also when the notebook failed; the link formats it with the
``[bookstore] notebook_url_template`` option (``AIRFLOW__BOOKSTORE__NOTEBOOK_URL_TEMPLATE``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from . import CONFIG_SECTION, DEFAULT_NOTEBOOK_URL_TEMPLATE

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

#: XCom key under which the operator records where the executed notebook went.
OUTPUT_XCOM_KEY = "bookstore_output"


def url_template() -> str:
    """The configured ``[bookstore] notebook_url_template``, or the default."""
    from airflow.sdk import conf

    return str(conf.get(CONFIG_SECTION, "notebook_url_template", fallback=DEFAULT_NOTEBOOK_URL_TEMPLATE))


def notebook_url(output: Mapping[str, Any], template: str | None = None) -> str:
    """Format the link to one executed notebook.

    Parameters
    ----------
    output
        What the operator pushed: ``bucket``, ``key``, ``version_id``, ``endpoint_url`` and
        ``region_name``.
    template
        A format string with the fields ``{bucket}``, ``{key}``, ``{quoted_key}``,
        ``{version_id}`` and ``{endpoint_url}``; default: :func:`url_template`.
    """
    region = output.get("region_name") or "us-east-1"
    endpoint = output.get("endpoint_url") or f"https://s3.{region}.amazonaws.com"
    key = str(output["key"])
    return (template or url_template()).format(
        bucket=quote(str(output["bucket"]), safe=""),
        key=quote(key, safe="/"),
        quoted_key=quote(key, safe=""),
        version_id=quote(str(output.get("version_id") or ""), safe=""),
        endpoint_url=str(endpoint).rstrip("/"),
    )


class ExecutedNotebookLink(BaseOperatorLink):
    """Link from a task to the notebook it executed, in S3 or a notebook viewer."""

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
        try:
            return notebook_url(output)
        except (KeyError, IndexError, ValueError) as e:
            log.warning("[%s] notebook_url_template cannot be formatted: %s", CONFIG_SECTION, e)
            return ""
