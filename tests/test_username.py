"""Prefixes naming the server's owner: ``{username}`` resolved once, hostile names refused."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from traitlets.config import Config

from bookstore.config import Bookstore
from bookstore.errors import InvalidPathError, MisconfiguredError
from bookstore.keys import (
    check_template,
    check_username,
    default_published_root,
    owner_index,
    path_to_key,
    resolve_prefix,
    template_root,
)

TEAM = {
    "workspace_prefix": "workspace/{username}/notebooks",
    "published_prefix": "published/{username}/notebooks",
}

SAFE = ["alice", "Bob", "a.b", "alice@example.com", "alice+test", "o-neil_2", "x", "a" * 128, ".hidden", "-"]

HOSTILE = [
    ("", "empty"),
    (".", "'.' segment"),
    ("..", "'..' segment"),
    ("../evil", "'/'"),
    ("a/b", "'/'"),
    ("/", "'/'"),
    ("a\\b", "'\\\\\\\\'"),
    ("a b", "' '"),
    ("a\x00b", "'\\\\x00'"),
    ("a\nb", "'\\\\n'"),
    ("a\x7fb", "'\\\\x7f'"),
    ("%2e%2e", "'%'"),
    ("{username}", "'{}'"),
    ("josé", "'é'"),
    ("名前", "only ASCII"),
    ("a*b", "'\\*'"),
    ("a?b", "'\\?'"),
    ("a#b", "'#'"),
    ("a:b", "':'"),
    ("a" * 129, "129 characters"),
]


@pytest.mark.parametrize("name", SAFE)
def test_safe_names_become_one_segment(name: str) -> None:
    assert check_username(name) == name
    prefix = resolve_prefix("workspace/{username}/notebooks", name)
    assert prefix == f"workspace/{name}/notebooks"
    assert path_to_key(prefix, "a.ipynb").split("/")[1] == name


@pytest.mark.parametrize(("name", "why"), HOSTILE)
def test_hostile_names_are_refused_saying_why(name: str, why: str) -> None:
    with pytest.raises(InvalidPathError, match=why):
        check_username(name)


@given(st.text())
def test_no_name_escapes_its_segment(name: str) -> None:
    """Whatever the name, it is refused or it stays exactly one segment of the key."""
    try:
        prefix = resolve_prefix("published/{username}/notebooks", name)
    except InvalidPathError:
        return
    assert set(name) <= set(string.ascii_letters + string.digits + "._@+-")
    assert prefix.split("/") == ["published", name, "notebooks"]
    assert name not in ("", ".", "..")


@pytest.mark.parametrize(
    ("template", "root", "index"),
    [
        ("published/{username}/notebooks", "published", 0),
        ("/published/{username}/", "published", 0),
        ("team/published/{username}/notebooks", "team/published", 0),
        ("published/kylek/notebooks", "published/kylek/notebooks", None),
    ],
)
def test_templates_have_a_root_and_an_owner_segment(template: str, root: str, index: int | None) -> None:
    assert template_root(template) == root
    assert owner_index(template, root) == index


@pytest.mark.parametrize(
    "template",
    [
        "workspace/{user}/notebooks",
        "workspace/u-{username}/notebooks",
        "workspace/{username}/{username}",
        "workspace/{username}}",
        "workspace/{0}",
        "workspace/{username}/../x",
    ],
)
def test_other_placeholders_are_refused(template: str) -> None:
    with pytest.raises(InvalidPathError):
        check_template(template)


@pytest.mark.parametrize(
    ("published", "workspace", "root"),
    [
        ("published/{username}/notebooks", "workspace/{username}/notebooks", "published"),
        # Static prefixes (the seed's): the first segment, as the Airflow connection expects.
        ("published/kylek/notebooks", "workspace/kylek/notebooks", "published"),
        ("published", "workspace", "published"),
        # ... unless the workspaces lie under it too: then the published prefix itself.
        ("t-1/published", "t-1/workspace", "t-1/published"),
    ],
)
def test_the_default_published_root(published: str, workspace: str, root: str) -> None:
    assert default_published_root(published, workspace) == root


# -- in the configuration ------------------------------------------------------------------


def settings(monkeypatch: pytest.MonkeyPatch, hub_user: str | None = None, **values: str) -> Bookstore:
    if hub_user is None:
        monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    else:
        monkeypatch.setenv("JUPYTERHUB_USER", hub_user)
    config = Config()
    for name, value in values.items():
        config.Bookstore[name] = value
    return Bookstore(config=config)


def test_the_hub_user_owns_the_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    bookstore = settings(monkeypatch, "alice", **TEAM)
    assert bookstore.workspace_prefix == "workspace/alice/notebooks"
    assert bookstore.published_prefix == "published/alice/notebooks"
    assert bookstore.template("published_prefix") == "published/{username}/notebooks"
    assert bookstore.published_layout() == ("published", 0)
    described = bookstore.describe()
    assert described["username"] == "alice" and described["published_root"] == "published"


def test_without_a_hub_the_os_login_owns_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "kylek")
    assert settings(monkeypatch, **TEAM).workspace_prefix == "workspace/kylek/notebooks"


def test_a_configured_username_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    bookstore = settings(monkeypatch, "alice", username="service-account", **TEAM)
    assert bookstore.published_prefix == "published/service-account/notebooks"


@pytest.mark.parametrize(("name", "_why"), HOSTILE)
def test_an_unsafe_owner_stops_start_up_naming_value_and_fix(
    monkeypatch: pytest.MonkeyPatch, name: str, _why: str
) -> None:
    if "\x00" in name:
        pytest.skip("an environment variable cannot hold NUL")
    with pytest.raises(MisconfiguredError) as refused:
        settings(monkeypatch, name, **TEAM)
    message = str(refused.value)
    assert repr(name)[:20] in message or name == ""
    assert "c.Bookstore.workspace_prefix" in message or "c.Bookstore.published_prefix" in message
    assert "c.Bookstore.username" in message and "$JUPYTERHUB_USER" in message


def test_static_prefixes_ignore_the_owner_entirely(monkeypatch: pytest.MonkeyPatch) -> None:
    bookstore = settings(
        monkeypatch,
        "../evil",
        workspace_prefix="/workspace/kylek/notebooks",
        published_prefix="/published/kylek/notebooks",
    )
    assert bookstore.workspace_prefix == "workspace/kylek/notebooks"
    assert bookstore.published_layout() == ("published", None)


def test_publications_are_recorded_as_by_the_owner_the_prefixes_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not the OS login beside kylek's prefixes: whom the prefixes name, or no one."""
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    static = {
        "workspace_prefix": "/workspace/kylek/notebooks",
        "published_prefix": "/published/kylek/notebooks",
    }
    assert settings(monkeypatch, **static).owner() is None
    assert settings(monkeypatch, username="kylek", **static).owner() == "kylek"
    assert settings(monkeypatch, "alice", **static).owner() is None  # $JUPYTERHUB_USER names no static prefix
    assert settings(monkeypatch, "alice", **TEAM).owner() == "alice"
    assert settings(monkeypatch, **TEAM).owner() == "root"  # {username}: the OS login is the owner
    assert settings(monkeypatch, "alice", username="svc", **TEAM).owner() == "svc"


def test_no_owner_at_all_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_login() -> str:
        raise OSError("no login")

    monkeypatch.setattr("getpass.getuser", no_login)
    with pytest.raises(MisconfiguredError, match=r"set c\.Bookstore\.username"):
        settings(monkeypatch, **TEAM)


def test_a_published_root_must_hold_the_published_prefix_and_no_workspace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(MisconfiguredError, match="does not hold the published prefix"):
        settings(monkeypatch, "alice", published_root="elsewhere", **TEAM).published_layout()
    with pytest.raises(MisconfiguredError, match="would hold the workspaces"):
        settings(
            monkeypatch,
            "alice",
            workspace_prefix="team/{username}/workspace",
            published_prefix="team/{username}/published",
        ).published_layout()
    explicit = settings(
        monkeypatch,
        "alice",
        workspace_prefix="ws/{username}",
        published_prefix="org/published/{username}/nb",
        published_root="org",
    )
    assert explicit.published_layout() == ("org", 1)
