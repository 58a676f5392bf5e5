"""Notebook-aware comparison of two versions, with nbdime.

The answer has the shape nbdime's own diff API gives its web components: the *base*
notebook and the list of diff entries that turn it into the *remote* one (cells added,
removed and changed, outputs and metadata included), so a front end renders it with
nbdime's ``NotebookDiffModel`` and ``NotebookDiffWidget``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from . import notebooks
from .errors import FeatureUnavailableError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .library import Library

    #: One side of a comparison: a notebook, and which version it is (for the answer).
    Side = tuple[NotebookNode, dict[str, Any]]


def stored_side(library: Library, path: str, stage: str, version_id: str | None) -> Side:
    """One stored version of ``path`` as a notebook, and which version it is (for the answer)."""
    stored = library.read(path, stage, version_id)
    info = stored.info
    content = notebooks.read(stored.body, f"{stage} version {info.version_id!r} of {path!r}")
    return content, {"stage": stage, "key": info.key, "version_id": info.version_id}


def published_side(library: Library, notebook_key: str, version_id: str | None) -> Side:
    """One version of anyone's published notebook, by its ``notebook_key``, as a notebook
    and which version it is."""
    stored = library.catalog.read(notebook_key, version_id)
    info = stored.info
    content = notebooks.read(stored.body, f"published version {info.version_id!r} of {notebook_key!r}")
    return content, {
        "stage": "published",
        "notebook_key": notebook_key,
        "key": info.key,
        "version_id": info.version_id,
    }


#: Metadata every run writes anew (when each cell ran, how long, which run it was): two runs'
#: outputs are compared without it, or every cell would differ.
RUN_NOTEBOOK_METADATA = ("papermill", "bookstore")
RUN_CELL_METADATA = ("papermill", "execution")


def run_side(library: Library, path: str, run_id: str) -> Side:
    """The executed notebook of one run of ``path``'s publication, without the metadata each
    run writes anew (timings, the run's own ids), and which run it is."""
    record, stored = library.executed(path, run_id)
    content = notebooks.read(stored.body, f"the executed notebook of run {run_id!r}")
    for name in RUN_NOTEBOOK_METADATA:
        content.metadata.pop(name, None)
    for cell in content.cells:
        for name in RUN_CELL_METADATA:
            cell.metadata.pop(name, None)
    return content, {
        "run_id": record.run_id,
        "output_key": record.output_key,
        "output_version_id": record.output_version_id,
    }


def nbdime_available() -> bool:
    """Whether nbdime is installed, so that versions can be compared."""
    try:
        import nbdime  # noqa: F401
    except ImportError:
        return False
    return True


def compare(base: Side, remote: Side) -> dict[str, Any]:
    """The answer comparing two sides (from :func:`stored_side`, :func:`published_side`,
    :func:`run_side`, or a saved notebook): ``{"base", "diff", "base_version",
    "remote_version"}``, the first two as nbdime's diff API gives them."""
    (base_notebook, base_version), (remote_notebook, remote_version) = base, remote
    return {
        "base": base_notebook,
        "diff": diff_notebooks(base_notebook, remote_notebook),
        "base_version": base_version,
        "remote_version": remote_version,
    }


def diff_notebooks(base: NotebookNode, remote: NotebookNode) -> list[Any]:
    """nbdime's diff of ``base`` to ``remote``, as JSON-ready diff entries."""
    try:
        import nbdime
    except ImportError as e:
        raise FeatureUnavailableError(
            "comparing versions needs nbdime, which is not installed here: "
            "pip install 'notebook-bookstore[jupyter]' (then restart Jupyter, if that is where it failed)"
        ) from e
    return nbdime.diff_notebooks(base, remote)


def format_diff(base: NotebookNode, diff: list[Any], *, color: bool = False) -> str:
    """The diff as nbdime's ``nbdiff`` prints it for a terminal (Python's difflib, no git)."""
    from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

    out = io.StringIO()
    config = PrettyPrintConfig(out=out, use_git=False, use_diff=False, use_color=color)
    pretty_print_diff(base, diff, "", config)
    return out.getvalue()
