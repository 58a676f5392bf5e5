"""Run a published notebook: resolve its key and version, execute it, upload the output.

The Airflow operator and the ``bookstore run`` command both call :func:`run_published`,
so a notebook runs the same way from a schedule and from a terminal:

1. the library reads the exact version to run from ``<published prefix>/<path>``, the
   latest one or a pinned version id, and the run records which version it got;
2. papermill executes it with the parameters injected, writing the executed notebook to a
   local temporary file as it goes;
3. the executed notebook, with its error if a cell raised, becomes a new object under the
   runs prefix, whose metadata says which key, version and parameters ran.

papermill is imported only when a notebook runs, so importing this module is cheap.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import metadata, notebooks
from . import parameters as notebook_parameters
from .answers import json_fields
from .errors import BookstoreError, InvalidPathError, InvalidRequestError
from .keys import is_under, path_to_key, validate_path
from .library import PUBLISHED, describe

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .library import Library
    from .runs import RunRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Which notebook version ran with which parameters, and where its output is.

    Attributes
    ----------
    source_key
        S3 key of the published notebook that ran.
    source_version_id
        Its S3 version id: the exact version that ran, also when the latest was asked for.
    output_key, output_version_id
        Where the executed notebook was written.
    parameters
        The parameters papermill injected.
    run_id
        The run's record (see :mod:`bookstore.runs`).
    parameters_forced
        The run was forced past the parameters check: the notebook does not declare some of
        ``parameters`` in a cell tagged ``parameters`` (see :mod:`bookstore.parameters`).
    """

    source_key: str
    source_version_id: str | None
    output_key: str
    output_version_id: str | None
    parameters: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    parameters_forced: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-compatible data (an Airflow XCom, ``--json`` output), its
        parameters as they were recorded."""
        return {**json_fields(self), "parameters": json.loads(metadata.parameters_json(self.parameters))}


class NotebookFailedError(BookstoreError):
    """The notebook did not run to the end.

    Attributes
    ----------
    result
        Where the executed notebook, with the error, was uploaded; None when execution
        stopped before papermill wrote any output (for example, an unknown kernel).
    reason
        Why it stopped, as the run's record says it: the notebook's own error (e.g.
        ``"ValueError: no rows (cell 3)"``), without the key and version the message names.
    """

    def __init__(self, message: str, result: RunResult | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.result = result
        self.reason = reason or message


def default_output_key(notebook_key: str, run_path: list[str], runs_prefix: str) -> str:
    """``<runs prefix>/<run path...>/<notebook file name>``, one folder per segment.

    Each segment of ``run_path`` is percent-encoded except for characters common in run
    ids (``:+``), so a run id with ``/`` in it stays one folder.
    """
    segments = [quote(str(part), safe=":+=@,") for part in run_path]
    name = notebook_key.rstrip("/").rsplit("/", 1)[-1]
    return path_to_key(runs_prefix, "/".join([*segments, name]))


def run_published(
    library: Library,
    path: str,
    *,
    version_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    output_key: str | None = None,
    kernel_name: str | None = None,
    log_output: bool = True,
    airflow: Mapping[str, Any] | None = None,
    published_event: bool = False,
    start_timeout: int = 60,
    force_parameters: bool = False,
    request: RunRecord | None = None,
) -> RunResult:
    """Run a published notebook with papermill and upload the executed notebook.

    Parameters
    ----------
    library
        The bucket and prefixes to read from and write to.
    path
        Path of the notebook under the published prefix, e.g. ``kylek/notebooks/a.ipynb``
        (an Airflow ``notebook_key``).
    version_id
        The version id to run; None or empty runs the latest published version, read with
        one GET whose answer names it, so the record cannot disagree with what ran.
    parameters
        Values papermill injects after the cell tagged ``parameters``.
    output_key
        Full S3 key for the executed notebook; default
        ``<runs prefix>/manual/<UTC time>-<random>/<file name>``. It may not be under the
        published prefix, where it would replace the notebook it ran.
    kernel_name
        Jupyter kernel to run with; default: the one the notebook names.
    log_output
        Log each cell's output (the Airflow task log, or the terminal).
    airflow
        The Airflow task instance (``dag_id``, ``run_id``, ``task_id``, ``try_number``,
        ``map_index``), recorded with the output.
    published_event
        The version runs because its publication started the run (recorded with it).
    start_timeout
        Seconds to wait for the kernel to start.
    force_parameters
        Run even when the notebook does not declare ``parameters`` in a cell tagged
        ``parameters`` (papermill then injects them at the top); the record says so.
    request
        The ``queued`` record of a run requested from Jupyter (see
        :mod:`bookstore.scheduling`) that this run carries out: its record becomes this run's.

    The run is recorded in the bucket when it starts and when it ends (see
    :mod:`bookstore.runs`); an Airflow retry also closes the records of earlier tries that
    never finished.

    Returns
    -------
    RunResult
        Which version ran with which parameters, and the output's key and version id.

    Raises
    ------
    InvalidPathError
        ``path`` leaves the published prefix, or ``output_key`` is malformed or under the
        published prefix.
    UndeclaredParametersError
        ``parameters`` names what the notebook does not declare in its ``parameters`` cell,
        or it has none (unless ``force_parameters``); nothing ran, and the refusal is
        recorded as a failed run.
    NotFoundError, VersionNotFoundError
        Nothing is published at the key, or not at ``version_id``.
    NotebookFailedError
        The notebook raised (or its kernel died); the executed notebook, error included,
        was uploaded first and is named by the error's ``result``.
    StoreUnavailableError, MisconfiguredError
        S3 could not be used.
    """
    params = dict(parameters or {})
    source = library.read(path, PUBLISHED, version_id)
    source_key, source_version = source.info.key, source.info.version_id
    log.info(
        "Resolved %s %s to version %s",
        source_key,
        f"pinned at {version_id}" if version_id else "(latest)",
        source_version,
    )
    target = _checked_output_key(
        output_key
        or default_output_key(
            path,
            ["manual", f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"],
            library.runs_prefix,
        ),
        library.prefix(PUBLISHED),
    )
    notebook = notebooks.read(source.body, describe(source))
    refused = _check_parameters(notebook, params, f"{path} (version {source_version})", force_parameters)
    forced = force_parameters and refused is not None
    record = metadata.run_metadata(
        source_key=source_key, source_version_id=source_version, parameters=params, airflow=airflow
    )
    notebook.metadata["bookstore"] = {
        "source_key": source_key,
        "source_version_id": source_version,
        "parameters": json.loads(metadata.parameters_json(params)),
        **({"parameters_forced": True} if forced else {}),
        **{
            metadata.AIRFLOW[name]: str(value) for name, value in (airflow or {}).items() if value is not None
        },
    }
    store = library.store
    source_url = store.uri(source_key, source_version)
    output_url = store.uri(target)
    run = library.runs.start(
        notebook_key=library.notebook_key(path),
        source_key=source_key,
        source_version_id=source_version,
        output_key=target,
        parameters=params,
        airflow=airflow,
        published_event=published_event,
        parameters_forced=forced,
        request=request,
    )
    if refused is not None and not forced:
        # Nothing ran; the refusal is a failed run, so Jupyter shows why a scheduled run did not happen.
        _record_end(library, run.finished(succeeded=False, output_version_id=None, error=str(refused)))
        raise refused
    notebook.metadata["bookstore"]["run_id"] = run.run_id
    log.info("Recorded the start of run %s", run.run_id)
    _close_abandoned_tries(library, run)

    with tempfile.TemporaryDirectory(prefix="bookstore-run-") as workdir:
        output_path = Path(workdir) / "output.ipynb"
        try:
            _execute(notebook, output_path, params, Path(workdir), kernel_name, log_output, start_timeout)
        except BaseException as e:
            # Keep what ran, error included: that is what a person opens to see why it failed.
            # BaseException: a task Airflow stops (SIGTERM) uploads and records what it got too.
            if not output_path.exists():
                _record_end(
                    library, run.finished(succeeded=False, output_version_id=None, error=_describe(e))
                )
                if not isinstance(e, Exception):
                    raise
                raise NotebookFailedError(
                    f"{source_key} (version {source_version}) did not start: {_describe(e)}",
                    reason=_describe(e),
                ) from e
            body = _finish_output(output_path, source_url, output_url)
            uploaded = _upload(library, run, target, body, {**record, **metadata.run_status(False)})
            _record_end(
                library, run.finished(succeeded=False, output_version_id=uploaded, error=_describe(e))
            )
            result = RunResult(source_key, source_version, target, uploaded, params, run.run_id, forced)
            log.info("Uploaded the failed run of %s to %s (version %s)", source_key, target, uploaded)
            if not isinstance(e, Exception):
                raise
            raise NotebookFailedError(
                f"{source_key} (version {source_version}) failed: {_describe(e)}; the executed "
                f"notebook is at {target} (version {uploaded})",
                result,
                reason=_describe(e),
            ) from e
        body = _finish_output(output_path, source_url, output_url)
    uploaded = _upload(library, run, target, body, {**record, **metadata.run_status(True)})
    _record_end(library, run.finished(succeeded=True, output_version_id=uploaded))
    log.info("Ran %s (version %s); output at %s (version %s)", source_key, source_version, target, uploaded)
    return RunResult(source_key, source_version, target, uploaded, params, run.run_id, forced)


def _check_parameters(
    notebook: NotebookNode, params: dict[str, Any], what: str, force: bool
) -> notebook_parameters.UndeclaredParametersError | None:
    """Why the notebook does not take ``params`` (see :func:`bookstore.parameters.check`), or
    None when it does."""
    if not params:
        return None
    try:
        notebook_parameters.check(notebook_parameters.inspect(notebook), params, what)
    except notebook_parameters.UndeclaredParametersError as e:
        if force:
            log.warning("Running with parameters the notebook does not declare, as forced: %s", e)
        return e
    return None


def _upload(library: Library, run: RunRecord, key: str, body: bytes, record: dict[str, str]) -> str | None:
    """Store the executed notebook; when that fails, the run's record says so before the
    error goes on."""
    try:
        return library.store.put(key, body, record)
    except BookstoreError as e:
        error = f"could not store the executed notebook at {key}: {e}"
        _record_end(library, run.finished(succeeded=False, output_version_id=None, error=error))
        raise


def _record_end(library: Library, run: RunRecord) -> None:
    """Record how ``run`` ended; a record that cannot be written does not fail the run, whose
    executed notebook is already stored."""
    try:
        library.runs.write(run)
    except BookstoreError as e:
        log.error("Could not record the end of run %s (%s): %s", run.run_id, run.status, e)


def _close_abandoned_tries(library: Library, run: RunRecord) -> None:
    try:
        for abandoned in library.runs.abandon_earlier_tries(run):
            log.warning("Marked run %s failed: %s", abandoned.run_id, abandoned.error)
    except BookstoreError as e:
        log.warning("Could not check for earlier tries of run %s: %s", run.run_id, e)


def rerun(
    library: Library,
    output_key: str,
    *,
    output_version_id: str | None = None,
    new_output_key: str | None = None,
    kernel_name: str | None = None,
    log_output: bool = True,
) -> RunResult:
    """Run again what an executed notebook ran: the same published version, with the same
    parameters, as its metadata records them.

    ``library`` must have the published root as its published prefix, so that any
    publication the run read can be read again. The new output goes to ``new_output_key``
    (default: a new key under ``<runs prefix>/manual/``).

    Raises
    ------
    NotFoundError
        Nothing at ``output_key`` (or not at ``output_version_id``), or its source version
        is gone.
    InvalidRequestError
        ``output_key`` holds no executed notebook of bookstore's.
    """
    stored = library.store.get(output_key, output_version_id or None)
    where = f"version {stored.info.version_id!r} of {output_key!r}"
    recorded = notebooks.read(stored.body, where).metadata.get("bookstore")
    if not isinstance(recorded, Mapping) or not recorded.get("source_key"):
        raise InvalidRequestError(
            f"{where} is no executed notebook of bookstore's: its metadata does not say what ran"
        )
    source_key = str(recorded["source_key"])
    prefix = library.prefix(PUBLISHED)
    if not is_under(source_key, prefix) or source_key == prefix:
        raise InvalidRequestError(
            f"{where} ran {source_key!r}, which is not under the published root {prefix!r}"
        )
    parameters = recorded.get("parameters")
    log.info("Running again what %s ran: %s version %s", where, source_key, recorded.get("source_version_id"))
    return run_published(
        library,
        source_key[len(prefix) + 1 :] if prefix else source_key,
        version_id=str(recorded.get("source_version_id") or "") or None,
        parameters=parameters if isinstance(parameters, Mapping) else {},
        output_key=new_output_key,
        kernel_name=kernel_name,
        log_output=log_output,
        # What was forced once runs as it ran.
        force_parameters=bool(recorded.get("parameters_forced")),
    )


def _checked_output_key(key: str, published_prefix: str) -> str:
    key = validate_path(key)
    prefix = published_prefix
    if prefix and (key == prefix or key.startswith(prefix + "/")):
        raise InvalidPathError(
            f"output key {key!r} is under the published prefix {prefix!r}, where it would replace "
            "a published notebook; choose a key under the runs prefix"
        )
    return key


def _execute(
    notebook: NotebookNode,
    output_path: Path,
    parameters: dict[str, Any],
    cwd: Path,
    kernel_name: str | None,
    log_output: bool,
    start_timeout: int,
) -> None:
    import papermill
    from traitlets.config import Config

    # The kernel talks to papermill over Unix sockets in the run's own folder: nothing else
    # on a shared worker can connect to it, and ipykernel has no reason to warn (on stderr,
    # which Airflow logs as an error) that its TCP traffic is unencrypted.
    sockets = Config({"KernelManager": {"transport": "ipc", "ip": str(cwd / "kernel")}})
    papermill.execute_notebook(
        notebook,
        str(output_path),
        parameters=parameters,
        kernel_name=kernel_name or None,
        log_output=log_output,
        progress_bar=False,
        start_timeout=start_timeout,
        cwd=str(cwd),
        config=sockets,
    )


def _finish_output(output_path: Path, source_url: str, output_url: str) -> bytes:
    """The executed notebook's bytes, pointing at S3 rather than at local temporary files.

    papermill records its input and output paths; given a notebook object it stores the
    whole input notebook as the "path", which would double every output's size.
    """
    raw = output_path.read_bytes()
    try:
        executed = notebooks.read(raw, f"the executed notebook of {output_url}")
    except BookstoreError:
        log.warning("The executed notebook at %s is not valid JSON; uploading it as written", output_url)
        return raw
    papermill_metadata = executed.metadata.setdefault("papermill", {})
    papermill_metadata["input_path"] = source_url
    papermill_metadata["output_path"] = output_url
    return notebooks.write(executed).encode("utf-8")


def _describe(error: BaseException) -> str:
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    if ename:
        # Numbered as papermill's log numbers them ("Executing Cell 4"), the injected
        # parameters cell included; the execution count would differ.
        index = getattr(error, "cell_index", None)
        return f"{ename}: {evalue}" + (f" (cell {index + 1})" if isinstance(index, int) else "")
    return f"{type(error).__name__}: {error}"
