"""``BookstoreHook``: the bookstore bucket, as an Airflow connection describes it."""

from __future__ import annotations

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from ..config import DEFAULT_PUBLISHED_PREFIX, DEFAULT_RUNS_PREFIX, DEFAULT_SCHEDULES_ROOT
from ..errors import BookstoreError, InvalidPathError, MisconfiguredError
from ..keys import normalize_prefix

#: Airflow's Google provider's connection type: such a connection names a GCS bucket.
GOOGLE_CLOUD_CONN_TYPE = "google_cloud_platform"

#: Credentials a Google Cloud connection of Airflow's Google provider may name that bookstore
#: does not read: refused rather than silently replaced by Application Default Credentials.
UNREAD_GOOGLE_EXTRAS = ("key_secret_name", "credential_config_file", "impersonation_chain")

#: The extras the hook reads itself, never passed on as a backend's settings.
HOOK_EXTRAS = frozenset(
    {"backend", "published_prefix", "runs_prefix", "schedules_root", "smtp_conn_id", "jupyter_url"}
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from ..library import Library
    from ..store import Patience, Store


class BookstoreHook(BaseHook):
    """Reach the bookstore bucket through an Airflow connection.

    For S3 the connection is ``aws``-typed (or ``bookstore``-typed, which has a form in the
    UI): ``login`` and ``password`` are the access key id and secret; with no login, boto3's
    default credential chain applies (environment, ``~/.aws``, instance role). For Google
    Cloud Storage it is ``google_cloud_platform``-typed, as Airflow's Google provider makes
    them: its extras ``key_path`` or ``keyfile_dict`` name a service-account key, and without
    them Application Default Credentials apply (see :meth:`store_settings`; the extra
    ``backend`` names the backend outright). Its extra
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
    def store(self) -> Store:
        """The bucket, with one client for everything this hook does."""
        from ..store import BATCH

        return self.make_store(BATCH)

    @cached_property
    def backend(self) -> str:
        """The storage backend: the extra ``backend`` when given, otherwise ``gcs`` for a
        Google Cloud connection and ``s3`` for any other."""
        from ..backends import check_backend_name

        named = self.extra_value("backend")
        if named is None:
            return "gcs" if self.connection.conn_type == GOOGLE_CLOUD_CONN_TYPE else "s3"
        check_backend_name(named.lower())
        return named.lower()

    def store_settings(self) -> dict[str, Any]:
        """The backend's plain settings (:func:`bookstore.backends.build_store`), read from the
        connection: for S3 its login and password and the extras ``bucket``, ``endpoint_url``
        and ``region_name``; for GCS the extras ``bucket``, ``endpoint_url`` and, as Airflow's
        Google provider names them, ``project``, ``key_path`` and ``keyfile_dict``; for another
        backend, every extra that is not the hook's own."""
        conn = self.connection
        if self.backend == "s3":
            return {
                "bucket": self.extra_value("bucket"),
                "endpoint_url": self.extra_value("endpoint_url"),
                "region_name": self.extra_value("region_name"),
                "access_key_id": conn.login or None,
                "secret_access_key": conn.password or None,
            }
        if self.backend == "gcs":
            unread = [name for name in UNREAD_GOOGLE_EXTRAS if self.extra_value(name) is not None]
            if unread:
                raise MisconfiguredError(
                    f"connection {self.bookstore_conn_id!r} sets {', '.join(unread)}, which bookstore "
                    "does not read: give the service account's key as key_path or keyfile_dict, or "
                    "leave them all out for Application Default Credentials"
                )
            keyfile = self.extra.get("keyfile_dict") or self.extra.get(
                f"extra__{conn.conn_type}__keyfile_dict"
            )
            return {
                "bucket": self.extra_value("bucket"),
                "endpoint_url": self.extra_value("endpoint_url"),
                "project": self.extra_value("project"),
                "credentials_file": self.extra_value("key_path"),
                "credentials_json": json.dumps(keyfile) if isinstance(keyfile, dict) else keyfile or None,
            }
        return {name: value for name, value in self.extra.items() if name not in HOOK_EXTRAS}

    def make_store(self, patience: Patience) -> Store:
        """A store on the connection's bucket that waits for the service as ``patience`` says
        (parsing DAG files gives up within seconds; tasks are patient)."""
        # Imported here so that parsing a DAG file imports no client library unless it reads.
        from ..backends import build_store

        store = build_store(self.backend, self.store_settings(), patience)
        self.log.info(
            "Using %r from connection %s, with %s", store, self.bookstore_conn_id, store.credential_source
        )
        return store

    def get_conn(self) -> Store:
        """The :class:`~bookstore.store.Store` (Airflow's name for a hook's client)."""
        return self.store

    @cached_property
    def library(self) -> Library:
        """The published notebooks and runs of the connection's bucket and prefixes."""
        from ..library import Library

        # Notebook keys are relative to the connection's published prefix, which is therefore
        # also the root that run records and the catalog are relative to.
        return Library.of_published_root(
            self.store,
            self.published_prefix,
            runs_prefix=self.runs_prefix,
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
