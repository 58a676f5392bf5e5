"""``PublishedNotebookOperator``: run a published notebook by key and version."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ..errors import InvalidPathError, MisconfiguredError, NotFoundError
from ..library import PUBLISHED
from ..parameters import UndeclaredParametersError
from ..runner import NotebookFailedError, RunResult, default_output_key, run_published
from ..runs import FAILED
from .hooks import BookstoreHook
from .links import OUTPUT_XCOM_KEY, ExecutedNotebookLink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..library import Library
    from ..runs import RunRecord
    from ..schedules import ScheduleBook


class NotebookStoppedError(Exception):
    """Airflow stopped the task (SIGTERM) while it ran."""


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

    An unknown key or version, a key leaving the published prefix, an unusable connection,
    or parameters the notebook does not declare in its cell tagged ``parameters`` fail the
    task at once, without retries: trying again cannot help.

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
        Version id to run (an S3 version id, a GCS generation); None or "" runs the latest
        published version (templated).
    parameters
        papermill parameters (templated): a mapping, whose values render one by one, or a
        JSON object, e.g. ``"{{ params.parameters | tojson }}"`` to take them from a Param.
    output_key
        Full key in the bucket for the executed notebook (templated). Default:
        ``<runs prefix>/<dag_id>/<run_id>/<task_id>/[map-<index>/]try-<n>/<file name>``,
        unique per DAG, run, task and try.
    kernel_name
        Jupyter kernel to run with; default: the one the notebook names.
    force_parameters
        Run even when the notebook does not declare ``parameters`` in a cell tagged
        ``parameters``: papermill then injects them at the top of the notebook, where its
        own assignments may set them back. The run's record says it was forced. Default:
        such a run fails before anything executes.
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
        force_parameters: bool = False,
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
        self.force_parameters = force_parameters
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
        task_instance = _task_instance(ti, mapped)
        try:
            library = self.hook.library
            # Refuse a hostile key with its own message, before it shapes the output key.
            library.key(self.notebook_key, PUBLISHED)
            versions, published_event = self._versions_to_run(context, library)
            results = []
            for index, version_id in enumerate(versions):
                newest = index == len(versions) - 1
                if published_event and self._ran_already(library, version_id, task_instance):
                    continue
                # Versions of an earlier publication gathered into this run: a folder each.
                path = run_path if newest else [*run_path, f"version-{version_id}"]
                output_key = (self.output_key if newest else None) or default_output_key(
                    self.notebook_key, path, library.runs_prefix
                )
                results.append(
                    run_published(
                        library,
                        self.notebook_key,
                        version_id=version_id,
                        parameters=parameters,
                        output_key=output_key,
                        kernel_name=self.kernel_name,
                        log_output=True,
                        airflow=task_instance,
                        published_event=published_event,
                        force_parameters=self.force_parameters,
                    )
                )
        except NotebookFailedError as e:
            if e.result is not None:
                self._record_output(context, e.result)
            raise
        except (InvalidPathError, NotFoundError, MisconfiguredError, UndeclaredParametersError) as e:
            # Retrying cannot publish the notebook, fix the key or connection, or declare parameters.
            raise AirflowFailException(str(e)) from e
        if not results:
            raise AirflowSkipException(
                f"every version of {self.notebook_key} this run was started for already ran from its "
                f"publication in another DAG run of this task: {', '.join(map(str, versions))}"
            )
        result = results[-1]
        self._record_output(context, result)
        answer = result.as_dict()
        if len(results) > 1:
            answer["earlier_versions"] = [earlier.as_dict() for earlier in results[:-1]]
        lineage = {"notebook_key": self.notebook_key, **answer}
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra.update(lineage)
        return answer

    def _versions_to_run(self, context: Context, library: Library) -> tuple[list[str | None], bool]:
        """The versions to run, oldest first, and whether publications of the notebook chose them.

        ``version_id`` when given; otherwise the versions whose publications started this DAG
        run (Airflow gathers the publications that arrive while the scheduler is busy into
        one run: each is run, oldest first); otherwise None: the latest.
        """
        if self.version_id:
            return [self.version_id], False
        key = library.key(self.notebook_key, PUBLISHED)
        published = []
        for events in (context.get("triggering_asset_events") or {}).values():
            for event in events:
                payload = (event.extra or {}).get("payload")
                if (
                    isinstance(payload, Mapping)
                    and payload.get("key") == key
                    and payload.get("bucket") == library.store.bucket
                    and payload.get("version_id")
                ):
                    published.append((event.timestamp, str(payload["version_id"])))
        versions = list(dict.fromkeys(version for _, version in sorted(published)))
        if not versions:
            return [None], False
        self.log.info(
            "Running version%s %s of %s: %s started this run",
            "s" if len(versions) > 1 else "",
            ", ".join(versions),
            self.notebook_key,
            "their publications" if len(versions) > 1 else "its publication",
        )
        chosen: list[str | None] = [*versions]
        return chosen, True

    def _ran_already(self, library: Library, version_id: str | None, task_instance: dict[str, Any]) -> bool:
        """Whether this task already ran ``version_id`` from its publication in another DAG run
        (a publication announced twice, by a triggerer stopped at the wrong moment)."""
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
                self.log.warning(
                    "Version %s of %s already ran from its publication in DAG run %r (bookstore run %s); "
                    "not running it twice",
                    version_id,
                    self.notebook_key,
                    airflow.get("run_id"),
                    run.run_id,
                )
                return True
        return False

    def on_kill(self) -> None:
        """Stop the notebook where it is, because Airflow is stopping the task.

        Airflow calls this in the task's process on SIGTERM (the task marked failed or
        successful while it runs, its heartbeat refused, its pod stopping), then kills the
        process a few seconds later. Raising here interrupts papermill: papermill shuts the
        kernel down, the runner uploads the notebook as far as it ran, marked failed, under
        the try's own key, and its temporary folder is removed. Without it, the process
        would be killed mid-notebook, leaving the kernel and the folder on the worker.

        When an exception is already under way (``execution_timeout``'s, after which Airflow
        calls this too, or a failed notebook being uploaded), it is left to go on.
        """
        if sys.exc_info()[1] is not None:
            return
        raise NotebookStoppedError("Airflow stopped the task (SIGTERM)")

    def _record_output(self, context: Context, result: RunResult) -> None:
        store = self.hook.store
        context["ti"].xcom_push(
            key=OUTPUT_XCOM_KEY,
            value={
                "backend": self.hook.backend,
                "bucket": store.bucket,
                "endpoint_url": store.endpoint_url,
                "region_name": self.hook.extra_value("region_name"),
                "key": result.output_key,
                "version_id": result.output_version_id,
            },
        )


class ScheduledNotebookOperator(PublishedNotebookOperator):
    """:class:`PublishedNotebookOperator` for a schedule document (see
    :mod:`bookstore.airflow.schedules`): nothing is templated.

    A schedule's parameters and every other value are data someone wrote in Jupyter; a value
    such as ``"{{ conn.bookstore_default.password }}"`` reaches the notebook as that text,
    never rendered by Airflow's Jinja.
    """

    template_fields: Sequence[str] = ()


class RequestedRunsOperator(BaseOperator):
    """Carry out the run requests whose announcements started this DAG run ("run now" in
    Jupyter; see :class:`~bookstore.airflow.triggers.RunRequestTrigger`).

    Each request runs its notebook at the version and with the parameters asked for, as
    :func:`~bookstore.runner.run_published` does, its run record keeping the request's id (the
    ``queued`` record Jupyter wrote becomes the run's). Nothing of a request is templated.
    A request whose record is no longer ``queued`` ran already (announced twice) and is
    skipped. Returns (XCom) the result of each run; fails, without retries, naming the
    requests that failed.
    """

    template_fields: Sequence[str] = ()
    ui_color = "#f5e6c8"

    def __init__(
        self,
        *,
        bookstore_conn_id: str = BookstoreHook.default_conn_name,
        kernel_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bookstore_conn_id = bookstore_conn_id
        self.kernel_name = kernel_name

    @cached_property
    def hook(self) -> BookstoreHook:
        return BookstoreHook(self.bookstore_conn_id)

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from ..errors import BookstoreError
        from ..runs import QUEUED
        from ..scheduling import requested_run

        ti = context["ti"]
        requests = [
            payload
            for events in (context.get("triggering_asset_events") or {}).values()
            for event in events
            if isinstance(payload := (event.extra or {}).get("payload"), Mapping)
            and payload.get("request_id")
        ]
        if not requests:
            raise AirflowSkipException(
                "no run request started this DAG run: it runs when Jupyter asks for a run"
            )
        library = self.hook.library
        book = library.schedules
        results, failures = [], []
        for request in requests:
            notebook_key, request_id = str(request["notebook_key"]), str(request["request_id"])
            queued = requested_run(library, request)
            try:
                recorded = library.runs.get(notebook_key, request_id)
            except BookstoreError:
                recorded = None
            if recorded is not None and recorded.status != QUEUED:
                self.log.warning(
                    "Run request %s of %s ran already (%s); not again",
                    request_id,
                    notebook_key,
                    recorded.status,
                )
                self._remove(book, request)
                continue
            path = [ti.dag_id, ti.run_id, ti.task_id, f"request-{request_id}", f"try-{ti.try_number}"]
            self.log.info(
                "Running %s for request %s of %s", notebook_key, request_id, request.get("requested_by")
            )
            try:
                result = run_published(
                    library,
                    notebook_key,
                    version_id=request.get("version_id") or None,
                    parameters=dict(request.get("parameters") or {}),
                    force_parameters=bool(request.get("force_parameters")),
                    output_key=default_output_key(notebook_key, path, library.runs_prefix),
                    kernel_name=self.kernel_name,
                    airflow=_task_instance(ti, mapped=False),
                    request=queued,
                )
            except BookstoreError as e:
                failures.append(f"request {request_id} of {notebook_key}: {e}")
                if _not_recorded(library, queued):
                    # Refused before the run started (the notebook gone, say): say so where Jupyter looks.
                    library.runs.write(queued.finished(succeeded=False, output_version_id=None, error=str(e)))
                continue
            finally:
                self._remove(book, request)
            results.append({**result.as_dict(), "request_id": request_id})
        if failures:
            # A retry would find these requests' records no longer queued and skip them: fail for good.
            raise AirflowFailException("; ".join(failures))
        return results

    def _remove(self, book: ScheduleBook, request: Mapping[str, Any]) -> None:
        """Remove the request's document: its run is recorded (or could not be)."""
        from ..errors import BookstoreError

        key = book.request_key(str(request["notebook_key"]), str(request["request_id"]))
        try:
            book.store.delete(key)
        except BookstoreError as e:
            self.log.warning("Could not remove the run request %s: %s", key, e)


def _task_instance(ti: Any, mapped: bool) -> dict[str, Any]:
    """The Airflow task instance, as a run records it (``map_index`` only for a mapped task)."""
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "try_number": ti.try_number,
        "map_index": ti.map_index if mapped else None,
    }


def _not_recorded(library: Library, record: RunRecord) -> bool:
    from ..errors import BookstoreError

    try:
        library.runs.get(record.notebook_key, record.run_id)
    except BookstoreError:
        return True
    return False


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
