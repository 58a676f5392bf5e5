"""``BookstoreHook``: the bookstore bucket, as an Airflow connection describes it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from ..config import DEFAULT_PUBLISHED_PREFIX, DEFAULT_RUNS_PREFIX, DEFAULT_SCHEDULES_ROOT
from ..errors import BookstoreError, InvalidPathError, MisconfiguredError
from ..keys import normalize_prefix

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from ..library import Library
    from ..s3 import S3Store
    from ..store import Patience


class BookstoreHook(BaseHook):
    """Reach the bookstore bucket through an Airflow connection.

    The connection is ``aws``-typed (or ``bookstore``-typed, which has a form in the UI):
    ``login`` and ``password`` are the access key id and secret; with no login, boto3's
    default credential chain applies (environment, ``~/.aws``, instance role). Its extra
    holds ``bucket`` (required), ``endpoint_url`` and ``region_name`` (optional), the key
    prefixes ``published_prefix`` (default ``published``), ``runs_prefix`` (default ``runs``)
    and ``schedules_root`` (default ``schedules``), and for schedules' failure mail
    ``smtp_conn_id`` (default ``smtp_default``) and ``jupyter_url`` (linked to)::

        AIRFLOW_CONN_BOOKSTORE_DEFAULT='{"conn_type": "aws", "login": "...", "password": "...",
          "extra": {"endpoint_url": "http://127.0.0.1:8333", "bucket": "notebooks"}}'

    Parameters
    ----------
    bookstore_conn_id
        The Airflow connection id.
    """

    conn_name_attr = "bookstore_conn_id"
    default_conn_name = "bookstore_default"
    conn_type = "bookstore"
    hook_name = "Bookstore (S3)"

    def __init__(self, bookstore_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.bookstore_conn_id = bookstore_conn_id

    @cached_property
    def connection(self) -> Connection:
        """The Airflow connection, read once."""
        return self.get_connection(self.bookstore_conn_id)

    @cached_property
    def extra(self) -> dict[str, Any]:
        """The connection's extra, as a dict."""
        extra = self.connection.extra_dejson
        if not isinstance(extra, dict):
            raise MisconfiguredError(
                f"the extra of connection {self.bookstore_conn_id!r} is not a JSON object"
            )
        return extra

    @cached_property
    def store(self) -> S3Store:
        """The bucket, with one S3 client for everything this hook does."""
        from ..store import BATCH

        return self.make_store(BATCH)

    def make_store(self, patience: Patience) -> S3Store:
        """A store on the connection's bucket that waits for S3 as ``patience`` says (parsing
        DAG files gives up within seconds; tasks are patient)."""
        # Imported here so that parsing a DAG file does not import boto3 unless it reads S3.
        from ..s3 import S3Store

        conn = self.connection
        store = S3Store(
            self.extra_value("bucket") or "",
            endpoint_url=self.extra_value("endpoint_url"),
            region_name=self.extra_value("region_name"),
            access_key_id=conn.login or None,
            secret_access_key=conn.password or None,
            patience=patience,
        )
        self.log.info(
            "Using %r from connection %s (%s credentials)",
            store,
            self.bookstore_conn_id,
            "explicit" if conn.login else "default AWS chain",
        )
        return store

    def get_conn(self) -> S3Store:
        """The :class:`~bookstore.s3.S3Store` (Airflow's name for a hook's client)."""
        return self.store

    @cached_property
    def library(self) -> Library:
        """The published notebooks and runs of the connection's bucket and prefixes."""
        from ..library import Library

        # Notebook keys are relative to the connection's published prefix, which is therefore
        # also the root that run records and the catalog are relative to.
        return Library(
            self.store,
            published_prefix=self.published_prefix,
            runs_prefix=self.runs_prefix,
            published_root=self.published_prefix,
            schedules_root=self.schedules_root,
        )

    @cached_property
    def published_prefix(self) -> str:
        """Key prefix of published notebooks (extra ``published_prefix``)."""
        return self._prefix("published_prefix", DEFAULT_PUBLISHED_PREFIX)

    @cached_property
    def runs_prefix(self) -> str:
        """Key prefix of executed notebooks (extra ``runs_prefix``)."""
        return self._prefix("runs_prefix", DEFAULT_RUNS_PREFIX)

    @cached_property
    def schedules_root(self) -> str:
        """Key prefix of schedules and run requests (extra ``schedules_root``)."""
        return self._prefix("schedules_root", DEFAULT_SCHEDULES_ROOT)

    def extra_value(self, name: str) -> str | None:
        """One setting of the extra; None when unset or empty.

        Also found under ``extra__<conn type>__<name>``, as older connection forms save it.
        """
        value = self.extra.get(name)
        if value in (None, ""):
            value = self.extra.get(f"extra__{self.connection.conn_type}__{name}")
        return None if value in (None, "") else str(value)

    def _prefix(self, name: str, default: str) -> str:
        value = self.extra_value(name)
        try:
            return normalize_prefix(default if value is None else value)
        except InvalidPathError as e:
            raise MisconfiguredError(f"connection {self.bookstore_conn_id!r}, extra {name}: {e}") from e

    def latest_version_id(self, notebook_key: str) -> str:
        """The version id of the latest published version of ``notebook_key``."""
        return self.library.latest_version_id(notebook_key)

    def test_connection(self) -> tuple[bool, str]:
        """Check the bucket answers (the connection form's Test button)."""
        try:
            status = self.store.versioning_status()
        except BookstoreError as e:
            return False, str(e)
        if status != "Enabled":
            return False, f"bucket {self.store.bucket!r} is reachable but versioning is {status or 'off'}"
        return True, f"bucket {self.store.bucket!r} is reachable and versioned"
