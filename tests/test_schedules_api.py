"""Schedules and run requests over the REST API of a real ``jupyter server`` and SeaweedFS."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from bookstore.s3 import S3Store
from bookstore.schedules import dag_id
from tests.helpers.jupyter_process import JupyterServer, with_parameters

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
SCHEDULES = "schedules/kylek/notebooks"


@pytest.fixture(scope="module")
def jupyter_config_extra() -> str:
    # Who schedules and asks for runs is recorded as the prefixes' owner, named here.
    return '\nc.Bookstore.username = "kylek"\n'


@pytest.fixture
def name() -> str:
    return f"t{uuid.uuid4().hex[:8]}/mine.ipynb"


def save(server: JupyterServer, path: str, source: str = "print(x)") -> None:
    server.request("PUT", f"/api/contents/{path.rpartition('/')[0]}", json={"type": "directory"})
    server.save(path, with_parameters(source, parameters="x = 1\nlabel = 'a'", **KERNEL))


def publish(server: JupyterServer, path: str) -> str:
    answer = server.request("PUT", f"/api/bookstore/publish/{path}", json={})
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["version_id"])


def put(server: JupyterServer, path: str, body: dict[str, Any]) -> Any:
    return server.request("PUT", f"/api/bookstore/schedules/{path}", json=body)


def test_a_schedule_is_created_changed_listed_and_removed(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save(server, name)
    publish(server, name)
    body = {"name": "daily", "cron": "0 6 * * *", "timezone": "Europe/Paris", "parameters": {"x": 3}}

    created = put(server, name, body)
    changed = put(server, name, {"name": "daily", "enabled": False, "notify": ["kylek@example.com"]})
    mine = server.request("GET", f"/api/bookstore/schedules/{name}")
    team = server.request(
        "GET", "/api/bookstore/schedules", params={"notebook_key": f"kylek/notebooks/{name}"}
    )
    history = server.request(
        "GET", f"/api/bookstore/schedules/{name}", params={"name": "daily", "history": "true"}
    )

    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["dag_id"] == dag_id(f"kylek/notebooks/{name}", "daily")
    assert answer["description"] == "at 06:00 every day (Europe/Paris)"
    # 06:00 in Paris: +01:00 in winter, +02:00 in summer (a change may fall within the three).
    times = [datetime.fromisoformat(t) for t in answer["next_runs"]]
    assert [t.strftime("%H:%M") for t in times] == ["06:00"] * 3
    assert {t.strftime("%z") for t in times} <= {"+0100", "+0200"}
    assert (answer["created_by"], answer["updated_by"]) == ("kylek", "kylek")
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["parameters"], changed.json()["next_runs"]) == (
        False,
        {"x": 3},
        [],
    )
    assert [s["name"] for s in mine.json()["schedules"]] == ["daily"]
    assert mine.json()["schedules"][0]["notify"] == ["kylek@example.com"]
    assert [s["dag_id"] for s in team.json()["schedules"]] == [answer["dag_id"]]
    assert [h["document"]["enabled"] for h in history.json()["history"]] == [False, True]
    stored = json.loads(s3.get(f"{SCHEDULES}/{name}/daily.json").body)
    assert (stored["cron"], stored["timezone"], stored["enabled"]) == ("0 6 * * *", "Europe/Paris", False)

    removed = server.request("DELETE", f"/api/bookstore/schedules/{name}", params={"name": "daily"})
    again = server.request("DELETE", f"/api/bookstore/schedules/{name}", params={"name": "daily"})
    assert removed.status_code == 204
    assert again.status_code == 404 and "has no schedule named 'daily'" in again.json()["message"]
    assert server.request("GET", f"/api/bookstore/schedules/{name}").json()["schedules"] == []


def test_an_unpublished_notebook_cannot_be_scheduled_or_run(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save(server, name)

    scheduled = put(server, name, {"name": "daily", "cron": "0 6 * * *"})
    run = server.request("POST", f"/api/bookstore/runs/{name}", json={})

    for answer in (scheduled, run):
        assert answer.status_code == 409, answer.text
        assert (
            "is not published" in answer.json()["message"] and "publish it first" in answer.json()["message"]
        )
    assert s3.list_keys(f"{SCHEDULES}/{name}/").keys == ()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "daily", "cron": "0 6 * *"}, "has 4 fields"),
        ({"name": "daily", "cron": "0 6 * * *", "timezone": "Mars/Base"}, "is unknown"),
        ({"name": "a/b", "cron": "0 6 * * *"}, "schedule name 'a/b' is refused"),
        ({"cron": "0 6 * * *"}, "name the schedule"),
        ({"name": "daily", "cron": "0 6 * * *", "parameters": "x=3"}, "parameters must be a JSON object"),
        ({"name": "daily", "cron": "0 6 * * *", "parameters": {"y": 1}}, "'y' is not a parameter"),
        ({"name": "daily", "cron": "0 6 * * *", "version_id": "not-a-version"}, "is not a published version"),
        ({"name": "daily", "cron": "0 6 * * *", "owner": "bob"}, "unknown field(s) 'owner'"),
    ],
)
def test_bad_schedules_are_400_and_write_nothing(
    server: JupyterServer, s3: S3Store, name: str, body: dict[str, Any], expected: str
) -> None:
    save(server, name)
    publish(server, name)

    answer = put(server, name, body)

    assert answer.status_code == 400, answer.text
    assert expected in answer.json()["message"]
    assert s3.list_keys(f"{SCHEDULES}/{name}/").keys == ()


def test_a_pinned_version_must_be_published_and_parameters_declared_unless_forced(
    server: JupyterServer, name: str
) -> None:
    save(server, name)
    server.wait_archived()
    workspace = server.request("GET", f"/api/bookstore/versions/{name}").json()["versions"][0]["version_id"]
    published = publish(server, name)

    not_published = put(server, name, {"name": "pinned", "cron": "0 6 * * *", "version_id": workspace})
    pinned = put(server, name, {"name": "pinned", "cron": "0 6 * * *", "version_id": published})
    forced = put(
        server, name, {"name": "forced", "on_publish": True, "parameters": {"y": 1}, "force_parameters": True}
    )

    assert (
        not_published.status_code == 400
        and "is not a published version of" in not_published.json()["message"]
    )
    assert pinned.status_code == 201 and pinned.json()["version_id"] == published
    assert forced.status_code == 201, forced.text
    assert (forced.json()["force_parameters"], forced.json()["description"]) == (True, "at each publication")


def test_run_now_queues_a_request_that_the_runs_list_shows(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save(server, name)
    version = publish(server, name)
    literal = "{{ conn.bookstore_default.password }}"

    asked = server.request(
        "POST", f"/api/bookstore/runs/{name}", json={"parameters": {"x": 5, "label": literal}}
    )
    refused = server.request("POST", f"/api/bookstore/runs/{name}", json={"parameters": {"z": 5}})
    unknown = server.request("POST", f"/api/bookstore/runs/{name}", json={"version_id": "v-gone"})
    runs = server.request("GET", f"/api/bookstore/runs/{name}").json()["runs"]

    assert asked.status_code == 202, asked.text
    queued = asked.json()
    assert (queued["status"], queued["succeeded"], queued["requested_by"]) == ("queued", None, "kylek")
    assert queued["request_id"] == queued["run_id"]
    # Only the request is written (on a hub a user's key writes under its schedules only);
    # the runs list shows it as a queued run until Airflow records the run.
    assert s3.list_keys(f"runs/@records/kylek/notebooks/{name}/").keys == ()
    assert refused.status_code == 400 and "declares x, label" in refused.json()["message"]
    assert unknown.status_code == 400 and "'v-gone' is not a published version" in unknown.json()["message"]
    assert [(r["request_id"], r["status"], r["parameters"]) for r in runs] == [
        (queued["request_id"], "queued", {"x": 5, "label": literal})
    ]
    [request] = s3.list_keys(f"{SCHEDULES}/{name}/@requests/").keys
    stored = json.loads(s3.get(request.key).body)
    assert stored["parameters"] == {"x": 5, "label": literal}  # kept verbatim
    assert (stored["version_id"], stored["notebook_key"]) == (None, f"kylek/notebooks/{name}")
    assert version


def test_a_malformed_document_is_replaced_by_a_valid_schedule_of_its_name(
    server: JupyterServer, s3: S3Store, name: str
) -> None:
    save(server, name)
    publish(server, name)
    s3.put(f"{SCHEDULES}/{name}/daily.json", b"{written by hand")

    listed = server.request("GET", f"/api/bookstore/schedules/{name}").json()["schedules"]
    replaced = put(server, name, {"name": "daily", "cron": "0 6 * * *"})

    assert listed == [{"key": f"{SCHEDULES}/{name}/daily.json", "error": listed[0]["error"]}]
    assert "is not JSON" in listed[0]["error"]
    assert replaced.status_code == 201, replaced.text
    assert (
        server.request("GET", f"/api/bookstore/schedules/{name}").json()["schedules"][0]["cron"]
        == "0 6 * * *"
    )
