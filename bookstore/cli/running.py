"""The subcommands that run published notebooks: parameters, run, runs and rerun.

``run`` and ``rerun`` call :mod:`bookstore.runner` as the Airflow operator does, with cell
output on stderr (``run --on-airflow`` asks Airflow instead, through
:mod:`bookstore.scheduling`); ``runs`` lists the run records. Answers go to :mod:`bookstore.cli.output`.
"""

from __future__ import annotations

import logging

import click

from ..errors import NotFoundError, VersionNotFoundError
from ..keys import validate_path
from ..library import PUBLISHED, STAGES, Library, describe, parse_limit
from ..notebooks import read as read_notebook
from ..parameters import inspect as inspect_parameters
from ..runner import rerun, run_published
from ..runs import DEFAULT_PAGE_SIZE as RUNS_PAGE_SIZE
from ..runs import MAX_PAGE_SIZE as MAX_RUNS_PAGE_SIZE
from ..scheduling import request_run, runs_page
from ..store import BATCH
from . import output
from .options import command, cursor_option, parameter_option, parameter_values, runs_prefix_option
from .session import Session, logger_level, pass_session
from .suggestions import with_suggestion


@command(
    "parameters",
    "show what a notebook declares as parameters: its cell tagged 'parameters'",
    "A run may set only these (see 'bookstore run -p'). PATH is the notebook, as in Jupyter and "
    "the other commands.",
)
@click.argument("path")
@click.option(
    "--stage", type=click.Choice(STAGES), default=PUBLISHED, show_default=True, help="which history"
)
@click.option("--version-id", metavar="ID", help="which version (default: the latest)")
@pass_session
def parameters_command(session: Session, path: str, stage: str, version_id: str | None) -> None:
    try:
        stored = session.library.read(validate_path(path), stage, version_id)
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError):
            raise
        raise with_suggestion(e, session, "parameters", path, stage) from e
    declared = inspect_parameters(read_notebook(stored.body, describe(stored)))
    session.emit(
        {"path": path, **declared.as_json()}, lambda: output.parameters_listing(describe(stored), declared)
    )


@command(
    "run",
    "run a published notebook with papermill, as the Airflow operator does",
    "PATH is the published notebook, as in Jupyter and the other commands, e.g. "
    "analysis/mine.ipynb. Cell output goes to stderr as the notebook runs. With --on-airflow, "
    "Airflow runs it instead: the request is checked as a schedule is, queued in the bucket, "
    "and followed with 'bookstore runs PATH'.",
)
@click.argument("path")
@click.option("--version-id", metavar="ID", help="the published version to run (default: the latest)")
# The name this option had before every command said --version-id.
@click.option("--version", "old_version_id", hidden=True)
@parameter_option()
@click.option(
    "--output",
    "output_key",
    metavar="KEY",
    help="full S3 key for the executed notebook (default: <runs prefix>/manual/<time>-<id>/<name>)",
)
@click.option(
    "--force-parameters",
    is_flag=True,
    help="run even when the notebook does not declare the parameters in a cell tagged 'parameters' "
    "(papermill then injects them at the top, where the notebook's own code may set them back); "
    "the run's record says it was forced",
)
@click.option("--kernel", metavar="NAME", help="Jupyter kernel (default: the notebook's own)")
@click.option(
    "--published-prefix",
    metavar="PREFIX",
    help="run PATH under this key prefix instead of c.Bookstore.published_prefix; with "
    "'published', PATH is an Airflow notebook_key such as kylek/notebooks/analysis/mine.ipynb",
)
@runs_prefix_option("the default --output")
@click.option(
    "--on-airflow",
    is_flag=True,
    help="ask Airflow to run it now (through the bucket, as Jupyter's Run now does) instead of "
    "running it here; prints the request's id",
)
@pass_session
def run(
    session: Session,
    path: str,
    version_id: str | None,
    old_version_id: str | None,
    parameters: tuple[tuple[str, str], ...],
    output_key: str | None,
    force_parameters: bool,
    kernel: str | None,
    published_prefix: str | None,
    runs_prefix: str | None,
    on_airflow: bool,
) -> None:
    if on_airflow:
        local_only = {
            "--output": output_key,
            "--kernel": kernel,
            "--published-prefix": published_prefix,
            "--runs-prefix": runs_prefix,
        }
        refused = [name for name, value in local_only.items() if value]
        if refused:
            raise click.UsageError(
                f"--on-airflow takes no {', '.join(refused)}: Airflow's bookstore connection decides "
                "where the run's output goes"
            )
        request_on_airflow(session, path, version_id or old_version_id, parameters, force_parameters)
        return
    bookstore = session.bookstore
    store = bookstore.create_store(BATCH)
    if published_prefix:
        # PATH is a notebook key under this prefix, which is also what run records name.
        library = Library.of_published_root(
            store, published_prefix, runs_prefix=runs_prefix or bookstore.runs_prefix
        )
    else:
        extra = {"runs_prefix": runs_prefix} if runs_prefix else {}
        library = Library.from_settings(bookstore, store, **extra)
    try:
        # Cell output is what a person running a notebook watches for; it goes to stderr.
        with logger_level("papermill", logging.INFO):
            result = run_published(
                library,
                path,
                version_id=version_id or old_version_id,
                parameters=parameter_values(parameters),
                output_key=output_key,
                kernel_name=kernel,
                force_parameters=force_parameters,
            )
    except NotFoundError as e:
        if isinstance(e, VersionNotFoundError) or published_prefix:
            raise
        raise with_suggestion(e, session, "run", path, PUBLISHED) from e
    session.emit(result.as_dict(), lambda: output.run_summary(result))


def request_on_airflow(
    session: Session,
    path: str,
    version_id: str | None,
    parameters: tuple[tuple[str, str], ...],
    force_parameters: bool,
) -> None:
    """``bookstore run --on-airflow``: queue a run request as ``POST /api/bookstore/runs/<path>``
    does, and print it (``--json``: the queued run's record, as that answers)."""
    library = session.library
    body = {
        "version_id": version_id,
        "parameters": parameter_values(parameters),
        "force_parameters": force_parameters,
    }
    record = request_run(library, library.schedules, validate_path(path), body, by=session.bookstore.owner())
    session.emit(record.as_json(), lambda: output.run_request_summary(record, path))


@command(
    "runs",
    "list the runs of a notebook's published versions, newest first",
    "PATH is the notebook, as in Jupyter and the other commands. Runs are read from their "
    "records in the bucket, written by the Airflow operator and by 'bookstore run'; runs asked "
    "for with 'bookstore run --on-airflow' and not started yet come first, queued.",
)
@click.argument("path")
@click.option("--limit", type=int, default=RUNS_PAGE_SIZE, show_default=True, help="runs per page")
@cursor_option
@pass_session
def runs(session: Session, path: str, limit: int, cursor: str | None) -> None:
    limit = parse_limit(limit, RUNS_PAGE_SIZE, MAX_RUNS_PAGE_SIZE)
    library = session.library
    page = runs_page(library, library.notebook_key(path), limit=limit, cursor=cursor)
    answer = {"path": path, "runs": [run.as_json() for run in page.runs], "next_cursor": page.next_cursor}
    session.emit(answer, lambda: output.run_listing(path, page.runs, page.next_cursor))


@command(
    "rerun",
    "run again what an executed notebook ran: the same published version, the same parameters",
    "OUTPUT_KEY is the S3 key of an executed notebook (an Airflow run's output_key, or what "
    "'bookstore run' printed); what it ran is read from its metadata. The new output key is "
    "printed. Cell output goes to stderr as the notebook runs.",
)
@click.argument("output_key")
@click.option("--version-id", metavar="ID", help="the version of OUTPUT_KEY to repeat (default: its latest)")
@click.option("--output", "new_output_key", metavar="KEY", help="full S3 key for the new executed notebook")
@click.option("--kernel", metavar="NAME", help="Jupyter kernel (default: the notebook's own)")
@pass_session
def rerun_command(
    session: Session, output_key: str, version_id: str | None, new_output_key: str | None, kernel: str | None
) -> None:
    bookstore = session.bookstore
    root, _ = bookstore.published_layout()
    library = Library.of_published_root(
        bookstore.create_store(BATCH), root, runs_prefix=bookstore.runs_prefix
    )
    with logger_level("papermill", logging.INFO):
        result = rerun(
            library,
            validate_path(output_key),
            output_version_id=version_id,
            new_output_key=new_output_key,
            kernel_name=kernel,
        )
    session.emit(result.as_dict(), lambda: output.run_summary(result))
