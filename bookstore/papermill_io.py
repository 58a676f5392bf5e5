"""papermill reads published notebooks at a pinned version: ``bookstore://`` paths.

Registered through papermill's ``papermill.io`` entry point, so that anything running
papermill (its CLI, Airflow's ``PapermillOperator``, a script) can name one exact published
version::

    papermill "bookstore://alice/notebooks/analysis/mine.ipynb?version_id=6713f1..." out.ipynb

The path after ``bookstore://`` is a notebook key under the published root, as an Airflow
``PublishedNotebookOperator``'s ``notebook_key``; without ``version_id`` the latest published
version is read. The settings are the CLI's: ``$BOOKSTORE_CONFIG`` (a Jupyter config file with
the ``c.Bookstore`` lines), else ``$BOOKSTORE_S3_BUCKET`` and the AWS environment. The scheme
is read-only: papermill writes its output wherever the second path says (a local file,
``s3://``), never over a publication. (``s3://`` stays papermill's own handler.)
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import InvalidPathError

if TYPE_CHECKING:
    from .library import Library

SCHEME = "bookstore://"


def parse(path: str) -> tuple[str, str | None]:
    """The notebook key and version id (None: the latest) a ``bookstore://`` path names.

    Raises
    ------
    InvalidPathError
        A path that is not ``bookstore://<notebook key>[?version_id=<id>]``.
    """
    if not path.startswith(SCHEME):
        raise InvalidPathError(f"{path!r} is not a bookstore:// path")
    parts = urlsplit(path)
    notebook_key = unquote(parts.netloc + parts.path)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"version_id"})
    if unknown or len(query.get("version_id", [])) > 1 or parts.fragment:
        raise InvalidPathError(
            f"{path!r}: a bookstore:// path takes one query parameter, version_id "
            "(bookstore://alice/notebooks/analysis/mine.ipynb?version_id=...)"
        )
    version_id = query.get("version_id", [""])[0] or None
    return notebook_key, version_id


@cache
def _library() -> Library:
    """One library per process, from the CLI's settings (papermill reads a few paths a run)."""
    from .cli.files import load_settings
    from .library import Library
    from .store import BATCH

    settings = load_settings(os.environ.get("BOOKSTORE_CONFIG"))
    return Library.from_settings(settings, settings.create_store(BATCH))


class BookstoreIO:
    """The ``bookstore://`` handler, in the shape papermill's I/O registry calls."""

    @classmethod
    def read(cls, path: str) -> str:
        notebook_key, version_id = parse(path)
        stored = _library().catalog.read(notebook_key, version_id)
        return stored.body.decode("utf-8")

    @classmethod
    def write(cls, buf: Any, path: str) -> None:
        raise InvalidPathError(
            f"{path!r}: bookstore:// is read-only; write papermill's output to a local path or "
            "s3://, and publish from Jupyter or with `bookstore publish`"
        )

    @classmethod
    def listdir(cls, path: str) -> list[str]:
        raise InvalidPathError(f"{path!r}: list published notebooks with `bookstore catalog` instead")

    @classmethod
    def pretty_path(cls, path: str) -> str:
        return path
