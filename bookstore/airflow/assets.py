"""Airflow Assets for published notebooks and their runs.

``published_notebook_asset`` is a published notebook as an Airflow Asset whose watcher
announces every publication, so a DAG scheduled on it gets one run per publish::

    nb = published_notebook_asset("alice/notebooks/analysis/mine.ipynb")
    with DAG("mine_on_publish", schedule=[nb]):
        PublishedNotebookOperator(task_id="run", notebook_key="alice/notebooks/analysis/mine.ipynb",
                                  outlets=[executed_notebook_asset("alice/notebooks/analysis/mine.ipynb")])

In such a run, the operator (``version_id=None``) runs exactly the version whose publication
started it. ``executed_notebook_asset`` is what an operator that lists it among its
``outlets`` updates on every successful run, the run's lineage in the event's ``extra``.

Both read the connection when the DAG file is parsed, to name the bucket in the asset's URI
(``s3://<bucket>/<key>``, ``gs://`` on Google Cloud Storage); nothing secret goes into an asset.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetWatcher

from ..backends import uri_scheme
from ..errors import InvalidPathError, MisconfiguredError
from ..keys import path_to_key
from ..runs import RECORDS_FOLDER
from ..schedules import REQUESTS_FOLDER
from .hooks import BookstoreHook
from .triggers import PublishedVersionTrigger, RunRequestTrigger


def published_notebook_asset(
    notebook_key: str,
    bookstore_conn_id: str = BookstoreHook.default_conn_name,
    *,
    poll_interval: float = 5.0,
    hook: BookstoreHook | None = None,
) -> Asset:
    """The published notebook ``notebook_key`` as an Asset, watched for new publications.

    Parameters
    ----------
    notebook_key
        The notebook's path under the published root (as the team catalog and an
        operator's ``notebook_key`` name it), e.g. ``alice/notebooks/analysis/mine.ipynb``.
    bookstore_conn_id
        Airflow connection to the bucket.
    poll_interval
        Seconds between two looks at the notebook's versions (one S3 listing each): the
        longest a publication waits before its run is started.
    hook
        The hook of ``bookstore_conn_id`` when the caller has one (many assets, one lookup).
    """
    hook = hook or BookstoreHook(bookstore_conn_id)
    uri = _uri(hook, hook.published_prefix, notebook_key, "published notebook")
    trigger = PublishedVersionTrigger(
        notebook_key=notebook_key, bookstore_conn_id=bookstore_conn_id, poll_interval=poll_interval
    )
    return Asset(
        name=uri,
        uri=uri,
        group="notebook",
        watchers=[AssetWatcher(name=f"bookstore publications of {notebook_key}", trigger=trigger)],
    )


def executed_notebook_asset(
    notebook_key: str,
    bookstore_conn_id: str = BookstoreHook.default_conn_name,
    *,
    hook: BookstoreHook | None = None,
) -> Asset:
    """The runs of the published notebook ``notebook_key``, as an Asset.

    Its URI is the folder of the notebook's run records; each event's ``extra`` says which
    executed notebook the run wrote (see :class:`~bookstore.airflow.operators.PublishedNotebookOperator`).
    """
    hook = hook or BookstoreHook(bookstore_conn_id)
    folder = path_to_key(hook.runs_prefix, RECORDS_FOLDER)
    uri = _uri(hook, folder, notebook_key, "executed notebook")
    return Asset(name=uri, uri=uri, group="notebook")


def run_requests_asset(
    bookstore_conn_id: str = BookstoreHook.default_conn_name,
    *,
    poll_interval: float = 3.0,
    hook: BookstoreHook | None = None,
) -> Asset:
    """The run requests written into the bucket from Jupyter ("run now"), as an Asset whose
    watcher announces each request once (see :class:`~bookstore.airflow.triggers.RunRequestTrigger`);
    its URI is the schedules root's."""
    hook = hook or BookstoreHook(bookstore_conn_id)
    uri = _uri(hook, hook.schedules_root, REQUESTS_FOLDER, "run requests")
    trigger = RunRequestTrigger(bookstore_conn_id=hook.bookstore_conn_id, poll_interval=poll_interval)
    return Asset(
        name=uri,
        uri=uri,
        group="notebook",
        watchers=[AssetWatcher(name=f"bookstore run requests of {hook.bookstore_conn_id}", trigger=trigger)],
    )


def _uri(hook: BookstoreHook, prefix: str, notebook_key: str, what: str) -> str:
    bucket = hook.extra_value("bucket")
    if not bucket:
        raise MisconfiguredError(
            f"connection {hook.bookstore_conn_id!r} names no bucket (extra 'bucket'): a {what} "
            "asset is named by its bucket and key"
        )
    try:
        return f"{uri_scheme(hook.backend)}://{bucket}/{path_to_key(prefix, notebook_key)}"
    except InvalidPathError as e:
        raise InvalidPathError(f"notebook key {notebook_key!r} is refused for a {what} asset: {e}") from e
