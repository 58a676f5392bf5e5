"""The ``bookstore`` command: list, publish, show, compare, restore and run notebook versions,
schedule published notebooks on Airflow, and list the team's published notebooks.

It reads the same ``c.Bookstore...`` lines as Jupyter (``--config FILE``, or the file named
by ``$BOOKSTORE_CONFIG``); without a file, the bucket comes from ``$BOOKSTORE_S3_BUCKET`` and
the endpoint, region and credentials from the AWS environment and default chain.

A subcommand is a click command in :mod:`bookstore.cli.commands`,
:mod:`bookstore.cli.running` or :mod:`bookstore.cli.scheduling`, listed in
:data:`COMMANDS`; this module gives each one the common options and turns what it raises
into one line on stderr and an exit status (the error's
:attr:`~bookstore.errors.BookstoreError.exit_status`), in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import click

from .._version import __version__
from ..errors import BookstoreError, exit_status_help
from . import commands, running, scheduling
from .session import Session, log_to_stderr

#: The exit status of a command stopped with Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

#: The end of every command's --help: what its exit status says.
EPILOG = exit_status_help()

#: Subcommands in the order ``bookstore --help`` lists them.
COMMANDS: tuple[click.Command, ...] = (
    commands.versions,
    commands.publish,
    commands.show,
    commands.diff,
    commands.restore,
    running.parameters_command,
    running.run,
    running.runs,
    running.rerun_command,
    scheduling.schedule,
    scheduling.schedules,
    scheduling.unschedule,
    commands.catalog,
    commands.retention,
)


def exit_code(error: BaseException) -> int:
    """The exit status for ``error``: a :class:`BookstoreError`'s own, 1 for anything else.
    click's own usage errors exit with 2."""
    return error.exit_status if isinstance(error, BookstoreError) else 1


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (a terminal shows it after ``bookstore: error:``)."""
    return " ".join(str(error).split()) or type(error).__name__


class BookstoreGroup(click.Group):
    """The command group: answers every failure of a subcommand the same way."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they were added, not sorted

    def invoke(self, ctx: click.Context) -> Any:
        with log_to_stderr(logging.WARNING):  # -v lowers the level to INFO
            try:
                return super().invoke(ctx)
            except (BookstoreError, OSError) as e:
                click.echo(f"bookstore: error: {one_line(e)}", err=True)
                ctx.exit(exit_code(e))
            except KeyboardInterrupt:
                ctx.exit(INTERRUPTED)


# -- the common options, which every subcommand takes after its own --------------------------


def _set_session(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        setattr(ctx.ensure_object(Session), name, value)

    return callback


def _set_verbose(ctx: click.Context, param: click.Parameter, verbose: bool) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.INFO)


def common_options() -> list[click.Option]:
    """``--config``, ``--json`` and ``-v``: new objects for each subcommand."""
    return [
        click.Option(
            ["--config"],
            metavar="FILE",
            envvar="BOOKSTORE_CONFIG",
            expose_value=False,
            callback=_set_session("config"),
            help="Jupyter config file with the c.Bookstore... settings (default: $BOOKSTORE_CONFIG; "
            "otherwise S3, from $BOOKSTORE_S3_BUCKET and the AWS environment; GCS needs "
            "c.Bookstore.backend = 'gcs' in a config file)",
        ),
        click.Option(
            ["--json"],
            is_flag=True,
            expose_value=False,
            callback=_set_session("json"),
            help="print JSON for scripts instead of tables",
        ),
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            callback=_set_verbose,
            help="log what happens to stderr",
        ),
    ]


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.group(
    "bookstore",
    cls=BookstoreGroup,
    context_settings=CONTEXT_SETTINGS,
    epilog=EPILOG,
    help="List, publish, show and restore versions of notebooks archived to a versioned bucket "
    "(S3 or Google Cloud Storage).",
)
@click.version_option(__version__, "--version", prog_name="bookstore", message="%(prog)s %(version)s")
def cli() -> None:
    pass


for _command in COMMANDS:
    _command.params += common_options()
    _command.epilog = EPILOG
    _command.context_settings = {**CONTEXT_SETTINGS, **_command.context_settings}
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``bookstore`` command with ``argv`` (default: the process's arguments) and exit
    with its status."""
    cli.main(args=argv, prog_name="bookstore")
