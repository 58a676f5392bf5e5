"""``bookstore schedule``, ``schedules``, ``unschedule`` and ``run --on-airflow``: in-process
against a real SeaweedFS, and side by side with the REST API of a real ``jupyter server`` on
the same bucket and configuration."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from bookstore.s3 import S3Store
from bookstore.schedules import dag_id
from tests.helpers.cli import clean_env, invoke
from tests.helpers.jupyter_process import JupyterServer
from tests.helpers.notebooks import parameterized_notebook

PUBLISHED = "published/kylek/notebooks"
SCHEDULES = "schedules/kylek/notebooks"


@pytest.fixture(scope="module")
def jupyter_config_extra() -> str:
    # Who schedules is recorded as the prefixes' owner, named here (as in test_schedules_api).
    return '\nc.Bookstore.username = "kylek"\n'


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, jupyter_config: str) -> Path:
    """The module's Jupyter server's own config file: the CLI reads the same lines."""
    file = tmp_path_factory.mktemp("cli") / "jupyter_server_config.py"
    file.write_text(jupyter_config)
    return file


def bookstore(config: Path, *args: str) -> Result:
    """``bookstore ARGS --config CONFIG`` in an environment without AWS or bookstore settings."""
    return invoke(*args, "--config", str(config), env=clean_env(config.parent), cwd=config.parent)


def ok_json(done: Result) -> Any:
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def path() -> str:
    return f"t{uuid.uuid4().hex[:8]}/mine.ipynb"


def publish(s3: S3Store, path: str, label: str = "published") -> str:
    """A publication of ``path`` (a notebook declaring ``x`` and ``run_date``): its version id."""
    return str(s3.put(f"{PUBLISHED}/{path}", parameterized_notebook(label)))


def stored_schedules(s3: S3Store, path: str) -> list[str]:
    return [stored.key for stored in s3.list_keys(f"{SCHEDULES}/{path}/").keys]


def without_next_runs(listing: dict[str, Any]) -> dict[str, Any]:
    return {**listing, "schedules": [{**s, "next_runs": None} for s in listing["schedules"]]}


def test_a_schedule_is_created_changed_listed_and_removed(config: Path, s3: S3Store, path: str) -> None:
    publish(s3, path)
    notebook_key = f"kylek/notebooks/{path}"

    created = ok_json(
        bookstore(
            config,
            "schedule",
            path,
            "daily",
            "--cron",
            "0 6 * * *",
            "--timezone",
            "Europe/Paris",
            "-p",
            "x",
            "3",
            "-p",
            "run_date",
            "2026-03-04",
            "--json",
        )
    )
    changed = bookstore(config, "schedule", path, "daily", "--disable", "--notify", "kylek@example.com")

    assert created["created"] is True
    assert created["dag_id"] == dag_id(notebook_key, "daily")
    assert created["description"] == "at 06:00 every day (Europe/Paris)"
    times = [datetime.fromisoformat(moment) for moment in created["next_runs"]]
    assert len(times) == 3 and {(t.hour, t.minute) for t in times} == {(6, 0)}
    assert {t.strftime("%z") for t in times} <= {"+0100", "+0200"}  # Paris time
    assert created["parameters"] == {"x": 3, "run_date": "2026-03-04"}  # JSON when it parses, else text
    assert (created["created_by"], created["updated_by"]) == ("kylek", "kylek")
    # Only what was given changed; said for people.
    assert changed.exit_code == 0, changed.stderr
    assert f"changed schedule 'daily' of {notebook_key}" in changed.stdout
    assert "when        at 06:00 every day (Europe/Paris); disabled" in changed.stdout
    assert 'parameters  {"run_date": "2026-03-04", "x": 3}' in changed.stdout  # as stored: sorted
    assert "notify      kylek@example.com" in changed.stdout
    assert f"dag_id      {created['dag_id']}" in changed.stdout
    assert "next runs   none while disabled" in changed.stdout
    stored = json.loads(s3.get(f"{SCHEDULES}/{path}/daily.json").body)
    assert (stored["cron"], stored["enabled"], stored["notify"]) == (
        "0 6 * * *",
        False,
        ["kylek@example.com"],
    )

    enabled = bookstore(config, "schedule", path, "daily", "--enable")
    listed = ok_json(bookstore(config, "schedules", path, "--json"))
    printed = bookstore(config, "schedules", path)
    assert enabled.exit_code == 0, enabled.stderr
    first_run = datetime.fromisoformat(created["next_runs"][0]).strftime("%Y-%m-%d 06:00")
    assert f"next runs   {first_run} CE" in enabled.stdout  # CET or CEST, Paris time
    assert listed["notebook_key"] == notebook_key
    assert [(s["name"], s["enabled"], s["dag_id"]) for s in listed["schedules"]] == [
        ("daily", True, created["dag_id"])
    ]
    assert printed.stdout.splitlines()[1].split() == [
        "NAME", "WHEN", "NEXT", "RUN", "VERSION", "PARAMETERS", "DAG", "ID"
    ]  # fmt: skip
    assert printed.stdout.splitlines()[2].startswith("daily  at 06:00 every day (Europe/Paris)  ")

    removed = bookstore(config, "unschedule", path, "daily")
    again = bookstore(config, "unschedule", path, "daily")
    assert removed.exit_code == 0, removed.stderr
    assert f"removed schedule 'daily' of {notebook_key}" in removed.stdout
    assert again.exit_code == 3 and "has no schedule named 'daily'" in again.stderr
    assert stored_schedules(s3, path) == []
    assert "no schedules of" in bookstore(config, "schedules", path).stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--cron", "0 6 * *"), "has 4 fields"),
        (("--cron", "0 6 * * *", "--timezone", "Mars/Base"), "is unknown"),
        (("--cron", "61 6 * * *"), "is not valid"),
        (("--cron", "0 6 * * *", "-p", "y", "1"), "'y' is not a parameter"),
        (("--cron", "0 6 * * *", "--version-id", "not-a-version"), "is not a published version"),
        (("--cron", "0 6 * * *", "--retries", "11"), "retries must be a whole number from 0 to 10"),
        (("--cron", "0 6 * * *", "--timeout", "0"), "timeout must be a whole number from 1 to 1440"),
        (("--cron", "0 6 * * *", "--notify", "nobody"), "'nobody' is not an e-mail address"),
        (("--cron", "0 6 * * *", "--retries", "many"), "'many' is not a valid integer"),
        (("--timezone", "UTC"), "a schedule needs a cron"),
        (("--on-publish", "--version-id", "v1", "--latest"), "give --version-id (pin a version) or --latest"),
    ],
)
def test_bad_schedules_exit_2_and_write_nothing(
    config: Path, s3: S3Store, path: str, args: tuple[str, ...], expected: str
) -> None:
    publish(s3, path)

    done = bookstore(config, "schedule", path, "daily", *args)

    assert done.exit_code == 2, (done.stdout, done.stderr)
    assert expected in done.stderr
    assert stored_schedules(s3, path) == []


def test_bad_names_and_paths_exit_2(config: Path, s3: S3Store, path: str) -> None:
    publish(s3, path)

    name = bookstore(config, "schedule", path, "a/b", "--cron", "0 6 * * *")
    escape = bookstore(config, "schedule", "../../../secret.ipynb", "daily", "--cron", "0 6 * * *")

    assert name.exit_code == 2 and "schedule name 'a/b' is refused" in name.stderr
    assert escape.exit_code == 2 and "bookstore: error: " in escape.stderr
    assert stored_schedules(s3, path) == []


def test_an_unpublished_notebook_cannot_be_scheduled_or_run_on_airflow(
    config: Path, s3: S3Store, path: str
) -> None:
    scheduled = bookstore(config, "schedule", path, "daily", "--cron", "0 6 * * *")
    asked = bookstore(config, "run", path, "--on-airflow")

    for done in (scheduled, asked):
        assert done.exit_code == 4, done.stderr
        assert "is not published" in done.stderr and "publish it first" in done.stderr
    assert s3.list_keys(f"{SCHEDULES}/{path}/").keys == ()


def test_pinned_latest_on_publish_and_forced_parameters(config: Path, s3: S3Store, path: str) -> None:
    first = publish(s3, path, "first")
    publish(s3, path, "second")

    pinned = ok_json(
        bookstore(config, "schedule", path, "release", "--on-publish", "--version-id", first, "--json")
    )
    printed = bookstore(config, "schedule", path, "release", "--retries", "2", "--timeout", "30")
    latest = ok_json(bookstore(config, "schedule", path, "release", "--latest", "--json"))
    refused = bookstore(config, "schedule", path, "forced", "--cron", "*/5 * * * *", "-p", "y", "1")
    forced = ok_json(
        bookstore(
            config, "schedule", path, "forced", "--cron", "*/5 * * * *", "-p", "y", "1", "--force-parameters",
            "--json",
        )
    )  # fmt: skip

    assert (pinned["version_id"], pinned["description"], pinned["next_runs"]) == (
        first,
        "at each publication",
        [],
    )
    assert printed.exit_code == 0, printed.stderr
    assert f"version     pinned {first}" in printed.stdout
    assert "retries     2" in printed.stdout and "timeout     30 minutes" in printed.stdout
    assert "next runs   at each publication" in printed.stdout
    assert (latest["version_id"], latest["on_publish"], latest["retries"], latest["timeout"]) == (
        None,
        True,
        2,
        30,
    )
    assert refused.exit_code == 2 and "declares x, run_date" in refused.stderr
    assert (forced["force_parameters"], forced["parameters"]) == (True, {"y": 1})
    assert forced["description"] == "cron */5 * * * * (UTC)"


def test_notify_given_empty_tells_nobody(config: Path, s3: S3Store, path: str) -> None:
    publish(s3, path)
    told = ok_json(
        bookstore(config, "schedule", path, "d", "--cron", "0 6 * * *", "--notify", "a@example.com", "--json")
    )
    cleared = ok_json(bookstore(config, "schedule", path, "d", "--notify", "", "--json"))

    assert (told["notify"], cleared["notify"], cleared["cron"]) == (["a@example.com"], [], "0 6 * * *")


def test_without_an_owner_in_the_config_no_one_is_recorded(
    config: Path, s3: S3Store, path: str, tmp_path: Path
) -> None:
    """Static prefixes name no one unless c.Bookstore.username does: as the REST API records
    requests made with Jupyter's own token, not the OS login running the command."""
    anonymous = tmp_path / "jupyter_server_config.py"
    anonymous.write_text(config.read_text().replace('c.Bookstore.username = "kylek"', ""))
    publish(s3, path)

    scheduled = ok_json(bookstore(anonymous, "schedule", path, "daily", "--cron", "0 6 * * *", "--json"))
    asked = ok_json(bookstore(anonymous, "run", path, "--on-airflow", "--json"))
    runs = bookstore(anonymous, "runs", path)

    assert (scheduled["created_by"], scheduled["updated_by"], asked["requested_by"]) == (None, None, None)
    assert f"requested (request {asked['request_id']})" in runs.stdout


def test_the_team_listing_marks_a_malformed_document_which_unschedule_removes(
    config: Path, s3: S3Store, path: str
) -> None:
    other = f"t{uuid.uuid4().hex[:8]}/other.ipynb"
    publish(s3, path)
    publish(s3, other)
    daily = ok_json(bookstore(config, "schedule", path, "daily", "--cron", "0 6 * * *", "--json"))
    hourly = ok_json(bookstore(config, "schedule", other, "hourly", "--cron", "5 * * * *", "--json"))
    broken = f"{SCHEDULES}/{path}/broken.json"
    s3.put(broken, b'{"name": "broken", "cron": ')  # written by hand, cut short

    team = ok_json(bookstore(config, "schedules", "--json"))
    mine = bookstore(config, "schedules", path)
    everyone = bookstore(config, "schedules")

    ours = {entry.get("dag_id") or entry["key"]: entry for entry in team["schedules"]}
    assert team["schedules_root"] == "schedules"
    assert ours[daily["dag_id"]]["description"] == "at 06:00 every day (UTC)"
    assert ours[hourly["dag_id"]]["description"] == "every hour at minute 5 (UTC)"
    assert "is not JSON" in ours[broken]["error"]
    assert mine.exit_code == 0, mine.stderr
    assert "malformed schedule documents (Airflow skips them):" in mine.stdout
    assert f"  '{broken}' is not JSON: " in mine.stdout
    assert "WARNING" not in mine.stderr  # said once, in the listing
    assert f"remove one: bookstore unschedule {path} NAME" in mine.stdout
    assert everyone.stdout.startswith("schedules under schedules/\nNOTEBOOK KEY  ")
    [row] = [line for line in everyone.stdout.splitlines() if line.startswith(f"kylek/notebooks/{other} ")]
    assert re.split(r"\s{2,}", row)[:3] == [
        f"kylek/notebooks/{other}",
        "hourly",
        "every hour at minute 5 (UTC)",
    ]

    removed = bookstore(config, "unschedule", path, "broken")
    assert removed.exit_code == 0, removed.stderr
    assert stored_schedules(s3, path) == [f"{SCHEDULES}/{path}/daily.json"]


def test_history_lists_every_change_newest_first(config: Path, s3: S3Store, path: str) -> None:
    publish(s3, path)
    assert bookstore(config, "schedule", path, "daily", "--cron", "0 6 * * *").exit_code == 0
    assert bookstore(config, "schedule", path, "daily", "-p", "x", "2").exit_code == 0
    assert bookstore(config, "schedule", path, "daily", "--cron", "30 7 * * 1").exit_code == 0
    assert bookstore(config, "unschedule", path, "daily").exit_code == 0

    history = ok_json(bookstore(config, "schedules", path, "--name", "daily", "--history", "--json"))
    printed = bookstore(config, "schedules", path, "--name", "daily", "--history")
    no_name = bookstore(config, "schedules", path, "--history")
    no_path = bookstore(config, "schedules", "--name", "daily")
    never = bookstore(config, "schedules", path, "--name", "weekly", "--history")

    assert [(h["document"]["cron"], h["document"]["parameters"]) for h in history["history"]] == [
        ("30 7 * * 1", {"x": 2}),
        ("0 6 * * *", {"x": 2}),
        ("0 6 * * *", {}),
    ]
    assert (history["notebook_key"], history["name"]) == (f"kylek/notebooks/{path}", "daily")
    lines = printed.stdout.splitlines()
    assert lines[0] == f"changes of schedule 'daily' of kylek/notebooks/{path}, newest first"
    assert re.split(r"\s{2,}", lines[1]) == [
        "CHANGED", "BY", "WHEN", "VERSION", "PARAMETERS", "DOCUMENT VERSION ID"
    ]  # fmt: skip
    newest, oldest = re.split(r"\s{2,}", lines[2]), re.split(r"\s{2,}", lines[4])
    assert newest[1:5] == ["kylek", "at 07:30 on Monday (UTC)", "latest", '{"x": 2}']
    assert oldest[1:5] == ["kylek", "at 06:00 every day (UTC)", "latest", "{}"]
    assert oldest[5] == history["history"][2]["version_id"]
    assert no_name.exit_code == 2 and "give PATH and --name NAME" in no_name.stderr
    assert no_path.exit_code == 2 and "--name needs PATH" in no_path.stderr
    assert never.exit_code == 3 and "has never had a schedule named 'weekly'" in never.stderr


def test_run_on_airflow_queues_a_request_that_runs_lists(config: Path, s3: S3Store, path: str) -> None:
    version = publish(s3, path)
    literal = "{{ var.value.x }}"

    asked = ok_json(
        bookstore(config, "run", path, "--on-airflow", "-p", "x", "5", "-p", "run_date", literal, "--json")
    )
    printed = bookstore(config, "run", path, "--on-airflow", "--version-id", version)
    listed = ok_json(bookstore(config, "runs", path, "--json"))
    runs = bookstore(config, "runs", path)

    assert (asked["status"], asked["succeeded"], asked["requested_by"]) == ("queued", None, "kylek")
    assert asked["request_id"] == asked["run_id"]
    assert asked["parameters"] == {"x": 5, "run_date": literal}
    assert printed.exit_code == 0, printed.stderr
    second = printed.stdout.split("request_id  ")[1].split()[0]
    assert f"version     pinned {version}" in printed.stdout
    assert f"follow it with: bookstore runs {path}" in printed.stdout
    assert [(r["request_id"], r["status"], r["source_version_id"]) for r in listed["runs"]] == [
        (second, "queued", version),
        (asked["request_id"], "queued", None),
    ]
    assert runs.exit_code == 0, runs.stderr
    queued_row = re.split(r"\s{2,}", runs.stdout.splitlines()[-1])
    assert queued_row[1:] == [
        "queued", "latest", '{"run_date": "{{ var.value.x }}", "x": 5}',
        f"requested by kylek (request {asked['request_id']})", "-",
    ]  # fmt: skip
    # Queued in the bucket for Airflow, parameters verbatim; nothing ran here.
    requests = [json.loads(s3.get(k.key).body) for k in s3.list_keys(f"{SCHEDULES}/{path}/@requests/").keys]
    assert {r["request_id"]: r["parameters"] for r in requests} == {
        asked["request_id"]: {"x": 5, "run_date": literal},
        second: {},
    }
    assert [k.key for k in s3.list_keys("runs/").keys if path in k.key and "/@records/" not in k.key] == []


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (("-p", "z", "1"), 2, "declares x, run_date"),
        (("--version-id", "v-gone"), 2, "'v-gone' is not a published version"),
        (("--output", "runs/mine.ipynb"), 2, "--on-airflow takes no --output"),
        (("--kernel", "python3", "--runs-prefix", "r"), 2, "--on-airflow takes no --kernel, --runs-prefix"),
    ],
)
def test_bad_run_requests_exit_2_and_queue_nothing(
    config: Path, s3: S3Store, path: str, args: tuple[str, ...], code: int, expected: str
) -> None:
    publish(s3, path)

    done = bookstore(config, "run", path, "--on-airflow", *args)

    assert done.exit_code == code, (done.stdout, done.stderr)
    assert expected in done.stderr
    assert s3.list_keys(f"{SCHEDULES}/{path}/").keys == ()
    assert ok_json(bookstore(config, "runs", path, "--json"))["runs"] == []


def test_the_cli_and_the_rest_api_answer_alike(
    config: Path, s3: S3Store, server: JupyterServer, path: str
) -> None:
    publish(s3, path)
    notebook_key = f"kylek/notebooks/{path}"
    body = {"name": "daily", "cron": "0 6 * * *", "timezone": "Europe/Paris", "parameters": {"x": 3}}

    by_cli = ok_json(
        bookstore(
            config, "schedule", path, "daily", "--cron", "0 6 * * *", "--timezone", "Europe/Paris",
            "-p", "x", "3", "--json",
        )
    )  # fmt: skip
    by_rest = server.request("PUT", f"/api/bookstore/schedules/{path}", json={**body, "name": "weekly"})
    cli_listing = ok_json(bookstore(config, "schedules", path, "--json"))
    rest_listing = server.request("GET", f"/api/bookstore/schedules/{path}").json()
    cli_team = ok_json(bookstore(config, "schedules", "--json"))
    rest_team = server.request("GET", "/api/bookstore/schedules").json()
    cli_history = ok_json(bookstore(config, "schedules", path, "--name", "weekly", "--history", "--json"))
    rest_history = server.request(
        "GET", f"/api/bookstore/schedules/{path}", params={"name": "weekly", "history": "true"}
    ).json()
    asked = ok_json(bookstore(config, "run", path, "--on-airflow", "-p", "x", "4", "--json"))
    rest_runs = server.request("GET", f"/api/bookstore/runs/{path}").json()["runs"]

    assert by_rest.status_code == 201, by_rest.text
    same = {"created", "cron", "timezone", "parameters", "created_by", "next_runs", "description", "enabled"}
    assert {k: by_cli[k] for k in same} == {k: by_rest.json()[k] for k in same}
    assert set(by_cli) == set(by_rest.json())
    assert cli_listing == rest_listing
    assert [s["notebook_key"] for s in cli_listing["schedules"]] == [notebook_key] * 2
    # Other tests' schedules are listed too; those every 5 minutes may move on between the two.
    assert without_next_runs(cli_team) == without_next_runs(rest_team)
    assert cli_history == rest_history
    assert [(r["request_id"], r["status"], r["requested_by"]) for r in rest_runs] == [
        (asked["request_id"], "queued", "kylek")
    ]
