"""Sphinx configuration of bookstore's docs: MyST Markdown pages, the PyData theme.

``make docs`` builds them into docs/_build/html with warnings as errors. The reference pages
that the code defines (configuration, exit statuses, archive faults, the REST API) are
generated at each build by ``_ext/bookstore_reference.py``, and the CLI reference by
sphinx-click from ``bookstore.cli``. Nothing is fetched from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
# This checkout's bookstore, whatever the virtualenv has installed, and the docs' extension.
sys.path[:0] = [str(REPO), str(DOCS / "_ext")]

from bookstore._version import __version__  # noqa: E402

project = "bookstore"
author = "bookstore contributors"
copyright = "bookstore contributors"  # noqa: A001 (Sphinx's name for it)
version = release = __version__

extensions = ["myst_parser", "sphinx_click", "bookstore_reference"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "kubernetes"]
myst_enable_extensions = ["colon_fence", "deflist"]
# Anchors for headings, so "page.md#a-section" links work here as on GitHub.
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"bookstore {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
