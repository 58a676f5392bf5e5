"""A notebook's parameters, read the way papermill reads them, and the check a run passes first.

papermill injects a run's parameters in a new cell right after the cell tagged
``parameters``; in a notebook without that tag it injects them at the very top, where the
notebook's own assignments then set them back. Such a run "succeeds" with the notebook's
own values while its record names the values it was given. So every run that is given
parameters is checked here before anything executes (:func:`check`): the notebook must
have a ``parameters`` cell, and each name given must be one that cell declares. A caller
may force a run past the check; its record says so.

What a notebook declares is read once, here (:func:`inspect`), with papermill's own
translators: the names, inferred types, defaults and help of the cell tagged
``parameters``. The Publish dialog, the run checks and the schedule form all show this.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .answers import json_fields
from .errors import InvalidRequestError

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: The cell tag papermill injects parameters after.
TAG = "parameters"

#: How to tag a cell, for messages.
HOW_TO_TAG = (
    "in JupyterLab, select the cell, open the Property Inspector (the gear icon in the right "
    "sidebar) and add the tag 'parameters' under Cell Tags"
)


@dataclass(frozen=True)
class Parameter:
    """One name the ``parameters`` cell assigns.

    Attributes
    ----------
    name
        The variable.
    type
        Its type as papermill infers it (from an annotation or a ``# type:`` comment), e.g.
        ``int``; None when papermill cannot tell.
    default
        The assigned expression, as written.
    help
        The comment at the end of its line.
    """

    name: str
    type: str | None
    default: str
    help: str = ""


@dataclass(frozen=True)
class NotebookParameters:
    """What a notebook declares as parameters.

    Attributes
    ----------
    cell
        Index (0-based) of the cell tagged ``parameters``; None when no cell is tagged.
    parameters
        What that cell assigns, in order.
    inspectable
        False when papermill cannot read assignments in the notebook's language: the names
        given to a run cannot be checked then, only that the cell exists.
    untagged_cell
        When no cell is tagged: the first code cell that only assigns values (a parameters
        cell in all but its tag), the one to tag; None when there is none.
    untagged_parameters
        What that cell assigns.
    language
        The notebook's kernel language.
    """

    cell: int | None
    parameters: tuple[Parameter, ...] = ()
    inspectable: bool = True
    untagged_cell: int | None = None
    untagged_parameters: tuple[Parameter, ...] = field(default=())
    language: str = "python"

    @property
    def names(self) -> tuple[str, ...]:
        """The declared names, in order."""
        return tuple(parameter.name for parameter in self.parameters)

    def as_json(self) -> dict[str, Any]:
        """The answer of the REST API and ``bookstore parameters --json``."""
        return json_fields(self)


class UndeclaredParametersError(InvalidRequestError):
    """A run was given parameters its notebook does not declare in a ``parameters`` cell.

    Attributes
    ----------
    undeclared
        The names given that the notebook does not declare (all of them when no cell is
        tagged).
    """

    def __init__(self, message: str, undeclared: Iterable[str]) -> None:
        super().__init__(message)
        self.undeclared = tuple(undeclared)


def inspect(notebook: NotebookNode) -> NotebookParameters:
    """The parameters ``notebook`` declares, as papermill infers them."""
    from papermill.translators import papermill_translators
    from papermill.utils import nb_kernel_name, nb_language

    language = _language(notebook, nb_language)
    try:
        translator = papermill_translators.find_translator(nb_kernel_name(notebook, None), language)
    except Exception:  # papermill raises PapermillException for a language it has no translator for
        translator = None

    def read(cell: Any) -> tuple[Parameter, ...] | None:
        if translator is None:
            return None
        try:
            found = translator.inspect(cell)
        except NotImplementedError:
            return None
        return tuple(
            Parameter(
                name=str(p.name),
                type=None if p.inferred_type_name in (None, "None") else str(p.inferred_type_name),
                default=str(p.default),
                help=str(p.help or ""),
            )
            for p in found
        )

    # The first cell with the tag, as papermill picks it (its own helper wants every cell to
    # have a tags list, which it adds before executing).
    index = next(
        (n for n, cell in enumerate(notebook.cells) if TAG in (cell.get("metadata", {}).get("tags") or ())),
        -1,
    )
    if index >= 0:
        declared = read(notebook.cells[index])
        return NotebookParameters(
            cell=index, parameters=declared or (), inspectable=declared is not None, language=language
        )
    for number, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code" or not _only_assigns(cell, language):
            continue
        assigned = read(cell)
        if assigned:
            return NotebookParameters(
                cell=None, untagged_cell=number, untagged_parameters=assigned, language=language
            )
    return NotebookParameters(cell=None, inspectable=translator is not None, language=language)


def check(declared: NotebookParameters, given: Mapping[str, Any], what: str) -> None:
    """Refuse a run of ``what`` given ``given`` when the notebook does not declare them.

    Raises
    ------
    UndeclaredParametersError
        No cell is tagged ``parameters`` (and parameters were given), or a name given is not
        one the ``parameters`` cell declares. The message names the cell to tag or the
        declared names.
    """
    names = list(given)
    if not names:
        return
    listed = ", ".join(names)
    if declared.cell is None:
        if declared.untagged_cell is not None:
            assigned = ", ".join(p.name for p in declared.untagged_parameters)
            where = (
                f"Cell {declared.untagged_cell + 1} assigns {assigned}: tag it 'parameters' ({HOW_TO_TAG}), "
                "publish again, then run"
            )
        else:
            where = (
                "Tag the cell that assigns the notebook's parameters 'parameters' "
                f"({HOW_TO_TAG}), publish again, then run"
            )
        raise UndeclaredParametersError(
            f"{what} has no cell tagged 'parameters', so papermill would put {listed} above the "
            "notebook's own code, which would set them back: the run would use the notebook's own "
            f"values. {where}; or force the run to inject them anyway.",
            names,
        )
    if not declared.inspectable:
        return
    undeclared = [name for name in names if name not in declared.names]
    if not undeclared:
        return
    cell = f"its parameters cell (cell {declared.cell + 1})"
    known = f"{cell} declares {', '.join(declared.names)}" if declared.names else f"{cell} declares none"
    hints = [
        f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
        for name in undeclared
        for close in [difflib.get_close_matches(name, declared.names, n=1)]
    ]
    are = "is not a parameter" if len(undeclared) == 1 else "are not parameters"
    raise UndeclaredParametersError(
        f"{', '.join(hints)} {are} of {what}: {known}. Assign it in that cell and publish again, "
        "or force the run to inject it anyway.",
        undeclared,
    )


def _language(notebook: NotebookNode, nb_language: Any) -> str:
    try:
        return str(nb_language(notebook, None))
    except ValueError:  # no language in the kernelspec or language_info
        return "python"


def _only_assigns(cell: Any, language: str) -> bool:
    """Whether a code cell's top-level statements are all assignments (Python), or, in
    another language, whether it is the kind of cell papermill could read."""
    if language != "python":
        return True
    import ast

    try:
        tree = ast.parse(cell.get("source", ""))
    except SyntaxError:  # IPython magics, a cell that does not parse
        return False
    return bool(tree.body) and all(isinstance(node, ast.Assign | ast.AnnAssign) for node in tree.body)
