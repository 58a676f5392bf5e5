"""What every ``bookstore`` subcommand gets from the common options.

The options themselves (``--config``, ``--json``, ``-v``) are declared with the command
group in :mod:`bookstore.cli`; they fill in the :class:`Session` a command receives through
:data:`pass_session`, which builds the settings and the library only when first asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import click

from ..config import Bookstore
from ..library import Library
from . import output
from .files import load_settings

LOG_FORMAT = "bookstore: %(levelname)s: %(message)s"


@dataclass
class Session:
    """The common options of one command line, and what they configure.

    Attributes
    ----------
    config
        The Jupyter config file with the ``c.Bookstore...`` settings (None: the environment).
    json
        Print JSON for scripts instead of text for people.
    """

    config: str | None = None
    json: bool = False

    @cached_property
    def bookstore(self) -> Bookstore:
        return load_settings(self.config)

    @cached_property
    def library(self) -> Library:
        return Library.from_settings(self.bookstore)

    def emit(self, data: Any, human: Callable[[], str]) -> None:
        """Print ``data`` as JSON with ``--json``, else the text ``human()`` makes for people."""
        output.emit(data, human, as_json=self.json)


#: Passes the command line's :class:`Session` as a command's first argument.
pass_session = click.make_pass_decorator(Session, ensure=True)


class _StderrHandler(logging.Handler):
    """Writes each record to the stderr of the moment it is logged, as the rest of the
    command's messages are (a test runner swaps ``sys.stderr`` per command)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:
            self.handleError(record)


@contextmanager
def log_to_stderr(level: int) -> Iterator[None]:
    """Log records of ``level`` and above to stderr while the command runs (the level of
    the root logger, and its handlers, are as they were afterwards)."""
    root = logging.getLogger()
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@contextmanager
def logger_level(name: str, level: int) -> Iterator[None]:
    """Set the level of the logger ``name`` while the command runs."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)
