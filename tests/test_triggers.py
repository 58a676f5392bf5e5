"""The publication watcher, driven directly against a real SeaweedFS: which versions it
announces, in which order, and where it starts. (With a running triggerer and scheduler:
``tests/test_publish_to_run.py``.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bookstore.airflow.triggers import CURSOR, PublishedVersionTrigger, unannounced_versions
from bookstore.s3 import S3Store
from devtools.airflow import connection_json
from devtools.seaweedfs import SeaweedFS
from tests.conftest import new_bucket_name
from tests.notebooks import parameterized_notebook


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def key() -> str:
    return f"published/kylek/notebooks/{uuid.uuid4().hex[:8]}/mine.ipynb"


def publish(store: S3Store, key: str, label: str) -> str:
    version = store.put(key, parameterized_notebook(label), {"bookstore-published-by": "alice"})
    assert version
    return version


def test_versions_newer_than_the_cursor_come_oldest_first(
    s3_server: SeaweedFS, bucket: str, key: str
) -> None:
    store = s3_server.store(bucket)
    assert unannounced_versions(store, key, None) == ([], {"version_id": None, "last_modified": None})
    first = publish(store, key, "first")

    new, latest = unannounced_versions(store, key, None)  # first look: where to start
    assert new == [] and latest["version_id"] == first

    second, third = publish(store, key, "second"), publish(store, key, "third")
    new, latest = unannounced_versions(store, key, latest)
    assert [version for version, _ in new] == [second, third] and latest["version_id"] == third
    # Nothing published yet when the watcher started: the first publication is new.
    new, _ = unannounced_versions(store, key, {"version_id": None, "last_modified": None})
    assert [version for version, _ in new] == [first, second, third]
    # The cursor's version deleted since: what is older than it is not announced again
    # (S3 times are in whole seconds: the older versions are a second and more older).
    time.sleep(1.5)
    fourth = publish(store, key, "fourth")
    _, latest = unannounced_versions(store, key, latest)
    gone = {"version_id": "deleted-version", "last_modified": latest["last_modified"]}
    assert [version for version, _ in unannounced_versions(store, key, gone)[0]] == [fourth]


class Memory:
    """An asset state store kept in memory, as the triggerer's is kept in its database."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    async def aset(self, name: str, value: Any) -> None:
        self.values[name] = value


async def events(trigger: PublishedVersionTrigger, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stream: AsyncIterator[Any] = trigger.run()

    async def collect() -> None:
        async for event in stream:
            found.append(event.payload)
            if len(found) == count:
                return

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        pass
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return found


def test_the_watcher_announces_each_publication_once_across_restarts(
    s3_server: SeaweedFS, bucket: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_BOOKSTORE_DEFAULT",
        connection_json(s3_server.endpoint_url, s3_server.access_key, s3_server.secret_key, bucket),
    )
    store = s3_server.store(bucket)
    before = publish(store, key, "before")
    state = Memory()
    notebook_key = key.removeprefix("published/")

    def watcher() -> PublishedVersionTrigger:
        trigger = PublishedVersionTrigger(notebook_key=notebook_key, poll_interval=0.2)
        trigger.asset_state_store = state  # type: ignore[assignment]
        return trigger

    # First start: it starts from what is published, announcing nothing.
    assert asyncio.run(events(watcher(), 1, timeout=2)) == []
    assert state.values[CURSOR]["version_id"] == before
    # Stopped; two publications meanwhile; started again: both, in order, each once.
    second, third = publish(store, key, "second"), publish(store, key, "third")
    announced = asyncio.run(events(watcher(), 3, timeout=5))
    assert [event["version_id"] for event in announced] == [second, third]
    assert announced[0] == {
        "notebook_key": notebook_key,
        "bucket": bucket,
        "key": key,
        "version_id": second,
        "published_at": announced[0]["published_at"],
        "published_by": "alice",
        "source_version_id": None,
    }
    assert asyncio.run(events(watcher(), 1, timeout=2)) == []
