"""Make bookstore's Airflow plugin available from the plugins folder.

When the ``notebook-bookstore`` distribution is installed, Airflow already registers
``BookstorePlugin`` through its ``airflow.plugins`` entry point. Airflow 3.3 loads the
plugins folder first and then entry points, and a second plugin with the same name is
skipped and reported as an import error (the task runner's loader even stops registering
the remaining entry-point plugins), so this file exposes the plugin only when no installed
distribution declares it: for example, bookstore on ``PYTHONPATH`` without being installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

_ENTRY_POINT = "bookstore.airflow.plugin:BookstorePlugin"


def _registered_by_entry_point() -> bool:
    return any(ep.value == _ENTRY_POINT for ep in entry_points(group="airflow.plugins"))


if not _registered_by_entry_point():
    from bookstore.airflow.plugin import BookstorePlugin

    __all__ = ["BookstorePlugin"]
