"""What several subcommands declare alike: the subcommand itself and its shared options.

:func:`command` makes a subcommand whose summary ``bookstore --help`` lists whole; the
options here mean the same in every subcommand that takes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import click

from ..config import DEFAULT_RUNS_PREFIX
from ..library import STAGES, WORKSPACE

PATH_HELP = "PATH is the notebook's path as in Jupyter, e.g. analysis/mine.ipynb."


def command(
    name: str, summary: str, details: str = PATH_HELP
) -> Callable[[Callable[..., Any]], click.Command]:
    """A subcommand, whose ``summary`` is listed whole by ``bookstore --help``."""
    return click.command(name, short_help=summary, help=f"{summary}\n\n{details}")


stage_option = click.option(
    "--stage", type=click.Choice(STAGES), default=WORKSPACE, show_default=True, help="which history"
)
root_option = click.option(
    "--root-dir",
    metavar="DIR",
    envvar="BOOKSTORE_ROOT_DIR",
    help="the Jupyter root folder notebook paths are relative to (default: $BOOKSTORE_ROOT_DIR, "
    "otherwise the current folder)",
)
cursor_option = click.option("--cursor", help="continue a listing where the previous page ended")


def runs_prefix_option(what: str) -> Callable[[Any], Any]:
    """``--runs-prefix``: the key prefix of executed notebooks, ``what`` it is for here."""
    return click.option(
        "--runs-prefix",
        metavar="PREFIX",
        help=f"key prefix of {what} (default: c.Bookstore.runs_prefix, {DEFAULT_RUNS_PREFIX!r})",
    )


def parameter_option(more: str = "") -> Callable[[Any], Any]:
    """``-p NAME VALUE``, repeatable (see :func:`parameter_values`); ``more`` adds to its help."""
    return click.option(
        "-p",
        "--parameter",
        "parameters",
        nargs=2,
        multiple=True,
        metavar="NAME VALUE",
        help="a papermill parameter; VALUE is read as JSON when it parses (42, true, [1, 2]), else as "
        "text" + more,
    )


def parameter_values(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` options as parameters: each VALUE as JSON when it parses, else as text."""
    return {name: _parameter_value(value) for name, value in pairs}


def _parameter_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
