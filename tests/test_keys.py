"""Jupyter path <-> S3 key mapping, and refusal of every path that could leave its prefix."""

from __future__ import annotations

import posixpath
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookstore.errors import InvalidPathError, InvalidRequestError
from bookstore.keys import (
    MAX_KEY_BYTES,
    key_to_path,
    normalize_prefix,
    path_to_key,
    validate_path,
    validate_version_id,
)

PREFIX = "workspace/kylek/notebooks"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("/workspace/kylek/notebooks", "workspace/kylek/notebooks"),
        ("workspace/kylek/notebooks/", "workspace/kylek/notebooks"),
        ("//published//", "published"),
        ("", ""),
        ("/", ""),
    ],
)
def test_prefixes_lose_leading_and_trailing_slashes(prefix: str, expected: str) -> None:
    assert normalize_prefix(prefix) == expected


@pytest.mark.parametrize("prefix", ["workspace/../etc", "a//b", "..", "workspace/%2e%2e/x"])
def test_unsafe_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidPathError):
        normalize_prefix(prefix)


@pytest.mark.parametrize(
    ("prefix", "path", "key"),
    [
        (
            "/workspace/kylek/notebooks",
            "analysis/mine.ipynb",
            "workspace/kylek/notebooks/analysis/mine.ipynb",
        ),
        ("/published/kylek/notebooks/", "mine.ipynb", "published/kylek/notebooks/mine.ipynb"),
        ("", "mine.ipynb", "mine.ipynb"),
        (PREFIX, "données/été 2024.ipynb", f"{PREFIX}/données/été 2024.ipynb"),
        (PREFIX, "100%.ipynb", f"{PREFIX}/100%.ipynb"),
        (PREFIX, "a..b.ipynb", f"{PREFIX}/a..b.ipynb"),
        (PREFIX, ".hidden/x.ipynb", f"{PREFIX}/.hidden/x.ipynb"),
    ],
)
def test_paths_map_to_keys_and_back(prefix: str, path: str, key: str) -> None:
    assert path_to_key(prefix, path) == key
    assert key_to_path(prefix, key) == path


HOSTILE = [
    "../secret.ipynb",
    "analysis/../../secret.ipynb",
    "analysis/..",
    "..",
    "./mine.ipynb",
    "%2e%2e/secret.ipynb",
    "%2E%2E/secret.ipynb",
    "analysis%2f..%2f..%2fsecret.ipynb",
    "%252e%252e/secret.ipynb",
    "%25252e%25252e%25252fsecret.ipynb",
    "/etc/passwd",
    "%2fetc/passwd",
    "C:/Windows/x.ipynb",
    "..\\secret.ipynb",
    "analysis\\mine.ipynb",
    "%5c..%5csecret.ipynb",
    "mine\x00.ipynb",
    "mine%00.ipynb",
    "line\nbreak.ipynb",
    "analysis//mine.ipynb",
    "analysis/",
    "",
    "   ",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidPathError):
        path_to_key(PREFIX, path)


def test_key_outside_the_prefix_is_refused() -> None:
    with pytest.raises(InvalidPathError, match="not under prefix"):
        key_to_path(PREFIX, "published/kylek/notebooks/mine.ipynb")
    with pytest.raises(InvalidPathError):
        key_to_path(PREFIX, f"{PREFIX}/../../x.ipynb")


segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=12
)


@given(st.lists(st.one_of(segment, st.sampled_from(["..", ".", "%2e%2e", "%252E%252e", ""])), min_size=1))
def test_every_accepted_path_stays_under_its_prefix(segments: list[str]) -> None:
    path = "/".join(segments)
    try:
        key = path_to_key(PREFIX, path)
    except InvalidPathError:
        return
    # Whatever was accepted stays under the prefix however many times it is decoded.
    decoded = key
    for _ in range(6):
        assert posixpath.normpath(decoded).startswith(PREFIX + "/")
        assert "\\" not in decoded and "\x00" not in decoded
        decoded = unquote(decoded)
    assert key_to_path(PREFIX, key) == path


@given(segment)
def test_percent_encoding_a_traversal_does_not_hide_it(name: str) -> None:
    for encoded in (quote("../" + name, safe=""), quote(quote("../" + name, safe=""), safe="")):
        with pytest.raises(InvalidPathError):
            validate_path(encoded)


def test_a_key_longer_than_s3_allows_is_refused_naming_the_limit() -> None:
    fits = "a" * (MAX_KEY_BYTES - len(PREFIX) - 1)
    assert len(path_to_key(PREFIX, fits)) == MAX_KEY_BYTES
    with pytest.raises(InvalidPathError, match="at most 1024"):
        path_to_key(PREFIX, fits + "a")
    # Bytes, not characters: each 'é' takes two.
    with pytest.raises(InvalidPathError, match="too long"):
        path_to_key(PREFIX, "é" * 500)


@pytest.mark.parametrize(
    "version_id", ["67148a2529ee", "null", "3sL4kqtJlcpX+rmSpXd3dIbrH.Y_MTRCxf3vjVBH40-Nr8X8", "v" * 1024]
)
def test_version_ids_s3_gives_are_accepted(version_id: str) -> None:
    assert validate_version_id(version_id) == version_id


@pytest.mark.parametrize("version_id", ["", "two words", "x\x00y", "naïve", "tab\there", "v" * 1025])
def test_a_version_id_s3_could_not_have_given_is_refused(version_id: str) -> None:
    with pytest.raises(InvalidRequestError, match="version id"):
        validate_version_id(version_id)
