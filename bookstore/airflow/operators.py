"""``PublishedNotebookOperator``: run a published notebook by key and version."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ..errors import InvalidPathError, MisconfiguredError, NotFoundError
from ..library import PUBLISHED
from ..runner import NotebookFailedError, RunResult, default_output_key, run_published
from ..runs import FAILED
from .hooks import BookstoreHook
from .links import OUTPUT_XCOM_KEY, ExecutedNotebookLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..library import Library


class PublishedNotebookOperator(BaseOperator):
    """Run a notebook published to the bookstore bucket, with papermill.

    The task reads ``<published prefix>/<notebook_key>`` at ``version_id`` (or its latest
    version, resolved when the task starts; or, in a DAG run that a publication of the
    notebook started, exactly the version published: see
    :func:`~bookstore.airflow.assets.published_notebook_asset`), runs it with ``parameters`` injected, writes
    the executed notebook to ``output_key`` and returns (as XCom) the source key, the
    version id that ran, the output key and version id, and the parameters. Cell output
    goes to the task log. A notebook that raises still has its executed output uploaded
    before the task fails.

    An unknown key or version, a key leaving the published prefix, or an unusable
    connection fails the task at once, without retries: trying again cannot help.

    Every run is recorded in the bucket (see :mod:`bookstore.runs`), so Jupyter shows it.
    Each :class:`~airflow.sdk.Asset` among the task's ``outlets`` (for example
    :func:`~bookstore.airflow.assets.executed_notebook_asset`) gets an event whose
    ``extra`` is the run's lineage: the returned XCom plus ``notebook_key``.

    Parameters
    ----------
    notebook_key
        Path under the published prefix, e.g. ``kylek/notebooks/analysis/mine.ipynb``
        (templated).
    version_id
        S3 version id to run; None or "" runs the latest published version (templated).
    parameters
        papermill parameters (templated): a mapping, whose values render one by one, or a
        JSON object, e.g. ``"{{ params.parameters | tojson }}"`` to take them from a Param.
    output_key
        Full S3 key for the executed notebook (templated). Default:
        ``<runs prefix>/<dag_id>/<run_id>/<task_id>/[map-<index>/]try-<n>/<file name>``,
        unique per DAG, run, task and try.
    kernel_name
        Jupyter kernel to run with; default: the one the notebook names.
    bookstore_conn_id
        Airflow connection to the bucket; see :class:`~bookstore.airflow.hooks.BookstoreHook`.
    """

    template_fields: Sequence[str] = ("notebook_key", "version_id", "parameters", "output_key")
    template_fields_renderers: ClassVar[dict[str, str]] = {"parameters": "json"}
    operator_extra_links = (ExecutedNotebookLink(),)
    ui_color = "#f5e6c8"

    def __init__(
        self,
        *,
        notebook_key: str,
        version_id: str | None = None,
        parameters: Mapping[str, Any] | str | None = None,
        output_key: str | None = None,
        kernel_name: str | None = None,
        bookstore_conn_id: str = BookstoreHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Templates render after __init__, so nothing here may look inside these values.
        self.notebook_key = notebook_key
        self.version_id = version_id
        self.parameters = parameters
        self.output_key = output_key
        self.kernel_name = kernel_name
        self.bookstore_conn_id = bookstore_conn_id

    @cached_property
    def hook(self) -> BookstoreHook:
        """The hook for ``bookstore_conn_id``, built on first use."""
        return BookstoreHook(self.bookstore_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        """Run the notebook; return :meth:`RunResult.as_dict` for XCom."""
        ti = context["ti"]
        parameters = _parameters(self.parameters)
        mapped = ti.map_index is not None and ti.map_index >= 0
        run_path = [
            ti.dag_id,
            ti.run_id,
            ti.task_id,
            *([f"map-{ti.map_index}"] if mapped else []),
            f"try-{ti.try_number}",
        ]
        task_instance = {
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "try_number": ti.try_number,
            "map_index": ti.map_index if mapped else None,
        }
        try:
            library = self.hook.library
            # Refuse a hostile key with its own message, before it shapes the output key.
            library.key(self.notebook_key, PUBLISHED)
            version_id, published_event = self._version_to_run(context)
            if published_event:
                self._skip_if_already_run(library, version_id, task_instance)
            output_key = self.output_key or default_output_key(
                self.notebook_key, run_path, library.runs_prefix
            )
            result = run_published(
                library,
                self.notebook_key,
                version_id=version_id,
                parameters=parameters,
                output_key=output_key,
                kernel_name=self.kernel_name,
                log_output=True,
                airflow=task_instance,
                published_event=published_event,
            )
        except NotebookFailedError as e:
            if e.result is not None:
                self._record_output(context, e.result)
            raise
        except (InvalidPathError, NotFoundError, MisconfiguredError) as e:
            # Retrying cannot publish the notebook or fix the key or connection.
            raise AirflowFailException(str(e)) from e
        self._record_output(context, result)
        lineage = {"notebook_key": self.notebook_key, **result.as_dict()}
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra.update(lineage)
        return result.as_dict()

    def _version_to_run(self, context: Context) -> tuple[str | None, bool]:
        """The version to run, and whether a publish event of the notebook chose it.

        ``version_id`` when given; otherwise the version whose publication started this DAG
        run (the newest, when Airflow gathered several publications into one run); otherwise
        None: the latest.
        """
        if self.version_id:
            return self.version_id, False
        published = []
        for events in (context.get("triggering_asset_events") or {}).values():
            for event in events:
                payload = (event.extra or {}).get("payload")
                if (
                    isinstance(payload, Mapping)
                    and payload.get("notebook_key") == self.notebook_key
                    and payload.get("bucket") == self.hook.store.bucket
                    and payload.get("version_id")
                ):
                    published.append((event.timestamp, str(payload["version_id"])))
        if not published:
            return None, False
        published.sort()
        if len({version for _, version in published}) > 1:
            self.log.warning(
                "This DAG run was started by %d publications of %s at once (Airflow gathers the "
                "asset events that arrive between two scheduler loops into one run): running the "
                "newest, %s; not run here: %s",
                len(published),
                self.notebook_key,
                published[-1][1],
                ", ".join(version for _, version in published[:-1]),
            )
        self.log.info(
            "Running version %s of %s: its publication started this run", published[-1][1], self.notebook_key
        )
        return published[-1][1], True

    def _skip_if_already_run(
        self, library: Library, version_id: str | None, task_instance: dict[str, Any]
    ) -> None:
        """Skip a version this task already ran from a publish event in another DAG run (a
        publication announced twice, by a triggerer stopped at the wrong moment)."""
        same_task = ("dag_id", "task_id", "map_index")
        for run in library.runs.page(library.notebook_key(self.notebook_key), limit=50).runs:
            airflow = run.airflow or {}
            if (
                run.published_event
                and run.source_version_id == version_id
                and run.status != FAILED
                and airflow.get("run_id") != task_instance["run_id"]
                and all(airflow.get(name) == task_instance.get(name) for name in same_task)
            ):
                raise AirflowSkipException(
                    f"version {version_id} of {self.notebook_key} already ran from its publication in "
                    f"DAG run {airflow.get('run_id')!r} (bookstore run {run.run_id}); not running it twice"
                )

    def _record_output(self, context: Context, result: RunResult) -> None:
        store = self.hook.store
        context["ti"].xcom_push(
            key=OUTPUT_XCOM_KEY,
            value={
                "bucket": store.bucket,
                "endpoint_url": store.endpoint_url,
                "region_name": self.hook.extra_value("region_name"),
                "key": result.output_key,
                "version_id": result.output_version_id,
            },
        )


def _parameters(rendered: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The rendered ``parameters`` as a dict (a template renders to a string)."""
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered) if rendered.strip() else {}
        except ValueError as e:
            raise AirflowFailException(f"parameters rendered to {rendered!r}, which is not JSON: {e}") from e
    if not isinstance(rendered, Mapping | None):
        raise AirflowFailException(
            f"parameters rendered to a {type(rendered).__name__}; give a mapping or a JSON object"
        )
    return dict(rendered or {})
