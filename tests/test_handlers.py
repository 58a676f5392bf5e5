"""The REST API of the server extension, over real HTTP to a real ``jupyter server`` and SeaweedFS."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import JupyterServer, notebook, raw_request, seed_config
from tests.helpers.notebooks import parameterized_notebook, untagged_notebook

WORKSPACE = "workspace/kylek/notebooks"
PUBLISHED = "published/kylek/notebooks"
ENDPOINTS = ("publish", "versions", "notebook", "parameters", "restore", "diff", "runs", "schedules")
METHOD = {
    "publish": "PUT",
    "versions": "GET",
    "notebook": "GET",
    "parameters": "GET",
    "schedules": "PUT",
    "restore": "POST",
    "diff": "GET",
    "runs": "GET",
}


# -- fixtures: one server for the read-mostly tests of this module -------------------------


@pytest.fixture
def name() -> str:
    """A notebook path no other test uses."""
    return f"t{uuid.uuid4().hex[:8]}/mine.ipynb"


# -- helpers -------------------------------------------------------------------------------


def body_for(endpoint: str) -> bytes | None:
    if endpoint == "publish":
        return b"{}"
    if endpoint == "restore":
        return json.dumps({"version_id": "x"}).encode()
    if endpoint == "schedules":
        return json.dumps({"name": "daily", "cron": "0 6 * * *"}).encode()
    return None


def save_versions(server: JupyterServer, path: str, count: int) -> list[str]:
    """Save ``count`` versions of ``path``; return their sources, oldest first."""
    folder = path.rpartition("/")[0]
    if folder:
        server.request("PUT", f"/api/contents/{folder}", json={"type": "directory"})
    sources = [f"value = {i}  # {path}" for i in range(count)]
    for source in sources:
        server.save(path, notebook(source))
    server.wait_archived()
    return sources


def versions(server: JupyterServer, path: str, stage: str = "workspace", **params: Any) -> dict[str, Any]:
    answer = server.request("GET", f"/api/bookstore/versions/{path}", params={"stage": stage, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def first_source(content: dict[str, Any]) -> str:
    source = content["cells"][0]["source"]
    return "".join(source) if isinstance(source, list) else str(source)


@pytest.fixture(scope="module")
def bucket_keys(s3_server: SeaweedFS, module_bucket: str) -> Any:
    """Every key in the module's bucket, listed by a plain S3 client."""
    client = s3_server.client()

    def keys() -> set[str]:
        listing = client.list_object_versions(Bucket=module_bucket)
        return {item["Key"] for item in listing.get("Versions", [])}

    return keys


# -- status --------------------------------------------------------------------------------


def test_status_reports_bucket_versioning_and_queue_but_no_secret(
    server: JupyterServer, s3_server: SeaweedFS, module_bucket: str
) -> None:
    # "unknown" until the archive queue has checked the bucket, a moment after start-up.
    deadline = time.monotonic() + 60
    while True:
        answer = server.request("GET", "/api/bookstore")
        assert answer.status_code == 200
        status = answer.json()
        if status["versioning"] != "unknown" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["bucket"] == module_bucket
    assert status["bucket_uri"] == f"s3://{module_bucket}"
    assert status["versioning"] == "Enabled"
    assert status["versioning_fix"] is None
    assert set(status["features"]) >= {"publish", "versions", "notebook", "restore", "diff"}
    assert status["workspace_prefix"] == WORKSPACE
    assert {"pending", "last_error"} <= set(status["archive"])
    assert s3_server.secret_key not in answer.text
    assert s3_server.access_key not in answer.text


# -- publish -------------------------------------------------------------------------------


def test_publish_the_saved_notebook_and_find_it_in_both_stages(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save_versions(server, name, 2)
    on_disk = (server.root_dir / name).read_bytes()

    answer = server.request("PUT", f"/api/bookstore/publish/{name}", json={})

    assert answer.status_code == 201, answer.text
    published = answer.json()
    assert published["key"] == f"{PUBLISHED}/{name}"
    workspace = versions(server, name)["versions"]
    assert published["source_version_id"] == workspace[0]["version_id"]
    listed = versions(server, name, "published")
    assert [v["version_id"] for v in listed["versions"]] == [published["version_id"]]
    assert listed["versions"][0]["is_latest"] is True
    assert listed["versions"][0]["size"] == len(on_disk)
    assert listed["versions"][0]["source_version_id"] == published["source_version_id"]
    assert set(workspace[0]) == {"version_id", "last_modified", "saved_at", "size", "is_latest"}
    # Saved a moment before S3 stored it; the publication's time is when it was published.
    saved_at = datetime.fromisoformat(workspace[0]["saved_at"])
    assert saved_at <= datetime.fromisoformat(workspace[0]["last_modified"]) + timedelta(seconds=1)
    assert listed["versions"][0]["saved_at"] >= workspace[0]["saved_at"]
    read = server.request(
        "GET",
        f"/api/bookstore/notebook/{name}",
        params={"stage": "published", "version_id": published["version_id"]},
    )
    assert read.status_code == 200
    assert read.content == on_disk
    metadata = s3.head(published["key"], published["version_id"]).metadata
    assert metadata["bookstore-source-version-id"] == published["source_version_id"]
    assert metadata["bookstore-source-key"] == f"{WORKSPACE}/{name}"
    # The seed's static prefixes name no user, and Jupyter's token names no one: the OS login
    # running the server is not recorded as the publisher beside kylek's prefix.
    assert "bookstore-published-by" not in metadata


def test_a_published_version_put_there_by_another_tool_is_listed_without_a_source(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save_versions(server, name, 1)
    published = server.request("PUT", f"/api/bookstore/publish/{name}", json={}).json()
    foreign = s3.put(f"{PUBLISHED}/{name}", (server.root_dir / name).read_bytes())

    listed = versions(server, name, "published")["versions"]

    assert [v["version_id"] for v in listed] == [foreign, published["version_id"]]
    assert "source_version_id" not in listed[0]
    assert listed[0]["saved_at"] is None
    assert listed[1]["source_version_id"] == published["source_version_id"]


def test_publishing_unchanged_content_answers_200_with_the_published_version(
    server: JupyterServer, name: str
) -> None:
    save_versions(server, name, 1)
    first = server.request("PUT", f"/api/bookstore/publish/{name}", json={})
    again = server.request("PUT", f"/api/bookstore/publish/{name}", json={})
    forced = server.request("PUT", f"/api/bookstore/publish/{name}", json={"force": True})
    bad = server.request("PUT", f"/api/bookstore/publish/{name}", json={"force": "yes"})

    assert (first.status_code, first.json()["unchanged"]) == (201, False)
    assert (again.status_code, again.json()["unchanged"]) == (200, True)
    assert again.json()["version_id"] == first.json()["version_id"]
    assert (forced.status_code, forced.json()["unchanged"]) == (201, False)
    assert bad.status_code == 400 and "'force' must be true or false" in bad.json()["message"]
    listed = versions(server, name, "published")["versions"]
    assert [v["version_id"] for v in listed] == [forced.json()["version_id"], first.json()["version_id"]]


def test_publish_a_given_workspace_version(server: JupyterServer, name: str) -> None:
    sources = save_versions(server, name, 3)
    oldest = versions(server, name)["versions"][-1]["version_id"]

    answer = server.request("PUT", f"/api/bookstore/publish/{name}", json={"version_id": oldest})

    assert answer.status_code == 201, answer.text
    assert answer.json()["source_version_id"] == oldest
    read = server.request("GET", f"/api/bookstore/notebook/{name}", params={"stage": "published"})
    assert first_source(read.json()) == sources[0]


def test_publishing_what_is_not_a_saved_notebook_is_refused(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    missing = server.request("PUT", f"/api/bookstore/publish/{name}", json={})
    assert missing.status_code == 404
    assert "no notebook is saved at" in missing.json()["message"]
    server.request("PUT", "/api/contents/notes.txt", json={"type": "file", "format": "text", "content": "hi"})
    text = server.request("PUT", "/api/bookstore/publish/notes.txt", json={})
    assert text.status_code == 400
    assert "not a notebook" in text.json()["message"]
    unknown = server.request("PUT", f"/api/bookstore/publish/{name}", json={"version_id": "no-such-version"})
    assert unknown.status_code == 404
    assert "no-such-version" in unknown.json()["message"]
    assert not s3.list_versions(f"{PUBLISHED}/{name}").versions


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"versionId": "abc"}', "unknown field(s) 'versionId'"),
        (b'{"version_id": 5}', "'version_id' must be a non-empty string"),
        (b'{"version_id": ""}', "'version_id' must be a non-empty string"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_publish_bodies_are_400_with_a_message(
    server: JupyterServer, s3: S3Store, name: str, body: bytes, expected: str
) -> None:
    save_versions(server, name, 1)
    status, answer = raw_request(server, "PUT", f"/api/bookstore/publish/{name}", body)
    assert status == 400
    assert expected in answer["message"]
    assert not s3.list_versions(f"{PUBLISHED}/{name}").versions


# -- versions and notebook -----------------------------------------------------------------


def test_versions_are_paginated_newest_first(server: JupyterServer, s3: S3Store, name: str) -> None:
    save_versions(server, name, 7)
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = versions(server, name, **params)
        pages.append([v["version_id"] for v in page["versions"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [version_id for page in pages for version_id in page]
    assert listed == [v.version_id for v in s3.iter_versions(f"{WORKSPACE}/{name}")]
    assert len(set(listed)) == 7
    everything = versions(server, name)["versions"]
    assert [v["is_latest"] for v in everything] == [True] + [False] * 6


def test_bad_listing_parameters_are_400(server: JupyterServer, name: str) -> None:
    save_versions(server, name, 1)
    other = f"o{uuid.uuid4().hex[:8]}.ipynb"
    save_versions(server, other, 2)
    foreign_cursor = versions(server, other, limit=1)["next_cursor"]
    for params, expected in [
        ({"stage": "draft"}, "unknown stage 'draft'"),
        ({"limit": "0"}, "limit must be between"),
        ({"limit": "many"}, "not a whole number"),
        ({"cursor": "garbage!"}, "start again without it"),
        ({"cursor": foreign_cursor}, "belongs to another notebook"),
    ]:
        answer = server.request("GET", f"/api/bookstore/versions/{name}", params=params)
        assert answer.status_code == 400, params
        assert expected in answer.json()["message"]


def test_read_any_version_and_refuse_unknown_ones(server: JupyterServer, name: str) -> None:
    sources = save_versions(server, name, 3)
    listed = versions(server, name)["versions"]

    latest = server.request("GET", f"/api/bookstore/notebook/{name}")
    assert latest.status_code == 200
    assert first_source(latest.json()) == sources[-1]
    assert latest.headers["X-Bookstore-Version-Id"] == listed[0]["version_id"]
    oldest = server.request(
        "GET", f"/api/bookstore/notebook/{name}", params={"version_id": listed[-1]["version_id"]}
    )
    assert first_source(oldest.json()) == sources[0]

    for params in ({"version_id": "no-such-version"}, {"stage": "published"}):
        answer = server.request("GET", f"/api/bookstore/notebook/{name}", params=params)
        assert answer.status_code == 404, params
        assert answer.json()["message"]
    unknown = server.request("GET", "/api/bookstore/versions/never/saved.ipynb")
    assert unknown.status_code == 404
    assert "no workspace versions" in unknown.json()["message"]
    stage = server.request("GET", f"/api/bookstore/notebook/{name}", params={"stage": "drafts"})
    assert stage.status_code == 400


# -- compare -------------------------------------------------------------------------------


def diff(server: JupyterServer, path: str, **params: str) -> dict[str, Any]:
    answer = server.request("GET", f"/api/bookstore/diff/{path}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def patched_cell_sources(entries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """(op, what) of each change nbdime made to the cells: source patches and added cells."""
    changes: list[tuple[str, Any]] = []
    for entry in entries:
        if entry["key"] != "cells":
            continue
        for cell in entry["diff"]:
            if cell["op"] == "addrange":
                changes += [("added", "".join(c["source"])) for c in cell["valuelist"]]
            elif cell["op"] == "removerange":
                changes.append(("removed", cell["length"]))
            elif cell["op"] == "patch":
                changes += [("patched", d["key"]) for d in cell["diff"]]
    return changes


def test_compare_versions_with_each_other_and_with_the_saved_notebook(
    server: JupyterServer, name: str
) -> None:
    sources = save_versions(server, name, 2)
    newest, oldest = (v["version_id"] for v in versions(server, name)["versions"])

    with_saved = diff(server, name, base_version_id=oldest)
    assert first_source(with_saved["base"]) == sources[0]
    assert ("patched", "source") in patched_cell_sources(with_saved["diff"])
    assert with_saved["base_version"] == {
        "stage": "workspace",
        "key": f"{WORKSPACE}/{name}",
        "version_id": oldest,
    }
    assert with_saved["remote_version"] == {"stage": None, "path": name, "version_id": None}
    # The latest save is what is on disk: nothing to show.
    assert diff(server, name)["diff"] == []

    published = server.request("PUT", f"/api/bookstore/publish/{name}", json={}).json()
    grown = json.loads((server.root_dir / name).read_text())
    grown["cells"].append({"cell_type": "markdown", "id": "added", "metadata": {}, "source": "a new cell"})
    server.save(name, grown)
    since_published = diff(server, name, base_stage="published")
    assert since_published["base_version"]["version_id"] == published["version_id"]
    assert patched_cell_sources(since_published["diff"]) == [("added", "a new cell")]

    between = diff(
        server,
        name,
        base_version_id=oldest,
        remote_stage="published",
        remote_version_id=published["version_id"],
    )
    assert between["remote_version"]["version_id"] == published["version_id"]
    assert ("patched", "source") in patched_cell_sources(between["diff"])
    assert diff(server, name, base_version_id=newest, remote_stage="published")["diff"] == []


@pytest.mark.parametrize(
    ("params", "status", "expected"),
    [
        ({"base_version_id": "no-such-version"}, 404, "no-such-version"),
        ({"remote_stage": "workspace", "remote_version_id": "no-such-version"}, 404, "no-such-version"),
        ({"base_stage": "published"}, 404, "published"),
        ({"base_stage": "drafts"}, 400, "unknown stage"),
        ({"remote_stage": "drafts"}, 400, "unknown stage"),
    ],
)
def test_bad_compare_requests(
    server: JupyterServer, name: str, params: dict[str, str], status: int, expected: str
) -> None:
    save_versions(server, name, 1)
    answer = server.request("GET", f"/api/bookstore/diff/{name}", params=params)
    assert answer.status_code == status, answer.text
    assert expected in answer.json()["message"]


def test_comparing_with_a_notebook_that_is_not_saved_is_404(server: JupyterServer, name: str) -> None:
    save_versions(server, name, 1)
    (server.root_dir / name).unlink()
    answer = server.request("GET", f"/api/bookstore/diff/{name}")
    assert answer.status_code == 404
    assert "no notebook is saved at" in answer.json()["message"]
    assert "compare two stored versions" in answer.json()["message"]


# -- restore -------------------------------------------------------------------------------


def test_parameters_of_the_saved_notebook_and_of_a_published_version(
    server: JupyterServer, name: str
) -> None:
    untagged = json.loads(untagged_notebook("EU"))
    tagged = json.loads(parameterized_notebook("tagged"))
    server.request("PUT", f"/api/contents/{name.rpartition('/')[0]}", json={"type": "directory"})
    server.save(name, untagged)
    published = server.request("PUT", f"/api/bookstore/publish/{name}", json={})
    assert published.status_code == 201, published.text
    server.save(name, tagged)

    saved = server.request("GET", f"/api/bookstore/parameters/{name}")
    of_published = server.request("GET", f"/api/bookstore/parameters/{name}?stage=published")
    pinned = server.request(
        "GET", f"/api/bookstore/parameters/{name}?stage=published&version_id={published.json()['version_id']}"
    )

    assert saved.status_code == 200, saved.text
    assert saved.json()["cell"] == 0
    assert [(p["name"], p["default"]) for p in saved.json()["parameters"]] == [
        ("x", "1"),
        ("run_date", "'unset'"),
    ]
    for answer in (of_published, pinned):
        assert answer.status_code == 200, answer.text
        assert answer.json() | {"path": name} == {
            "path": name,
            "cell": None,
            "parameters": [],
            "inspectable": True,
            "untagged_cell": 1,
            "untagged_parameters": [{"name": "region", "type": None, "default": "'EU'", "help": ""}],
            "language": "python",
        }


@pytest.mark.parametrize(
    ("query", "status", "expected"),
    [
        ("?stage=drafts", 400, "unknown stage 'drafts'"),
        ("?stage=published&version_id=v-unknown", 404, "v-unknown"),
    ],
)
def test_bad_parameters_requests(
    server: JupyterServer, name: str, query: str, status: int, expected: str
) -> None:
    save_versions(server, name, 1)
    answer = server.request("GET", f"/api/bookstore/parameters/{name}{query}")
    missing = server.request("GET", f"/api/bookstore/parameters/t-none/{name}")
    assert answer.status_code == status, answer.text
    assert expected in answer.json()["message"]
    assert missing.status_code == 404
    assert "save it first, or inspect a stored version" in missing.json()["message"]


def test_restore_writes_a_new_file_by_default(server: JupyterServer, name: str) -> None:
    sources = save_versions(server, name, 2)
    oldest = versions(server, name)["versions"][-1]["version_id"]
    folder = name.rpartition("/")[0]

    first = server.request("POST", f"/api/bookstore/restore/{name}", json={"version_id": oldest})
    second = server.request(
        "POST", f"/api/bookstore/restore/{name}", json={"stage": "workspace", "version_id": oldest}
    )

    assert first.status_code == 201, first.text
    assert first.json()["path"] == f"{folder}/mine-restored.ipynb"
    assert first.json()["type"] == "notebook"
    assert second.json()["path"] == f"{folder}/mine-restored-1.ipynb"
    restored = json.loads((server.root_dir / folder / "mine-restored.ipynb").read_text())
    assert first_source(restored) == sources[0]
    current = json.loads((server.root_dir / name).read_text())
    assert first_source(current) == sources[1]
    # A restore is a save: the restored notebook is archived like any other.
    server.wait_archived()
    assert versions(server, f"{folder}/mine-restored.ipynb")["versions"]


def test_restore_onto_an_existing_file_needs_overwrite(server: JupyterServer, name: str) -> None:
    sources = save_versions(server, name, 2)
    oldest = versions(server, name)["versions"][-1]["version_id"]

    refused = server.request(
        "POST", f"/api/bookstore/restore/{name}", json={"version_id": oldest, "target_path": name}
    )
    assert refused.status_code == 409
    assert "overwrite" in refused.json()["message"]
    assert first_source(json.loads((server.root_dir / name).read_text())) == sources[1]

    replaced = server.request(
        "POST",
        f"/api/bookstore/restore/{name}",
        json={"version_id": oldest, "target_path": name, "overwrite": True},
    )
    assert replaced.status_code == 200, replaced.text
    assert first_source(json.loads((server.root_dir / name).read_text())) == sources[0]


def test_restore_into_a_folder_that_does_not_exist_yet_creates_it(server: JupyterServer, name: str) -> None:
    save_versions(server, name, 1)
    version_id = versions(server, name)["versions"][0]["version_id"]
    target = f"new-{uuid.uuid4().hex[:6]}/deeper/restored.ipynb"
    answer = server.request(
        "POST", f"/api/bookstore/restore/{name}", json={"version_id": version_id, "target_path": target}
    )
    assert answer.status_code == 201, answer.text
    assert (server.root_dir / target).is_file()
    blocked = server.request(
        "POST",
        f"/api/bookstore/restore/{name}",
        json={"version_id": version_id, "target_path": f"{target}/inside.ipynb"},
    )
    assert blocked.status_code == 400 and "is a file" in blocked.json()["message"]


def test_restore_a_published_version(server: JupyterServer, name: str) -> None:
    sources = save_versions(server, name, 1)
    published = server.request("PUT", f"/api/bookstore/publish/{name}", json={}).json()
    target = f"restored-{uuid.uuid4().hex[:6]}.ipynb"

    answer = server.request(
        "POST",
        f"/api/bookstore/restore/{name}",
        json={"stage": "published", "version_id": published["version_id"], "target_path": target},
    )

    assert answer.status_code == 201, answer.text
    assert first_source(json.loads((server.root_dir / target).read_text())) == sources[0]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, "needs 'version_id'"),
        ({"version_id": "v", "stage": "draft"}, 400, "unknown stage"),
        ({"version_id": "v", "overwrite": "yes"}, 400, "'overwrite' must be true or false"),
        ({"version_id": "v", "target": "x.ipynb"}, 400, "unknown field(s) 'target'"),
        ({"version_id": "v", "target_path": "../x.ipynb"}, 400, "'..'"),
        ({"version_id": "v", "target_path": "/tmp/x.ipynb"}, 400, "absolute"),
        ({"version_id": "v", "target_path": "%2e%2e/x.ipynb"}, 400, "'..'"),
        ({"version_id": "no-such-version"}, 404, "no-such-version"),
    ],
)
def test_bad_restore_requests(
    server: JupyterServer, name: str, body: dict[str, Any], status: int, expected: str
) -> None:
    save_versions(server, name, 1)
    before = sorted(p.name for p in server.root_dir.parent.iterdir())
    answer = server.request("POST", f"/api/bookstore/restore/{name}", json=body)
    assert answer.status_code == status, answer.text
    assert expected in answer.json()["message"]
    assert sorted(p.name for p in server.root_dir.parent.iterdir()) == before
    assert not (server.root_dir / name.replace("mine", "mine-restored")).exists()


# -- authentication and hostile paths -------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["", *ENDPOINTS])
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_calls_without_a_valid_token_are_refused_and_publish_nothing(
    server: JupyterServer, s3: S3Store, name: str, endpoint: str, token: str | None
) -> None:
    save_versions(server, name, 1)
    target = f"/api/bookstore/{endpoint}/{name}" if endpoint else "/api/bookstore"
    method = METHOD.get(endpoint, "GET")
    status, reply = raw_request(server, method, target, body_for(endpoint), token=token)
    assert status == 403
    # Jupyter's own words ("'_xsrf' argument missing from POST") tell nobody what to do.
    assert "Authorization: token <token>" in reply["message"], reply
    assert reply["reason"]
    assert not s3.list_versions(f"{PUBLISHED}/{name}").versions
    assert not (server.root_dir / name.replace("mine", "mine-restored")).exists()


HOSTILE = [
    "../secret.ipynb",
    "a/../../secret.ipynb",
    "%2e%2e/secret.ipynb",
    "%2E%2E%2Fsecret.ipynb",
    "a/%2e%2e/%2e%2e/secret.ipynb",
    "%252e%252e%252fsecret.ipynb",
    "/etc/secret.ipynb",
    "%2Fetc%2Fsecret.ipynb",
    "a%5C..%5C..%5Csecret.ipynb",
    "./secret.ipynb",
    "a//secret.ipynb",
    "",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_400_and_reach_nothing(
    server: JupyterServer, bucket_keys: Any, endpoint: str, path: str
) -> None:
    status, answer = raw_request(
        server, METHOD[endpoint], f"/api/bookstore/{endpoint}/{path}", body_for(endpoint)
    )
    assert status == 400, answer
    assert answer["message"]
    keys = bucket_keys()
    assert all(key.startswith((f"{WORKSPACE}/", f"{PUBLISHED}/")) for key in keys)
    assert not any("secret" in key for key in keys)


def test_a_message_with_percent_signs_is_shown_as_is(server: JupyterServer) -> None:
    status, answer = raw_request(server, "GET", "/api/bookstore/versions/%252e%252e/x.ipynb")
    assert status == 400
    assert "'%2e%2e/x.ipynb'" in answer["message"]


# -- S3 outage -----------------------------------------------------------------------------


@pytest.mark.slow
def test_s3_outage_answers_503_while_saving_still_works(
    private_s3: SeaweedFS, jupyter_factory: Any, tmp_path: Path
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    config = seed_config(private_s3, bucket) + "\nc.BookstoreExtension.publish_wait_timeout = 2.0\n"
    server: JupyterServer = jupyter_factory(config)
    save_versions(server, "down.ipynb", 1)
    version_id = versions(server, "down.ipynb")["versions"][0]["version_id"]

    private_s3.kill()
    started = time.monotonic()
    server.save("down.ipynb", notebook("saved during the outage"))
    assert time.monotonic() - started < 5
    assert "saved during the outage" in (server.root_dir / "down.ipynb").read_text()

    calls = [
        ("PUT", "publish/down.ipynb", {}),
        ("PUT", "publish/down.ipynb", {"version_id": version_id}),
        ("GET", "versions/down.ipynb", None),
        ("GET", "notebook/down.ipynb", None),
        ("POST", "restore/down.ipynb", {"version_id": version_id}),
        ("GET", "diff/down.ipynb", None),
    ]
    for method, endpoint, body in calls:
        answer = server.request(method, f"/api/bookstore/{endpoint}", json=body)
        assert answer.status_code == 503, (endpoint, answer.text)
        assert "S3" in answer.json()["message"]
        assert private_s3.secret_key not in answer.text
    status = server.status()
    assert status["archive"]["pending"] >= 1
    assert status["archive"]["last_error"]
