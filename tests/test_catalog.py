"""The team catalog and reading anyone's publications: the library on the in-memory store,
the REST API and CLI against a real SeaweedFS and a real ``jupyter server`` whose prefixes
name its owner.

The server is alice's (``c.Bookstore.username``); a tiny identity provider tells alice and
carol apart by their tokens, and a tiny Authorizer refuses carol the ``publish`` action, as
an administrator's would. bob's publications are made through the library, as his own
server would make them.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from bookstore.catalog import Catalog, owner_of
from bookstore.errors import InvalidPathError, NotFoundError
from bookstore.s3 import S3Store
from bookstore.store import Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.cli import Cli, clean_env
from tests.helpers.jupyter_process import JupyterServer, notebook, raw_request
from tests.helpers.memory_store import MemoryStore
from tests.helpers.team import library_of, team_config

# The server's own token is alice's; "carol-token" is carol's. carol may read but not publish.
TEAM_AUTH = """
from jupyter_server.auth import Authorizer, IdentityProvider, User

class TeamTokens(IdentityProvider):
    def get_user(self, handler):
        header = handler.request.headers.get("Authorization", "")
        name = {f"token {self.token}": "alice", "token carol-token": "carol"}.get(header)
        if name is None:
            return None
        handler._token_authenticated = True
        return User(name)

class NoPublishingForCarol(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        return not (user.username == "carol" and action == "publish" and resource == "bookstore")

c.ServerApp.identity_provider_class = TeamTokens
c.ServerApp.authorizer_class = NoPublishingForCarol
c.Bookstore.username = "alice"
"""


def nb(source: str) -> bytes:
    return (json.dumps(notebook(source)) + "\n").encode()


# -- fixtures: one bucket and one server for the module --------------------------------------


def publish_bobs_report(store: Store) -> dict[str, Any]:
    """bob's report, published twice (the second is the latest)."""
    library = library_of(store, "bob")
    first = library.publish_saved("analysis/report.ipynb", nb("x = 1  # bob v1"), published_by="bob")
    second = library.publish_saved("analysis/report.ipynb", nb("x = 2  # bob v2"), published_by="bob")
    return {
        "notebook_key": "bob/notebooks/analysis/report.ipynb",
        "first": first.version_id,
        "latest": second.version_id,
    }


@pytest.fixture(scope="module")
def bob(s3: S3Store) -> dict[str, Any]:
    """bob's report in the module's bucket, which its server reads."""
    return publish_bobs_report(s3)


@pytest.fixture(scope="module")
def jupyter_config(s3_server: SeaweedFS, module_bucket: str) -> str:
    """The module's :func:`~tests.conftest.server` has the team's configuration."""
    return team_config(s3_server, module_bucket) + TEAM_AUTH


def as_carol(server: JupyterServer, method: str, path: str, **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", 60)
    return server.session.request(
        method, f"{server.url}{path}", headers={"Authorization": "token carol-token"}, **kwargs
    )


def catalog(server: JupyterServer, **params: Any) -> dict[str, Any]:
    answer = server.request("GET", "/api/bookstore/catalog", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def every_entry(server: JupyterServer) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        page = catalog(server, limit=1000, **({"cursor": cursor} if cursor else {}))
        entries.update({entry["notebook_key"]: entry for entry in page["notebooks"]})
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def all_keys(s3: S3Store) -> set[str]:
    listing = s3._client.list_object_versions(Bucket=s3.bucket)
    return {item["Key"] for item in listing.get("Versions", [])}


# -- the library (on the in-memory store) ----------------------------------------------------


def test_the_catalog_lists_every_users_latest_version_with_owner_and_publisher(
    memory_store: MemoryStore,
) -> None:
    bob = publish_bobs_report(memory_store)
    alice = library_of(memory_store, "alice")
    mine = alice.publish_saved("a/mine.ipynb", nb("y = 1"), published_by="alice")
    alice.ensure_archived("draft.ipynb", nb("a draft that stays in the workspace"))
    entries = {entry.notebook_key: entry for entry in alice.catalog.page(limit=1000).notebooks}
    report = entries[bob["notebook_key"]]
    assert report.key == "published/" + bob["notebook_key"]
    assert (report.owner, report.version_id, report.published_by) == ("bob", bob["latest"], "bob")
    assert report.size == len(nb("x = 2  # bob v2"))
    assert entries["alice/notebooks/a/mine.ipynb"].version_id == mine.version_id
    assert not any("draft" in key for key in entries)
    assert all(not entry.key.startswith("workspace/") for entry in entries.values())


def test_catalog_pages_cover_every_notebook_once(memory_store: MemoryStore) -> None:
    publish_bobs_report(memory_store)
    library = library_of(memory_store, f"pager-{uuid.uuid4().hex[:6]}")
    for name in ("a", "b", "c", "d", "e"):
        library.publish_saved(f"{name}.ipynb", nb(name))
    whole = [entry.notebook_key for entry in library.catalog.page(limit=1000).notebooks]
    paged: list[str] = []
    cursor = None
    while True:
        page = library.catalog.page(limit=2, cursor=cursor)
        paged += [entry.notebook_key for entry in page.notebooks]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == whole == sorted(whole)


@pytest.mark.parametrize(
    "notebook_key",
    [
        "../workspace/bob/notebooks/x.ipynb",
        "bob/../../workspace/bob/notebooks/x.ipynb",
        "%2e%2e/workspace/bob/notebooks/x.ipynb",
        "%252e%252e/workspace/x.ipynb",
        "/published/bob/notebooks/x.ipynb",
        "bob//x.ipynb",
        "bob/notebooks/",
        "",
    ],
)
def test_hostile_notebook_keys_are_refused(memory_store: MemoryStore, notebook_key: str) -> None:
    with pytest.raises(InvalidPathError):
        library_of(memory_store, "alice").catalog.key(notebook_key)


def test_a_root_holding_the_workspace_never_reads_it(memory_store: MemoryStore) -> None:
    catalog = Catalog(memory_store, "team", hidden=("team/workspace",))
    with pytest.raises(InvalidPathError, match="names a workspace"):
        catalog.key("workspace/x.ipynb")
    assert catalog.key("published/x.ipynb") == "team/published/x.ipynb"


def test_owners_are_read_from_their_segment() -> None:
    assert owner_of("alice/notebooks/x.ipynb", 0) == "alice"
    assert owner_of("stray.ipynb", 0) is None
    assert owner_of("kylek/notebooks/x.ipynb", None) is None


def test_an_unknown_published_notebook_is_not_found(memory_store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        library_of(memory_store, "alice").catalog.read("nobody/notebooks/none.ipynb")


# -- the REST API ----------------------------------------------------------------------------


def test_publishing_records_who_asked_and_writes_only_under_the_owners_prefix(
    server: JupyterServer, s3: S3Store
) -> None:
    path = f"p{uuid.uuid4().hex[:6]}.ipynb"
    server.save(path, notebook("z = 3"))
    answer = server.request("PUT", f"/api/bookstore/publish/{path}", json={})
    assert answer.status_code == 201, answer.text
    published = answer.json()
    assert published["key"] == f"published/alice/notebooks/{path}"
    assert published["source_key"] == f"workspace/alice/notebooks/{path}"
    info = s3.head(published["key"], published["version_id"])
    assert info.metadata["bookstore-published-by"] == "alice"
    assert {key for key in all_keys(s3) if path in key} == {published["key"], published["source_key"]}
    status = server.status()
    assert status["username"] == "alice" and status["published_root"] == "published"
    assert "catalog" in status["features"]


def test_an_authorizer_can_refuse_publishing_but_not_reading(
    server: JupyterServer, bob: dict[str, Any]
) -> None:
    path = f"c{uuid.uuid4().hex[:6]}.ipynb"
    server.save(path, notebook("refused"))
    refused = as_carol(server, "PUT", f"/api/bookstore/publish/{path}", json={})
    assert refused.status_code == 403
    assert "may not publish" in refused.json()["message"]
    assert "'publish'" in refused.json()["message"] and "'bookstore'" in refused.json()["message"]
    listed = as_carol(server, "GET", "/api/bookstore/catalog")
    assert listed.status_code == 200
    read = as_carol(server, "GET", f"/api/bookstore/published/{bob['notebook_key']}")
    assert read.status_code == 200
    versions = as_carol(server, "GET", f"/api/bookstore/versions/{path}")
    assert versions.status_code in (200, 404)  # allowed: 404 only if the save is still on its way


def test_the_catalog_shows_a_colleagues_latest_version(server: JupyterServer, bob: dict[str, Any]) -> None:
    page = catalog(server, limit=1000)
    assert page["published_root"] == "published"
    entry = {e["notebook_key"]: e for e in page["notebooks"]}[bob["notebook_key"]]
    assert entry == {
        "key": "published/" + bob["notebook_key"],
        "notebook_key": bob["notebook_key"],
        "owner": "bob",
        "version_id": bob["latest"],
        "last_modified": entry["last_modified"],
        "size": entry["size"],
        "published_by": "bob",
    }
    first = catalog(server, limit=1)
    assert len(first["notebooks"]) == 1 and first["next_cursor"]
    second = catalog(server, limit=1, cursor=first["next_cursor"])
    assert second["notebooks"][0]["key"] > first["notebooks"][0]["key"]


@pytest.mark.parametrize(("limit", "cursor"), [("0", ""), ("x", ""), ("1", "not-a-cursor")])
def test_bad_catalog_arguments_are_400(server: JupyterServer, limit: str, cursor: str) -> None:
    answer = server.request("GET", "/api/bookstore/catalog", params={"limit": limit, "cursor": cursor})
    assert answer.status_code == 400 and answer.json()["message"]


def test_any_published_version_reads_by_its_notebook_key(server: JupyterServer, bob: dict[str, Any]) -> None:
    latest = server.request("GET", f"/api/bookstore/published/{bob['notebook_key']}")
    assert latest.status_code == 200
    assert "bob v2" in json.dumps(latest.json())
    assert latest.headers["X-Bookstore-Version-Id"] == bob["latest"]
    first = server.request(
        "GET", f"/api/bookstore/published/{bob['notebook_key']}", params={"version_id": bob["first"]}
    )
    assert "bob v1" in json.dumps(first.json())
    missing = server.request("GET", "/api/bookstore/published/bob/notebooks/none.ipynb")
    assert missing.status_code == 404


@pytest.mark.parametrize("endpoint", ["published", "copy"])
@pytest.mark.parametrize(
    "target",
    [
        "../workspace/bob/notebooks/analysis/report.ipynb",
        "%2E%2E/workspace/bob/notebooks/analysis/report.ipynb",
        "bob/%252e%252e/%252e%252e/workspace/bob/notebooks/x.ipynb",
        "bob/notebooks/..%2F..%2F..%2Fworkspace/x.ipynb",
        "",
    ],
)
def test_hostile_notebook_keys_are_400(server: JupyterServer, endpoint: str, target: str) -> None:
    method = "GET" if endpoint == "published" else "POST"
    status, body = raw_request(
        server, method, f"/api/bookstore/{endpoint}/{target}", b"{}" if method == "POST" else None
    )
    assert status == 400, body
    assert body["message"]


def test_copying_a_colleagues_notebook_into_ones_own_contents(
    server: JupyterServer, bob: dict[str, Any], s3: S3Store
) -> None:
    folder = f"copies-{uuid.uuid4().hex[:6]}"
    server.request("PUT", f"/api/contents/{folder}", json={"type": "directory"})
    bobs_before = {key for key in all_keys(s3) if key.startswith("workspace/bob/")}
    url = f"/api/bookstore/copy/{bob['notebook_key']}"
    first = server.request("POST", url, json={"target_path": f"{folder}/report.ipynb"})
    assert first.status_code == 201, first.text
    assert first.json()["path"] == f"{folder}/report.ipynb"
    assert first.headers["X-Bookstore-Version-Id"] == bob["latest"]
    taken = server.request("POST", url, json={"target_path": f"{folder}/report.ipynb"})
    assert taken.status_code == 409 and "overwrite" in taken.json()["message"]
    older = server.request(
        "POST",
        url,
        json={"target_path": f"{folder}/report.ipynb", "version_id": bob["first"], "overwrite": True},
    )
    assert older.status_code == 200, older.text
    content = server.request("GET", f"/api/contents/{folder}/report.ipynb").json()["content"]
    assert "bob v1" in json.dumps(content)
    # Without a target: the file name, then -copy variants.
    names = [server.request("POST", url, json={}).json()["path"] for _ in range(2)]
    assert names[1] in ("report-copy.ipynb", "report-copy-1.ipynb")
    assert names[0] != names[1] and names[0].startswith("report")
    # A copy is the user's own save: archived to their workspace, never to bob's.
    server.wait_archived()
    keys = all_keys(s3)
    assert f"workspace/alice/notebooks/{folder}/report.ipynb" in keys
    assert {key for key in keys if key.startswith("workspace/bob/")} == bobs_before


def test_comparing_a_colleagues_publication_with_ones_own_notebook(
    server: JupyterServer, bob: dict[str, Any]
) -> None:
    path = f"d{uuid.uuid4().hex[:6]}.ipynb"
    server.save(path, notebook("x = 2  # mine"))
    answer = server.request(
        "GET",
        f"/api/bookstore/diff/{path}",
        params={"base_notebook_key": bob["notebook_key"], "base_version_id": bob["first"]},
    )
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    assert compared["base_version"]["notebook_key"] == bob["notebook_key"]
    assert compared["base_version"]["version_id"] == bob["first"]
    assert compared["remote_version"]["path"] == path
    assert compared["diff"]
    both = server.request(
        "GET",
        f"/api/bookstore/diff/{path}",
        params={"base_notebook_key": bob["notebook_key"], "base_stage": "published"},
    )
    assert both.status_code == 400
    hostile = server.request(
        "GET", f"/api/bookstore/diff/{path}", params={"base_notebook_key": "../workspace/bob/x.ipynb"}
    )
    assert hostile.status_code == 400


# -- the CLI ---------------------------------------------------------------------------------


def test_bookstore_catalog_lists_the_team(
    tmp_path: Path, s3_server: SeaweedFS, module_bucket: str, bob: dict[str, Any]
) -> None:
    cli = Cli(tmp_path, team_config(s3_server, module_bucket))
    env = clean_env(tmp_path, JUPYTERHUB_USER="dave")
    listed = cli("catalog", "--limit", "1000", env=env)
    assert listed.exit_code == 0, listed.output
    assert "published notebooks under published/" in listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith(bob["notebook_key"]))
    assert line.split()[1:3] == ["bob", bob["latest"]]
    as_json = json.loads(cli("catalog", "--all", "--limit", "2", "--json", env=env).output)
    entry = {e["notebook_key"]: e for e in as_json["notebooks"]}[bob["notebook_key"]]
    assert (entry["owner"], entry["version_id"], entry["published_by"]) == ("bob", bob["latest"], "bob")
    assert as_json["next_cursor"] is None
