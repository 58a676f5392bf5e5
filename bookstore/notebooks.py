"""Reading, writing and hashing notebooks: the one place bookstore turns bytes into a
notebook and back.

nbformat is imported on first use, not with this module: its JSON-schema validator takes
a second or more to import, which a command that never opens a notebook should not pay.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, BinaryIO

from .errors import BookstoreError

if TYPE_CHECKING:
    from nbformat import NotebookNode


def sha256_hex(body: bytes) -> str:
    """The content hash recorded with every stored version."""
    return hashlib.sha256(body).hexdigest()


def sha256_hex_of(source: BinaryIO) -> str:
    """:func:`sha256_hex` of the rest of ``source``, read a block at a time."""
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def read(content: bytes | str | dict[str, Any], what: str) -> NotebookNode:
    """``content`` as an nbformat 4 notebook.

    Raises
    ------
    BookstoreError
        Naming ``what`` (e.g. "version 'abc' of 'published/a.ipynb'") when it is not one.
    """
    import nbformat

    try:
        if isinstance(content, bytes):
            content = content.decode("utf-8")
        if isinstance(content, dict):
            content = json.dumps(content)
        return nbformat.reads(content, as_version=4)
    except Exception as e:  # nbformat raises plain ValueError, NotJSONError, KeyError, ...
        raise BookstoreError(f"{what} cannot be read as a Jupyter notebook: {e}") from e


def read_json(body: bytes, what: str) -> dict[str, Any]:
    """The notebook JSON in ``body`` as stored (not upgraded), checked to look like a notebook."""
    try:
        content = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BookstoreError(f"{what} is not a notebook (not JSON): {e}") from e
    if not isinstance(content, dict) or "cells" not in content or "nbformat" not in content:
        raise BookstoreError(f"{what} is not a Jupyter notebook")
    return content


def write(notebook: NotebookNode | dict[str, Any], **options: Any) -> str:
    """The notebook as Jupyter writes it to disk (its own nbformat version, no conversion).

    ``options`` go to :func:`nbformat.writes` (``capture_validation_error``).
    """
    import nbformat

    if not isinstance(notebook, nbformat.NotebookNode):
        notebook = nbformat.from_dict(notebook)
    return nbformat.writes(notebook, version=nbformat.NO_CONVERT, **options)
