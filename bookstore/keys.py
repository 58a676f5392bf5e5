"""Pure functions mapping Jupyter paths to S3 keys and back.

A Jupyter path (``analysis/mine.ipynb``) lives under a prefix (``workspace/kylek/notebooks``);
the S3 key is the two joined with ``/``. Anything that could make a key leave its prefix, or
that names no file, is refused with :class:`~bookstore.errors.InvalidPathError`: ``..`` and
``.`` segments (raw or percent-encoded, once or several times), absolute paths, backslashes,
NUL and other control characters, and empty segments.
"""

from __future__ import annotations

from urllib.parse import unquote

from .errors import InvalidPathError

_MAX_DECODE_ROUNDS = 5


def _reject_unsafe(text: str, what: str) -> None:
    """Refuse ``text`` if any decoding of it contains something that can escape a prefix."""
    decoded = text
    for _ in range(_MAX_DECODE_ROUNDS):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in decoded):
            raise InvalidPathError(f"{what} {text!r} contains a control character")
        if "\\" in decoded:
            raise InvalidPathError(f"{what} {text!r} contains a backslash; use '/' between folders")
        if decoded.startswith("/") or (len(decoded) > 1 and decoded[1] == ":"):
            raise InvalidPathError(f"{what} {text!r} is absolute; give a path relative to the prefix")
        for segment in decoded.split("/"):
            if segment in ("..", "."):
                raise InvalidPathError(f"{what} {text!r} contains a '{segment}' segment")
        again = unquote(decoded)
        if again == decoded:
            return
        decoded = again
    raise InvalidPathError(f"{what} {text!r} is percent-encoded too many times")


def normalize_prefix(prefix: str) -> str:
    """Return ``prefix`` without leading or trailing slashes, checked for traversal.

    >>> normalize_prefix("/workspace/kylek/notebooks/")
    'workspace/kylek/notebooks'
    """
    stripped = prefix.strip().strip("/")
    if stripped:
        _reject_unsafe(stripped, "prefix")
        if "" in stripped.split("/"):
            raise InvalidPathError(f"prefix {prefix!r} contains an empty segment ('//')")
    return stripped


def validate_path(path: str) -> str:
    """Return a Jupyter path checked to stay inside its prefix.

    Jupyter itself strips one leading slash from API paths before they reach us, so a
    path arriving here with a leading slash was written as an absolute path and is refused.
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidPathError("the path is empty; name a notebook, e.g. 'analysis/mine.ipynb'")
    _reject_unsafe(path, "path")
    if path.endswith("/"):
        raise InvalidPathError(f"path {path!r} names a folder, not a notebook")
    if "" in path.split("/"):
        raise InvalidPathError(f"path {path!r} contains an empty segment ('//')")
    return path


def path_to_key(prefix: str, path: str) -> str:
    """Map a Jupyter path under ``prefix`` to its S3 key.

    >>> path_to_key("/workspace/kylek/notebooks", "analysis/mine.ipynb")
    'workspace/kylek/notebooks/analysis/mine.ipynb'
    """
    clean_prefix = normalize_prefix(prefix)
    clean_path = validate_path(path)
    return f"{clean_prefix}/{clean_path}" if clean_prefix else clean_path


def key_to_path(prefix: str, key: str) -> str:
    """Map an S3 key back to the Jupyter path it was archived from.

    >>> key_to_path("workspace/kylek/notebooks", "workspace/kylek/notebooks/analysis/mine.ipynb")
    'analysis/mine.ipynb'
    """
    clean_prefix = normalize_prefix(prefix)
    if clean_prefix:
        head = clean_prefix + "/"
        if not key.startswith(head):
            raise InvalidPathError(f"key {key!r} is not under prefix {clean_prefix!r}")
        key = key[len(head) :]
    return validate_path(key)
