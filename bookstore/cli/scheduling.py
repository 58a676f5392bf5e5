"""The subcommands about schedules: schedule, schedules and unschedule.

A schedule is a document in the bucket that Airflow renders as a DAG (see
:mod:`bookstore.schedules`). These commands call what the REST API calls
(:mod:`bookstore.scheduling`): the same checks, the same answers with ``--json``, and who
asks recorded as the prefixes' owner (:meth:`bookstore.config.Bookstore.owner`), as a
Jupyter server records it for its own token. ``bookstore run --on-airflow``
(:mod:`bookstore.cli.running`) asks Airflow for a run now.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from ..keys import validate_path
from ..scheduling import history_answer, listing_answer, notebook_answer, save_schedule, schedule_answer
from . import output
from .options import command, parameter_option, parameter_values
from .session import Session, logger_level, pass_session


@command(
    "schedule",
    "create or change a schedule: when Airflow runs a published notebook",
    "PATH is the published notebook, as in Jupyter and the other commands; NAME names the "
    "schedule (1 to 64 letters, digits, '_', '.' or '-', e.g. daily). A new schedule needs "
    "--cron or --on-publish; for an existing one, only the options given change. Prints the "
    "schedule in words, the dag_id Airflow runs it as, and its next three run times.",
)
@click.argument("path")
@click.argument("name")
@click.option(
    "--cron",
    metavar="CRON",
    help="five fields: minute hour day month weekday, e.g. '0 6 * * *' for 06:00 every day "
    "('' for none: runs at publications only)",
)
@click.option("--timezone", metavar="TZ", help="IANA time zone of --cron, e.g. Europe/Paris (default UTC)")
@click.option(
    "--on-publish/--no-on-publish",
    default=None,
    help="also run at each publication of the notebook, exactly the version published",
)
@click.option("--version-id", metavar="ID", help="pin the published version to run")
@click.option(
    "--latest", is_flag=True, help="run the latest published version when each run starts (the default)"
)
@parameter_option("; the parameters given replace the schedule's")
@click.option("--retries", type=int, metavar="N", help="Airflow retries of a failed run (0-10, default 0)")
@click.option("--timeout", type=int, metavar="MIN", help="minutes a run may take (1-1440, default no limit)")
@click.option(
    "--notify",
    multiple=True,
    metavar="ADDR",
    help="e-mail address told when a run fails (repeat for several; replaces the schedule's; '' for nobody)",
)
@click.option(
    "--enable/--disable",
    "enabled",
    default=None,
    help="a disabled schedule stays in Airflow but does not run (new schedules are enabled)",
)
@click.option(
    "--force-parameters",
    is_flag=True,
    default=None,
    help="accept parameters the notebook does not declare in a cell tagged 'parameters'",
)
@pass_session
def schedule(
    session: Session,
    path: str,
    name: str,
    cron: str | None,
    timezone: str | None,
    on_publish: bool | None,
    version_id: str | None,
    latest: bool,
    parameters: tuple[tuple[str, str], ...],
    retries: int | None,
    timeout: int | None,
    notify: tuple[str, ...],
    enabled: bool | None,
    force_parameters: bool | None,
) -> None:
    if version_id is not None and latest:
        raise click.UsageError("give --version-id (pin a version) or --latest, not both")
    given: dict[str, Any] = {
        "cron": cron,
        "timezone": timezone,
        "on_publish": on_publish,
        "version_id": version_id,
        "parameters": parameter_values(parameters) if parameters else None,
        "retries": retries,
        "timeout": timeout,
        "notify": [address for address in notify if address] if notify else None,
        "enabled": enabled,
        "force_parameters": force_parameters,
    }
    body: dict[str, Any] = {"name": name, **{field: v for field, v in given.items() if v is not None}}
    if latest:
        body["version_id"] = None
    library = session.library
    saved, created = save_schedule(
        library, library.schedules, validate_path(path), body, by=session.bookstore.owner()
    )
    answer = schedule_answer(saved, created)
    session.emit(answer, lambda: output.schedule_summary(answer))


@command(
    "schedules",
    "list schedules: a notebook's, or without PATH the whole team's",
    "PATH is the notebook, as in Jupyter and the other commands. A schedule document that "
    "cannot be read (written by hand, say) is listed as malformed; Airflow skips it. With "
    "--name and --history, every stored version of one schedule, newest first.",
)
@click.argument("path", required=False)
@click.option("--name", help="only the schedule of this name")
@click.option("--history", is_flag=True, help="with PATH and --name: every change of the schedule")
@pass_session
def schedules(session: Session, path: str | None, name: str | None, history: bool) -> None:
    if history and not (path and name):
        raise click.UsageError("--history shows one schedule's changes: give PATH and --name NAME")
    if name and not path:
        raise click.UsageError("--name needs PATH, the notebook whose schedule it is")
    library = session.library
    book = library.schedules
    if history and path and name:
        changes = history_answer(book, library.notebook_key(validate_path(path)), name)
        session.emit(changes, lambda: output.schedule_history(changes))
        return
    # The listing marks malformed documents itself; the warning each one logs would repeat it.
    with logger_level("bookstore.schedules", logging.ERROR):
        if path is None:
            answer = listing_answer(book)
        else:
            answer = notebook_answer(book, library.notebook_key(validate_path(path)), name)
    session.emit(answer, lambda: output.schedules_listing(answer, path))


@command(
    "unschedule",
    "remove a schedule: Airflow drops its DAG at its next parse",
    "PATH is the notebook, as in Jupyter and the other commands; NAME the schedule. Its "
    "history stays in the bucket ('bookstore schedules PATH --name NAME --history').",
)
@click.argument("path")
@click.argument("name")
@pass_session
def unschedule(session: Session, path: str, name: str) -> None:
    library = session.library
    notebook_key = library.notebook_key(validate_path(path))
    library.schedules.delete(notebook_key, name)
    answer = {"notebook_key": notebook_key, "name": name, "removed": True}
    session.emit(
        answer,
        lambda: f"removed schedule {name!r} of {notebook_key}: Airflow drops its DAG at its next parse",
    )
