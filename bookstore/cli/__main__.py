"""``python -m bookstore.cli``: the ``bookstore`` command."""

from __future__ import annotations

from . import main

main()
