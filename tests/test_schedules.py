"""Schedule documents: what is accepted and refused, their DAG ids and next runs, and how they
are kept in the bucket (a real SeaweedFS)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from bookstore.errors import InvalidRequestError, NotFoundError
from bookstore.s3 import S3Store
from bookstore.schedules import (
    MAX_PARAMETERS_BYTES,
    Schedule,
    ScheduleBook,
    dag_id,
    describe_cron,
    parse_schedule,
    schedule_from_checked,
)

KEY = "alice/notebooks/analysis/mine.ipynb"
NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)


def test_a_new_schedule_takes_its_defaults_and_who_made_it() -> None:
    schedule = parse_schedule({"name": "daily", "cron": "0  6 * * *"}, KEY, by="alice", now=NOW)

    assert schedule == Schedule(
        name="daily",
        notebook_key=KEY,
        cron="0 6 * * *",
        created_by="alice",
        created_at=NOW,
        updated_by="alice",
        updated_at=NOW,
    )
    assert schedule.describe() == "at 06:00 every day (UTC)"
    assert json.loads(json.dumps(schedule.as_json()))["notify"] == []
    # As a parse's cache keeps it, and reads it back unchecked.
    assert schedule_from_checked(json.loads(json.dumps(schedule.as_json()))) == schedule


def test_a_change_keeps_what_it_does_not_name_and_who_created_it() -> None:
    first = parse_schedule(
        {"name": "daily", "cron": "0 6 * * *", "timezone": "Europe/Paris", "parameters": {"x": 3}},
        KEY,
        by="alice",
        now=NOW,
    )
    later = datetime(2026, 12, 7, tzinfo=UTC)

    changed = parse_schedule(
        {"enabled": False, "notify": "a@example.com, b@example.org"}, KEY, by="bob", existing=first, now=later
    )

    assert (changed.cron, changed.timezone, changed.parameters) == ("0 6 * * *", "Europe/Paris", {"x": 3})
    assert changed.notify == ("a@example.com", "b@example.org")
    assert (changed.created_by, changed.created_at, changed.updated_by, changed.updated_at) == (
        "alice",
        NOW,
        "bob",
        later,
    )
    assert changed.describe() == "at 06:00 every day (Europe/Paris); disabled"
    assert changed.next_runs() == []


def test_next_runs_are_in_the_schedules_time_zone() -> None:
    schedule = parse_schedule({"name": "d", "cron": "0 6 * * 1", "timezone": "Europe/Paris"}, KEY, now=NOW)

    runs = schedule.next_runs(3, after=NOW)

    assert [run.isoformat() for run in runs] == [
        "2026-12-07T06:00:00+01:00",
        "2026-12-14T06:00:00+01:00",
        "2026-12-21T06:00:00+01:00",
    ]
    assert schedule.describe() == "at 06:00 on Monday (Europe/Paris)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "daily"}, "needs a cron"),
        ({"name": "daily", "cron": "0 6 * *"}, "has 4 fields; give five"),
        ({"name": "daily", "cron": "61 6 * * *"}, "is not valid: minute 0-59"),
        (
            {"name": "daily", "cron": "0 6 * * *", "timezone": "Mars/Olympus"},
            "timezone 'Mars/Olympus' is unknown",
        ),
        ({"name": "daily", "cron": "0 6 * * *", "timezone": "CET-ish"}, "timezone 'CET-ish' is unknown"),
        ({"name": "daily", "cron": "0 6 * * *", "timezone": "../../etc/passwd"}, "is unknown"),
        ({"name": "daily", "cron": "0 6 * * *", "timezone": 1}, "not an IANA time zone"),
        ({"name": "no spaces", "cron": "0 6 * * *"}, "schedule name 'no spaces' is refused"),
        ({"name": "x" * 65, "cron": "0 6 * * *"}, "is refused"),
        ({"name": "../up", "cron": "0 6 * * *"}, "is refused"),
        ({"name": "d", "cron": "0 6 * * *", "parameters": [1, 2]}, "parameters must be a JSON object"),
        (
            {"name": "d", "cron": "0 6 * * *", "parameters": {"x": "y" * MAX_PARAMETERS_BYTES}},
            "at most 65536",
        ),
        ({"name": "d", "cron": "0 6 * * *", "retries": 11}, "retries must be a whole number from 0 to 10"),
        ({"name": "d", "cron": "0 6 * * *", "retries": True}, "retries must be a whole number"),
        ({"name": "d", "cron": "0 6 * * *", "timeout": 0}, "timeout must be a whole number from 1"),
        (
            {"name": "d", "cron": "0 6 * * *", "notify": ["not-an-address"]},
            "'not-an-address' is not an e-mail",
        ),
        ({"name": "d", "cron": "0 6 * * *", "on_publish": "yes"}, "on_publish must be true or false"),
        ({"name": "d", "cron": "0 6 * * *", "version_id": 42}, "version_id must be"),
        ({"name": "d", "cron": "0 6 * * *", "owner": "root"}, "unknown field 'owner'"),
    ],
)
def test_bad_schedules_are_refused_saying_what_to_fix(body: dict, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(")):
        parse_schedule(body, KEY)


def test_dag_ids_are_stable_readable_and_tell_apart_keys_that_read_the_same() -> None:
    one = dag_id(KEY, "daily")
    assert one == dag_id(KEY, "daily")
    assert one.startswith("bookstore_schedule__alice_notebooks_analysis_mine__daily__")
    assert dag_id("alice/notebooks/a b.ipynb", "d") != dag_id("alice/notebooks/a_b.ipynb", "d")
    assert all(c.isalnum() or c in "_.-" for c in dag_id("ål/ø ü.ipynb", "d"))


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("5 * * * *", "every hour at minute 5"),
        ("30 7 * * *", "at 07:30 every day"),
        ("0 6 * * 0", "at 06:00 on Sunday"),
        ("* * * * *", "every minute"),
        ("*/15 * * * *", "cron */15 * * * *"),
    ],
)
def test_common_crons_in_words(cron: str, words: str) -> None:
    assert describe_cron(cron) == words


# -- in the bucket -------------------------------------------------------------------------


@pytest.fixture
def book(s3: S3Store) -> ScheduleBook:
    return ScheduleBook(s3, f"t-{uuid.uuid4().hex[:8]}/schedules")


def test_schedules_are_stored_listed_changed_and_removed_with_their_history(book: ScheduleBook) -> None:
    daily = parse_schedule({"name": "daily", "cron": "0 6 * * *"}, KEY, by="alice")
    hourly = parse_schedule({"name": "hourly", "cron": "5 * * * *", "parameters": {"x": 1}}, KEY, by="alice")
    other = parse_schedule({"name": "daily", "on_publish": True}, "bob/notebooks/b.ipynb", by="bob")
    for schedule in (daily, hourly, other):
        book.put(schedule)
    book.put(parse_schedule({"enabled": False}, KEY, by="alice", existing=daily))

    everyone = book.listing()
    alices = book.listing(KEY)
    assert [(entry.schedule.notebook_key, entry.schedule.name) for entry in everyone if entry.schedule] == [
        (KEY, "daily"),
        (KEY, "hourly"),
        ("bob/notebooks/b.ipynb", "daily"),
    ]
    assert [entry.schedule.name for entry in alices if entry.schedule] == ["daily", "hourly"]
    assert book.get(KEY, "daily").enabled is False
    history = book.history(KEY, "daily")
    assert [h["document"]["enabled"] for h in history] == [False, True]

    book.delete(KEY, "daily")
    assert [entry.schedule.name for entry in book.listing(KEY) if entry.schedule] == ["hourly"]
    with pytest.raises(NotFoundError, match="has no schedule named 'daily'"):
        book.get(KEY, "daily")
    with pytest.raises(NotFoundError):
        book.delete(KEY, "daily")
    assert len(book.history(KEY, "daily")) == 2  # a removed schedule's history stays


def test_a_malformed_document_breaks_only_itself(book: ScheduleBook, s3: S3Store) -> None:
    book.put(parse_schedule({"name": "good", "cron": "0 6 * * *"}, KEY))
    s3.put(f"{book.folder(KEY)}broken.json", b"{not json")
    s3.put(
        f"{book.folder(KEY)}wrong.json",
        json.dumps({"name": "wrong", "notebook_key": KEY, "cron": "every day"}).encode(),
    )
    s3.put(
        f"{book.folder(KEY)}elsewhere.json",
        json.dumps({"name": "other", "notebook_key": KEY, "cron": "0 6 * * *"}).encode(),
    )

    listed = {entry.key.rsplit("/", 1)[-1]: entry for entry in book.listing()}

    assert listed["good.json"].schedule is not None
    assert "is not JSON" in (listed["broken.json"].error or "")
    assert "cron 'every day' has 2 fields" in (listed["wrong.json"].error or "")
    assert "belongs at" in (listed["elsewhere.json"].error or "")
    assert listed["broken.json"].as_json() == {
        "key": listed["broken.json"].key,
        "error": listed["broken.json"].error,
    }

    # Removing a malformed document is how it is fixed: it need not be read first.
    book.delete(KEY, "broken")
    left = [entry.key.rsplit("/", 1)[-1] for entry in book.listing()]
    assert left == ["elsewhere.json", "good.json", "wrong.json"]


def test_an_unchanged_document_is_not_read_again(book: ScheduleBook, s3: S3Store) -> None:
    book.put(parse_schedule({"name": "a", "cron": "0 6 * * *"}, KEY))
    book.put(parse_schedule({"name": "b", "cron": "0 7 * * *"}, KEY))
    first = {entry.key: entry for entry in book.listing()}
    book.put(parse_schedule({"name": "b", "cron": "0 8 * * *"}, KEY))
    reads: list[list[tuple[str, str | None]]] = []
    get_many = s3.get_many

    def counting(targets: list[tuple[str, str | None]]) -> list:
        reads.append(list(targets))
        return get_many(targets)

    s3.get_many = counting  # type: ignore[method-assign]
    try:
        second = book.listing(known=first)
    finally:
        del s3.get_many
    assert reads == [[(book.key(KEY, "b"), None)]]
    assert [entry.schedule.cron for entry in second if entry.schedule] == ["0 6 * * *", "0 8 * * *"]
