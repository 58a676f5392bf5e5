"""Every S3 metadata name bookstore writes, and the builders and readers of each record.

Three kinds of object carry bookstore metadata, one builder each:

- a **save** (workspace version): :func:`save_metadata`, written by the archive queue, or by
  publishing when it stores the saved notebook itself;
- a **publication** (published version): :func:`publication_metadata`;
- a **run** (executed notebook): :func:`run_metadata` and :func:`run_status`.

S3 lower-cases metadata names and holds values in ASCII; every backend stores names
lower-cased and values percent-encoded (:func:`encode_metadata`), so any text may go in and a
bucket's metadata reads the same whichever backend (or copy tool) wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

# -- on the wire -------------------------------------------------------------------------------

# Characters kept as they are in stored metadata; everything else is percent-encoded, because
# S3 metadata values must be ASCII (GCS's travel as x-goog-meta-* headers in its XML API) and
# notebook paths and parameters need not be.
_METADATA_SAFE = " !#$&'()*+,-./:;<=>?@[]^_`{|}~\""


def encode_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """``metadata`` as a store keeps it: lower-case names, values percent-encoded to ASCII."""
    return {k.lower(): quote(str(v), safe=_METADATA_SAFE) for k, v in (metadata or {}).items()}


def decode_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Metadata as :func:`encode_metadata` stored it."""
    return {k: unquote(v) for k, v in (metadata or {}).items()}


# -- names -----------------------------------------------------------------------------------

SHA256 = "bookstore-sha256"
PATH = "bookstore-path"
SAVE_ID = "bookstore-save-id"
SAVED_AT = "bookstore-saved-at"
#: Set on saves that publishing stored itself, rather than the archive queue.
ARCHIVED_BY = "bookstore-archived-by"

SOURCE_KEY = "bookstore-source-key"
SOURCE_VERSION_ID = "bookstore-source-version-id"
PUBLISHED_AT = "bookstore-published-at"
#: Who published: the Jupyter user who asked (JupyterHub's user name on a hub), for audit.
PUBLISHED_BY = "bookstore-published-by"

PARAMETERS = "bookstore-parameters"
STATUS = "bookstore-status"
#: The Airflow task instance that wrote an executed notebook.
AIRFLOW = {
    "dag_id": "bookstore-airflow-dag-id",
    "run_id": "bookstore-airflow-run-id",
    "task_id": "bookstore-airflow-task-id",
    "try_number": "bookstore-airflow-try-number",
    "map_index": "bookstore-airflow-map-index",
}

# S3 allows 2 KB of user metadata per object in all; parameters longer than this are left
# out of it (the executed notebook itself still records them under metadata.papermill).
MAX_PARAMETERS_BYTES = 1024
PARAMETERS_TOO_LONG = "(too long for S3 metadata: see metadata.papermill.parameters in the notebook)"


def _timestamp(moment: float) -> str:
    return f"{moment:.6f}"


def read_timestamp(value: str | None) -> datetime | None:
    """A time bookstore wrote (seconds since the epoch), or None when absent or unreadable."""
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None


# -- saves -----------------------------------------------------------------------------------


def save_metadata(
    *, sha256: str, path: str, save_id: str, saved_at: float, archived_by: str | None = None
) -> dict[str, str]:
    """What a workspace version records: its content hash, Jupyter path, save id and time."""
    metadata = {SHA256: sha256, PATH: path, SAVE_ID: save_id, SAVED_AT: _timestamp(saved_at)}
    if archived_by:
        metadata[ARCHIVED_BY] = archived_by
    return metadata


def is_save(metadata: Mapping[str, str], save_id: str) -> bool:
    """Whether a version's ``metadata`` is that of the save ``save_id``."""
    return metadata.get(SAVE_ID) == save_id


# -- publications ----------------------------------------------------------------------------


def publication_metadata(
    *,
    source_key: str,
    source_version_id: str | None,
    path: str,
    sha256: str | None,
    published_at: float,
    published_by: str | None = None,
) -> dict[str, str]:
    """What a published version records: the exact save it was copied from, when, and who
    asked for it (when known)."""
    metadata = {
        SOURCE_KEY: source_key,
        SOURCE_VERSION_ID: source_version_id or "null",
        PATH: path,
        PUBLISHED_AT: _timestamp(published_at),
    }
    if sha256:
        metadata[SHA256] = sha256
    if published_by:
        metadata[PUBLISHED_BY] = published_by
    return metadata


def publisher(metadata: Mapping[str, str]) -> str | None:
    """Who published a version, when it was recorded."""
    return metadata.get(PUBLISHED_BY) or None


@dataclass(frozen=True)
class VersionDetails:
    """What a version's metadata adds to a listing (S3 lists no metadata)."""

    #: When the save was made, or the publication published.
    saved_at: datetime | None
    #: For a publication: the workspace version it was published from.
    source_version_id: str | None


def version_details(metadata: Mapping[str, str]) -> VersionDetails:
    """The :class:`VersionDetails` of a save or a publication."""
    return VersionDetails(
        saved_at=read_timestamp(metadata.get(SAVED_AT) or metadata.get(PUBLISHED_AT)),
        source_version_id=metadata.get(SOURCE_VERSION_ID) or None,
    )


def content_hash(metadata: Mapping[str, str]) -> str | None:
    """The sha256 of the notebook a version holds, when bookstore stored it."""
    return metadata.get(SHA256) or None


# -- runs ------------------------------------------------------------------------------------


def parameters_json(parameters: Mapping[str, Any]) -> str:
    """Parameters as recorded (``default=str``: dates and such as papermill renders them)."""
    return json.dumps(dict(parameters), sort_keys=True, default=str)


def run_metadata(
    *,
    source_key: str,
    source_version_id: str | None,
    parameters: Mapping[str, Any],
    airflow: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """What an executed notebook records: which version ran with which parameters, and the
    Airflow task instance (``dag_id``, ``run_id``, ``task_id``, ``try_number``, ``map_index``)
    when there is one."""
    text = parameters_json(parameters)
    metadata = {
        SOURCE_KEY: source_key,
        SOURCE_VERSION_ID: source_version_id or "",
        PARAMETERS: text if len(text.encode("utf-8")) <= MAX_PARAMETERS_BYTES else PARAMETERS_TOO_LONG,
    }
    for name, value in (airflow or {}).items():
        if value is not None:
            metadata[AIRFLOW[name]] = str(value)
    return metadata


def airflow_task(metadata: Mapping[str, str]) -> dict[str, str]:
    """The Airflow task instance an executed notebook records (see :func:`run_metadata`):
    those of ``dag_id``, ``run_id``, ``task_id``, ``try_number`` and ``map_index`` it has."""
    return {name: metadata[header] for name, header in AIRFLOW.items() if metadata.get(header)}


def run_status(succeeded: bool) -> dict[str, str]:
    """The outcome an executed notebook records."""
    return {STATUS: "succeeded" if succeeded else "failed"}
