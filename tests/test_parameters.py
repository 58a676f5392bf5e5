"""What a notebook declares as parameters, and the check every run given parameters passes."""

from __future__ import annotations

import nbformat
import pytest

from bookstore import notebooks
from bookstore.errors import InvalidRequestError
from bookstore.parameters import Parameter, UndeclaredParametersError, check, inspect
from tests.helpers.notebooks import parameterized_notebook, untagged_notebook


def notebook(
    *cells: nbformat.NotebookNode, language: str = "python", kernel: str = "python3"
) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": language}
    nb.cells = list(cells)
    return nb


def tagged(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]})


def code(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def test_the_tagged_cell_declares_names_types_defaults_and_help() -> None:
    nb = notebook(
        nbformat.v4.new_markdown_cell("# Report"),
        code("import math"),
        tagged('region = "EU"  # the sales region\nyear: int = 2024\nrate = 0.5  # type: float'),
    )

    declared = inspect(nb)

    assert declared.cell == 2
    assert declared.inspectable
    assert declared.parameters == (
        Parameter("region", None, '"EU"', "the sales region"),
        Parameter("year", "int", "2024", ""),
        Parameter("rate", "float", "0.5", ""),
    )
    assert declared.names == ("region", "year", "rate")
    assert declared.as_json()["parameters"][1] == {
        "name": "year",
        "type": "int",
        "default": "2024",
        "help": "",
    }
    check(declared, {"region": "APAC", "year": 2025}, "sales.ipynb")  # declared: accepted


def test_an_untagged_notebook_given_parameters_is_refused_naming_the_cell_to_tag() -> None:
    declared = inspect(notebooks.read(untagged_notebook(), "sales.ipynb"))

    assert declared.cell is None
    assert declared.untagged_cell == 1
    assert [p.name for p in declared.untagged_parameters] == ["region"]
    with pytest.raises(UndeclaredParametersError) as refused:
        check(declared, {"region": "APAC"}, "analysis/sales.ipynb")
    message = str(refused.value)
    assert "analysis/sales.ipynb has no cell tagged 'parameters'" in message
    assert "Cell 2 assigns region: tag it 'parameters'" in message
    assert "force" in message
    assert refused.value.undeclared == ("region",)
    # A bad request: 400 in REST, exit 2 in the CLI.
    assert isinstance(refused.value, InvalidRequestError)
    assert (refused.value.http_status, refused.value.exit_status) == (400, 2)
    check(declared, {}, "analysis/sales.ipynb")  # a run without parameters runs the notebook as it is


def test_an_unknown_name_is_refused_with_the_declared_names() -> None:
    declared = inspect(notebooks.read(parameterized_notebook("p"), "mine.ipynb"))

    with pytest.raises(UndeclaredParametersError) as refused:
        check(declared, {"x": 2, "run_dat": "2026-01-01"}, "mine.ipynb")

    assert str(refused.value).startswith(
        "'run_dat' (did you mean 'run_date'?) is not a parameter of mine.ipynb: "
        "its parameters cell (cell 1) declares x, run_date."
    )
    assert refused.value.undeclared == ("run_dat",)


def test_an_empty_parameters_cell_declares_none() -> None:
    declared = inspect(notebook(tagged("# no defaults yet"), code("print(1)")))

    assert (declared.cell, declared.parameters) == (0, ())
    with pytest.raises(UndeclaredParametersError, match=r"its parameters cell \(cell 1\) declares none"):
        check(declared, {"x": 1}, "a.ipynb")


def test_without_an_assigning_cell_the_message_says_what_to_tag() -> None:
    declared = inspect(notebook(code("import os\nprint(os.getcwd())"), code("%matplotlib inline\nx = 1")))

    assert (declared.cell, declared.untagged_cell) == (None, None)
    with pytest.raises(
        UndeclaredParametersError, match="Tag the cell that assigns the notebook's parameters"
    ):
        check(declared, {"x": 1}, "a.ipynb")


def test_a_language_papermill_cannot_read_is_checked_for_its_tag_only() -> None:
    # papermill reads assignments in Python, R and a few others; not in bash: the names given
    # cannot be checked, but a run into a notebook with no tag would still be wrong.
    with_tag = inspect(notebook(tagged("X=1"), language="bash", kernel="bash"))
    without = inspect(notebook(code("X=1"), language="bash", kernel="bash"))

    assert (with_tag.cell, with_tag.inspectable) == (0, False)
    check(with_tag, {"anything": 1}, "a.ipynb")
    with pytest.raises(UndeclaredParametersError):
        check(without, {"X": 2}, "a.ipynb")
