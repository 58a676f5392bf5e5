"""Pure functions mapping Jupyter paths to S3 keys and back.

A Jupyter path (``analysis/mine.ipynb``) lives under a prefix (``workspace/kylek/notebooks``);
the S3 key is the two joined with ``/``. Anything that could make a key leave its prefix, or
that names no file, is refused with :class:`~bookstore.errors.InvalidPathError`: ``..`` and
``.`` segments (raw or percent-encoded, once or several times), absolute paths, backslashes,
NUL and other control characters, and empty segments.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from urllib.parse import unquote

from .errors import InvalidPathError, InvalidRequestError

_MAX_DECODE_ROUNDS = 5

#: The longest S3 key, in bytes of UTF-8 (S3 refuses longer ones).
MAX_KEY_BYTES = 1024
#: The longest version id S3 hands out, and what it may hold: printable ASCII, no space
#: (AWS's are URL-safe base64-like strings, SeaweedFS's and MinIO's hex or UUIDs, and an
#: unversioned object's is ``null``).
MAX_VERSION_ID_LENGTH = 1024
_VERSION_ID = re.compile(r"[!-~]+")


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


def numbered_names(path: str, tail: str) -> Iterator[str]:
    """``path`` with ``tail`` before its extension, then numbered: ``a/b-copy.ipynb``,
    ``a/b-copy-1.ipynb``, ... (callers take the first one that does not exist).
    """
    folder, name = posixpath.split(validate_path(path))
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suffix = f".{ext}" if dot else ""
    counter = 0
    while True:
        numbered = tail if counter == 0 else f"{tail}-{counter}"
        yield posixpath.join(folder, f"{stem}{numbered}{suffix}")
        counter += 1


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
    key = f"{clean_prefix}/{clean_path}" if clean_prefix else clean_path
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidPathError(
            f"path {path!r} is too long: its key would take {len(key.encode('utf-8'))} bytes, and S3 "
            f"keys hold at most {MAX_KEY_BYTES}; use a shorter name or fewer folders"
        )
    return key


def validate_version_id(version_id: str) -> str:
    """Return ``version_id`` checked to be one S3 could have given (printable ASCII, no
    space, at most :data:`MAX_VERSION_ID_LENGTH` characters), so that no request is sent to
    S3 with one it would refuse as malformed.

    Raises
    ------
    InvalidRequestError
        For anything else, naming what is wrong.
    """
    if not isinstance(version_id, str) or not version_id:
        raise InvalidRequestError("a version id must be a non-empty string")
    if len(version_id) > MAX_VERSION_ID_LENGTH:
        raise InvalidRequestError(
            f"version id {version_id[:40]!r}... is {len(version_id)} characters long; S3 version ids "
            f"have at most {MAX_VERSION_ID_LENGTH}"
        )
    if not _VERSION_ID.fullmatch(version_id):
        raise InvalidRequestError(
            f"version id {version_id!r} is not one S3 gives (printable ASCII without spaces): "
            "copy it from a version listing"
        )
    return version_id


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


# -- prefixes naming the server's owner ------------------------------------------------------

#: The placeholder a prefix may hold, as a whole segment, for the server's owner.
USERNAME = "{username}"
#: Longest user name that becomes a key segment.
MAX_USERNAME_LENGTH = 128
#: What a user name may hold to become a segment of a key: ASCII letters and digits, and
#: ``.``, ``_``, ``@``, ``+``, ``-`` (e-mail-like names keep working). Everything else is
#: refused rather than escaped, so that a key names its owner exactly as JupyterHub does.
USERNAME_CHARACTERS = "ASCII letters, digits and . _ @ + -"
_USERNAME = re.compile(r"[A-Za-z0-9._@+-]+")


def check_username(name: str | None) -> str:
    """Return ``name``, checked to be safe as one segment of an S3 key.

    Raises
    ------
    InvalidPathError
        The name is empty, ``.`` or ``..``, longer than :data:`MAX_USERNAME_LENGTH`, or holds
        anything but :data:`USERNAME_CHARACTERS` (a ``/``, a control character, a space ...).
    """
    if not isinstance(name, str) or not name:
        raise InvalidPathError("the user name is empty")
    if name in (".", ".."):
        raise InvalidPathError(f"the user name {name!r} would be a '{name}' segment")
    if len(name) > MAX_USERNAME_LENGTH:
        raise InvalidPathError(
            f"the user name {name[:20]!r}... is {len(name)} characters long (at most {MAX_USERNAME_LENGTH})"
        )
    if not _USERNAME.fullmatch(name):
        refused = "".join(sorted({ch for ch in name if not _USERNAME.fullmatch(ch)}))
        raise InvalidPathError(
            f"the user name {name!r} holds {refused!r}; a user name may hold only {USERNAME_CHARACTERS}"
        )
    return name


def check_template(prefix: str) -> str:
    """Normalise a prefix that may hold :data:`USERNAME` (once, as a whole segment).

    >>> check_template("/workspace/{username}/notebooks/")
    'workspace/{username}/notebooks'
    """
    clean = normalize_prefix(prefix)
    rest = clean.replace(USERNAME, "")
    if ("{" in clean or "}" in clean) and (
        clean.split("/").count(USERNAME) != 1 or "{" in rest or "}" in rest
    ):
        raise InvalidPathError(
            f"prefix {prefix!r} may hold '{USERNAME}' once, as a whole segment "
            "(e.g. 'workspace/{username}/notebooks'), and no other '{' or '}'"
        )
    return clean


def has_username(template: str) -> bool:
    """Whether ``template`` names the server's owner."""
    return USERNAME in template.split("/")


def resolve_prefix(template: str, username: str) -> str:
    """``template`` with :data:`USERNAME` replaced by the checked ``username``.

    >>> resolve_prefix("published/{username}/notebooks", "alice")
    'published/alice/notebooks'
    """
    template = check_template(template)
    if not has_username(template):
        return template
    name = check_username(username)
    return "/".join(name if segment == USERNAME else segment for segment in template.split("/"))


def template_root(template: str) -> str:
    """The part of ``template`` before :data:`USERNAME` (the whole of it when there is none).

    >>> template_root("published/{username}/notebooks")
    'published'
    """
    segments = check_template(template).split("/")
    return "/".join(segments[: segments.index(USERNAME)]) if USERNAME in segments else "/".join(segments)


def is_under(key: str, prefix: str) -> bool:
    """Whether ``key`` is ``prefix`` itself or lies under it (every key lies under ``''``)."""
    return not prefix or key == prefix or key.startswith(prefix + "/")


def default_published_root(published_template: str, workspace_template: str) -> str:
    """The published root a configuration implies when it names none.

    With :data:`USERNAME`, the published prefix up to it (``published``). Without, the prefix's
    first segment (``published`` for ``published/kylek/notebooks``, which is what the Airflow
    connection's default ``published_prefix`` expects), unless the workspace prefix lies
    under that segment too: then the whole published prefix, so that the catalog never
    lists workspaces.
    """
    published = check_template(published_template)
    if has_username(published):
        return template_root(published)
    first = published.split("/")[0]
    return published if is_under(template_root(workspace_template), first) else first


def owner_index(published_template: str, root: str) -> int | None:
    """Which segment of a key relative to ``root`` names the owner (None: no owner in keys).

    >>> owner_index("published/{username}/notebooks", "published")
    0
    """
    template = check_template(published_template)
    if not has_username(template) or not is_under(template, root):
        return None
    relative = template[len(root) + 1 :] if root else template
    return relative.split("/").index(USERNAME)
