"""Run a published notebook: resolve its key and version, execute it, upload the output.

The Airflow operator and the ``bookstore run`` command both call :func:`run_published`,
so a notebook runs the same way from a schedule and from a terminal:

1. :func:`resolve` reads the exact version to run from ``<published prefix>/<key>``, the
   latest one or a pinned version id, and records which version it got;
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

import nbformat

from .errors import BookstoreError, InvalidPathError, NotFoundError
from .keys import normalize_prefix, path_to_key, validate_path

if TYPE_CHECKING:
    from .store import S3Store, StoredObject

log = logging.getLogger(__name__)

DEFAULT_PUBLISHED_PREFIX = "published"
DEFAULT_RUNS_PREFIX = "runs"

#: S3 metadata names of an executed notebook (S3 lower-cases them anyway).
SOURCE_KEY = "bookstore-source-key"
SOURCE_VERSION_ID = "bookstore-source-version-id"
PARAMETERS = "bookstore-parameters"
STATUS = "bookstore-status"

# S3 allows 2 KB of user metadata per object in all; parameters longer than this are left
# out of it (the executed notebook itself still records them under metadata.papermill).
_MAX_PARAMETERS_METADATA = 1024


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
    """

    source_key: str
    source_version_id: str | None
    output_key: str
    output_version_id: str | None
    parameters: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-compatible data (an Airflow XCom, ``--json`` output)."""
        return {
            "source_key": self.source_key,
            "source_version_id": self.source_version_id,
            "output_key": self.output_key,
            "output_version_id": self.output_version_id,
            "parameters": json.loads(_parameters_json(self.parameters)),
        }


class NotebookFailedError(BookstoreError):
    """The notebook did not run to the end.

    Attributes
    ----------
    result
        Where the executed notebook, with the error, was uploaded; None when execution
        stopped before papermill wrote any output (for example, an unknown kernel).
    """

    def __init__(self, message: str, result: RunResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def published_key(notebook_key: str, published_prefix: str = DEFAULT_PUBLISHED_PREFIX) -> str:
    """The S3 key of ``notebook_key`` under the published prefix.

    Raises
    ------
    InvalidPathError
        When ``notebook_key`` would leave the prefix (``..``, absolute, encoded tricks).
    """
    try:
        return path_to_key(published_prefix, notebook_key)
    except InvalidPathError as e:
        raise InvalidPathError(
            f"notebook key {notebook_key!r} is refused, it must stay under the published prefix "
            f"{normalize_prefix(published_prefix)!r}: {e}"
        ) from e


def resolve(
    store: S3Store,
    notebook_key: str,
    version_id: str | None = None,
    *,
    published_prefix: str = DEFAULT_PUBLISHED_PREFIX,
) -> StoredObject:
    """Read the published notebook to run: the pinned ``version_id``, or the latest.

    The latest version is read with one GET, whose answer names the version it returned,
    so a publish racing with the run cannot make the record disagree with what ran.

    Raises
    ------
    InvalidPathError
        The key leaves the published prefix.
    NotFoundError, VersionNotFoundError
        Nothing is published at the key, or not at that version.
    """
    key = published_key(notebook_key, published_prefix)
    stored = store.get(key, version_id or None)
    log.info(
        "Resolved %s %s to version %s",
        key,
        f"pinned at {version_id}" if version_id else "(latest)",
        stored.info.version_id,
    )
    return stored


def latest_version_id(
    store: S3Store, notebook_key: str, *, published_prefix: str = DEFAULT_PUBLISHED_PREFIX
) -> str:
    """The version id of the latest published version of ``notebook_key``.

    Raises
    ------
    NotFoundError
        Nothing is published at the key, or the bucket is not versioned.
    """
    key = published_key(notebook_key, published_prefix)
    version_id = store.head(key).version_id
    if not version_id:
        raise NotFoundError(f"{key!r} has no version id: is versioning enabled on {store.bucket!r}?")
    return version_id


def default_output_key(notebook_key: str, run_path: list[str], runs_prefix: str = DEFAULT_RUNS_PREFIX) -> str:
    """``<runs prefix>/<run path...>/<notebook file name>``, one folder per segment.

    Each segment of ``run_path`` is percent-encoded except for characters common in run
    ids (``:+``), so a run id with ``/`` in it stays one folder.
    """
    segments = [quote(str(part), safe=":+=@,") for part in run_path]
    name = notebook_key.rstrip("/").rsplit("/", 1)[-1]
    return path_to_key(runs_prefix, "/".join([*segments, name]))


def run_published(
    store: S3Store,
    notebook_key: str,
    *,
    version_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    output_key: str | None = None,
    published_prefix: str = DEFAULT_PUBLISHED_PREFIX,
    runs_prefix: str = DEFAULT_RUNS_PREFIX,
    kernel_name: str | None = None,
    log_output: bool = True,
    run_metadata: Mapping[str, str] | None = None,
    start_timeout: int = 60,
) -> RunResult:
    """Run a published notebook with papermill and upload the executed notebook.

    Parameters
    ----------
    store
        The bucket to read from and write to.
    notebook_key
        Path of the notebook under the published prefix, e.g. ``kylek/notebooks/a.ipynb``.
    version_id
        The S3 version id to run; None runs the latest published version.
    parameters
        Values papermill injects after the cell tagged ``parameters``.
    output_key
        Full S3 key for the executed notebook; default
        ``<runs prefix>/manual/<UTC time>-<random>/<file name>``. It may not be under the
        published prefix, where it would replace the notebook it ran.
    published_prefix, runs_prefix
        Key prefixes of published notebooks and of executed ones.
    kernel_name
        Jupyter kernel to run with; default: the one the notebook names.
    log_output
        Log each cell's output (the Airflow task log, or the terminal).
    run_metadata
        Extra S3 metadata for the output, e.g. the Airflow DAG, run, task and try.
    start_timeout
        Seconds to wait for the kernel to start.

    Returns
    -------
    RunResult
        Which version ran with which parameters, and the output's key and version id.

    Raises
    ------
    InvalidPathError
        ``notebook_key`` leaves the published prefix, or ``output_key`` is malformed or
        under the published prefix.
    NotFoundError, VersionNotFoundError
        Nothing is published at the key, or not at ``version_id``.
    NotebookFailedError
        The notebook raised (or its kernel died); the executed notebook, error included,
        was uploaded first and is named by the error's ``result``.
    StoreUnavailableError, MisconfiguredError
        S3 could not be used.
    """
    params = dict(parameters or {})
    source = resolve(store, notebook_key, version_id, published_prefix=published_prefix)
    source_key, source_version = source.info.key, source.info.version_id
    target = _checked_output_key(
        output_key
        or default_output_key(
            notebook_key,
            ["manual", f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"],
            runs_prefix,
        ),
        published_prefix,
    )
    notebook = _read_notebook(source)
    provenance = {
        "source_key": source_key,
        "source_version_id": source_version,
        "parameters": json.loads(_parameters_json(params)),
        **dict(run_metadata or {}),
    }
    notebook.metadata["bookstore"] = provenance
    metadata = {
        SOURCE_KEY: source_key,
        SOURCE_VERSION_ID: source_version or "",
        **_parameters_metadata(params),
        **dict(run_metadata or {}),
    }
    source_url = f"s3://{store.bucket}/{source_key}" + (
        f"?versionId={source_version}" if source_version else ""
    )
    output_url = f"s3://{store.bucket}/{target}"

    with tempfile.TemporaryDirectory(prefix="bookstore-run-") as workdir:
        output_path = Path(workdir) / "output.ipynb"
        try:
            _execute(notebook, output_path, params, Path(workdir), kernel_name, log_output, start_timeout)
        except Exception as e:
            # Keep what ran, error included: that is what a person opens to see why it failed.
            if not output_path.exists():
                raise NotebookFailedError(
                    f"{source_key} (version {source_version}) did not start: {_describe(e)}"
                ) from e
            body = _finish_output(output_path, source_url, output_url)
            uploaded = store.put(target, body, {**metadata, STATUS: "failed"})
            result = RunResult(source_key, source_version, target, uploaded, params)
            log.info("Uploaded the failed run of %s to %s (version %s)", source_key, target, uploaded)
            raise NotebookFailedError(
                f"{source_key} (version {source_version}) failed: {_describe(e)}; the executed "
                f"notebook is at {target} (version {uploaded})",
                result,
            ) from e
        body = _finish_output(output_path, source_url, output_url)
    uploaded = store.put(target, body, {**metadata, STATUS: "succeeded"})
    log.info("Ran %s (version %s); output at %s (version %s)", source_key, source_version, target, uploaded)
    return RunResult(source_key, source_version, target, uploaded, params)


def _checked_output_key(key: str, published_prefix: str) -> str:
    key = validate_path(key)
    prefix = normalize_prefix(published_prefix)
    if prefix and (key == prefix or key.startswith(prefix + "/")):
        raise InvalidPathError(
            f"output key {key!r} is under the published prefix {prefix!r}, where it would replace "
            "a published notebook; choose a key under the runs prefix"
        )
    return key


def _read_notebook(source: StoredObject) -> nbformat.NotebookNode:
    try:
        return nbformat.reads(source.body.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, ValueError) as e:  # nbformat's NotJSONError is a ValueError
        raise BookstoreError(
            f"{source.info.key} (version {source.info.version_id}) is not a Jupyter notebook: {e}"
        ) from e


def _execute(
    notebook: nbformat.NotebookNode,
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
        executed = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, ValueError):
        log.warning("The executed notebook at %s is not valid JSON; uploading it as written", output_url)
        return raw
    papermill_metadata = executed.metadata.setdefault("papermill", {})
    papermill_metadata["input_path"] = source_url
    papermill_metadata["output_path"] = output_url
    return nbformat.writes(executed).encode("utf-8")


def _describe(error: Exception) -> str:
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    if ename:
        # Numbered as papermill's log numbers them ("Executing Cell 4"), the injected
        # parameters cell included; the execution count would differ.
        index = getattr(error, "cell_index", None)
        return f"{ename}: {evalue}" + (f" (cell {index + 1})" if isinstance(index, int) else "")
    return f"{type(error).__name__}: {error}"


def _parameters_json(parameters: Mapping[str, Any]) -> str:
    # default=str: templated values (dates, ...) are recorded as papermill renders them.
    return json.dumps(dict(parameters), sort_keys=True, default=str)


def _parameters_metadata(parameters: Mapping[str, Any]) -> dict[str, str]:
    text = _parameters_json(parameters)
    if len(text.encode("utf-8")) <= _MAX_PARAMETERS_METADATA:
        return {PARAMETERS: text}
    log.info("Parameters are too long for S3 metadata; the executed notebook records them")
    return {PARAMETERS: "(too long for S3 metadata: see metadata.papermill.parameters in the notebook)"}
