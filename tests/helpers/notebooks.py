"""Notebooks for run tests, and the Jupyter kernel that executes them."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import nbformat

KEY = "kylek/notebooks/analysis/mine.ipynb"


@dataclass(frozen=True)
class Area:
    """Published and runs prefixes of one test's own, so tests can share a bucket.

    A SeaweedFS server takes writes in a limited number of buckets (each gets its own
    volumes), so test modules use one bucket and each test a namespace in it.
    """

    namespace: str = field(default_factory=lambda: f"t-{uuid.uuid4().hex[:10]}")

    @property
    def published(self) -> str:
        return f"{self.namespace}/published"

    @property
    def runs(self) -> str:
        return f"{self.namespace}/runs"

    @property
    def key(self) -> str:
        """The S3 key of :data:`KEY` once published."""
        return f"{self.published}/{KEY}"


def parameterized_notebook(label: str, *, body: str = "", raises: str | None = None) -> bytes:
    """A notebook that prints ``label`` and its parameters ``x`` and ``run_date``.

    With ``raises``, its last cell raises ``ValueError(raises)`` after printing.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("x = 1\nrun_date = 'unset'")
    parameters.metadata["tags"] = ["parameters"]
    cells = [
        parameters,
        nbformat.v4.new_code_cell(f"print('ran {label} with x =', x, 'run_date =', run_date)\n{body}"),
    ]
    if raises is not None:
        cells.append(nbformat.v4.new_code_cell(f"raise ValueError({raises!r})"))
    nb.cells = cells
    return nbformat.writes(nb).encode()


def untagged_notebook(region: str = "EU") -> bytes:
    """A sales report whose default ``region`` is assigned in a cell (the notebook's second)
    that is not tagged ``parameters``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sales"),
        nbformat.v4.new_code_cell(f"region = {region!r}"),
        nbformat.v4.new_code_cell("print('sales report for', region)"),
    ]
    return nbformat.writes(nb).encode()


def executed(body: bytes) -> nbformat.NotebookNode:
    return nbformat.reads(body.decode(), as_version=4)


def cell_text(nb: nbformat.NotebookNode) -> str:
    """Everything the executed cells printed, and their errors, as one string."""
    parts: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            if output.get("output_type") == "error":
                parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def injected_parameters(nb: nbformat.NotebookNode) -> dict[str, Any]:
    return dict(nb.metadata["papermill"]["parameters"])


@functools.cache
def ensure_python3_kernel() -> None:
    """Make sure a ``python3`` kernelspec exists for this interpreter (fresh machines)."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" in KernelSpecManager().find_kernel_specs():
        return
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def metadata_parameters(metadata: dict[str, str]) -> Any:
    return json.loads(metadata["bookstore-parameters"])
