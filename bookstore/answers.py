"""How the core's results become the JSON objects the edges answer with.

A result (a publication, a catalog entry, a run and its record) is a frozen dataclass. The
REST API, ``bookstore ... --json`` and Airflow's XCom all show it as :func:`json_fields`
does: its fields in their order, times in ISO 8601. A result adds what it computes, or
normalises a field, on top of that.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def json_fields(result: DataclassInstance) -> dict[str, Any]:
    """``result``'s fields as JSON-compatible data (a copy): times as ISO 8601 strings."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in asdict(result).items()
    }
