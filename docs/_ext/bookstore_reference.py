"""Sphinx extension: the reference pages the code defines.

Before Sphinx reads the pages, the generated fragments (``scripts/docs_reference.py``) are
written to ``docs/_generated/``, which is git-ignored and excluded from the pages; the pages
include them with MyST's ``{include}``. The command line reference is sphinx-click's, from
the ``bookstore`` command's own help, which is plain text: an asterisk in it (a cron's
``0 6 * * *``) is text, not reStructuredText emphasis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

CLICK_EVENTS = (
    "sphinx-click-process-description",
    "sphinx-click-process-options",
    "sphinx-click-process-arguments",
    "sphinx-click-process-epilog",
)


def generate(app: Sphinx) -> None:
    from scripts import docs_reference

    docs_reference.write(Path(app.srcdir) / docs_reference.GENERATED)


def literal_asterisks(app: Sphinx, ctx: Any, lines: list[str]) -> None:
    lines[:] = [line.replace("*", "\\*") for line in lines]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    for event in CLICK_EVENTS:
        app.connect(event, literal_asterisks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
