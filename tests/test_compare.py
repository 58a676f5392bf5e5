"""Comparing notebook versions with nbdime (the REST endpoint is in test_handlers.py)."""

from __future__ import annotations

import re
import sys

import nbformat
import pytest

from bookstore.compare import diff_notebooks, nbdime_available
from bookstore.errors import BookstoreError, FeatureUnavailableError
from bookstore.jupyter.base import features
from bookstore.notebooks import read as as_notebook


def test_stored_json_and_saved_models_compare_alike() -> None:
    # S3 holds sources as lists of lines, Jupyter's contents model as strings.
    lines = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "y = 2"], "metadata": {},
                       "outputs": [], "execution_count": None}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 4}  # fmt: skip
    stored = as_notebook(nbformat.writes(nbformat.from_dict(lines)).encode(), "stored")
    joined = as_notebook({**lines, "cells": [{**lines["cells"][0], "source": "x = 1\ny = 2"}]}, "saved")
    assert diff_notebooks(stored, joined) == []


def test_a_version_that_is_not_a_notebook_says_which() -> None:
    what = "version 'v1' of 'a.ipynb'"
    with pytest.raises(BookstoreError, match=re.escape(f"{what} cannot be read as a Jupyter notebook")):
        as_notebook(b"not json", what)


def test_without_nbdime_comparing_is_unavailable_and_not_advertised(monkeypatch: pytest.MonkeyPatch) -> None:
    assert nbdime_available() and "diff" in features()
    monkeypatch.setitem(sys.modules, "nbdime", None)  # what `import nbdime` meets when it is not installed
    assert not nbdime_available()
    assert "diff" not in features()
    with pytest.raises(FeatureUnavailableError, match=r"pip install 'notebook-bookstore\[jupyter\]'"):
        diff_notebooks(nbformat.v4.new_notebook(), nbformat.v4.new_notebook())
