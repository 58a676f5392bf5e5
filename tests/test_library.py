"""Publishing, listing and reading versions (bookstore.library): on the in-memory store, and
against a real SeaweedFS and ``jupyter server`` where S3 itself is what is checked."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import pytest

from bookstore.errors import InvalidPathError, InvalidRequestError, NotFoundError, VersionNotFoundError
from bookstore.jupyter.archive_queue import ArchiveQueue
from bookstore.jupyter.ledger import UploadSettings
from bookstore.jupyter.spool import Spool
from bookstore.library import (
    MAX_PAGE_SIZE,
    Library,
    parse_limit,
    parse_stage,
    restore_candidates,
)
from devtools.faulty_s3 import FaultyS3
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import JupyterServer, notebook
from tests.helpers.memory_store import MemoryStore

WORKSPACE = "workspace/kylek/notebooks"
PUBLISHED = "published/kylek/notebooks"


def nb_bytes(source: str) -> bytes:
    """The same bytes for the same source (cell ids are otherwise random)."""
    nb = notebook(source)
    nb["cells"][0]["id"] = hashlib.sha256(source.encode()).hexdigest()[:8]
    return (json.dumps(nb, indent=1) + "\n").encode()


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    """One bucket for the module (a SeaweedFS takes writes in a limited number of buckets)."""
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def store(memory_store: MemoryStore) -> MemoryStore:
    """The library's logic needs no S3 server (tests needing one take ``bucket``)."""
    return memory_store


@pytest.fixture
def publisher(store: MemoryStore) -> Library:
    """Prefixes of the test's own, so that tests sharing the bucket never meet."""
    test = uuid.uuid4().hex[:8]
    return Library(
        store,
        workspace_prefix=f"/{WORKSPACE}/{test}/",
        published_prefix=f"/{PUBLISHED}/{test}",
        wait_timeout=5.0,
    )


def workspace_count(publisher: Library, path: str) -> int:
    return len(list(publisher.store.iter_versions(publisher.key(path, "workspace"))))


def test_publishing_a_never_archived_notebook_archives_it_first(
    publisher: Library, store: MemoryStore
) -> None:
    body = nb_bytes("x = 1")
    published = publisher.publish_saved("analysis/mine.ipynb", body)

    assert published.key == publisher.key("analysis/mine.ipynb", "published")
    assert published.key.startswith(f"{PUBLISHED}/") and published.key.endswith("/analysis/mine.ipynb")
    assert published.source_key == publisher.key("analysis/mine.ipynb", "workspace")
    source = store.get(published.source_key, published.source_version_id)
    assert source.body == body
    assert source.info.metadata["bookstore-sha256"] == hashlib.sha256(body).hexdigest()
    assert source.info.metadata["bookstore-path"] == "analysis/mine.ipynb"
    copy = store.get(published.key, published.version_id)
    assert copy.body == body
    assert copy.info.metadata["bookstore-source-version-id"] == published.source_version_id
    assert copy.info.metadata["bookstore-source-key"] == published.source_key
    assert published.as_json()["version_id"] == published.version_id


def test_publishing_unchanged_content_answers_the_published_version(
    publisher: Library, store: MemoryStore
) -> None:
    body = nb_bytes("same")
    first = publisher.publish_saved("same.ipynb", body)
    again = publisher.publish_saved("same.ipynb", body)
    by_version = publisher.publish_version("same.ipynb", str(first.source_version_id))

    assert not first.unchanged
    assert again.unchanged and by_version.unchanged
    assert again.version_id == by_version.version_id == first.version_id
    assert again.source_version_id == first.source_version_id
    assert again.as_json()["unchanged"] is True
    assert workspace_count(publisher, "same.ipynb") == 1
    assert [v.version_id for v in store.iter_versions(first.key)] == [first.version_id]

    forced = publisher.publish_saved("same.ipynb", body, force=True)
    assert not forced.unchanged
    assert forced.source_version_id == first.source_version_id
    assert [v.version_id for v in store.iter_versions(first.key)] == [forced.version_id, first.version_id]


def test_republishing_an_older_save_after_a_newer_one_publishes_it(publisher: Library) -> None:
    old = publisher.publish_saved("back.ipynb", nb_bytes("old"))
    publisher.publish_saved("back.ipynb", nb_bytes("new"))
    back = publisher.publish_version("back.ipynb", str(old.source_version_id))
    assert not back.unchanged
    assert back.version_id not in (None, old.version_id)


def test_changed_bytes_are_archived_as_a_new_version(publisher: Library, store: MemoryStore) -> None:
    first = publisher.publish_saved("changing.ipynb", nb_bytes("v1"))
    second = publisher.publish_saved("changing.ipynb", nb_bytes("v2"))

    assert second.source_version_id != first.source_version_id
    assert workspace_count(publisher, "changing.ipynb") == 2
    assert store.get(second.key).body == nb_bytes("v2")


def test_publishing_a_given_workspace_version_copies_exactly_that_one(
    publisher: Library, store: MemoryStore
) -> None:
    key = publisher.key("pinned.ipynb")
    ids = [store.put(key, nb_bytes(f"v{i}")) for i in range(3)]

    published = publisher.publish_version("pinned.ipynb", str(ids[0]))

    assert published.source_version_id == ids[0]
    assert store.get(published.key, published.version_id).body == nb_bytes("v0")
    with pytest.raises(VersionNotFoundError, match="no-such-version"):
        publisher.publish_version("pinned.ipynb", "no-such-version")
    with pytest.raises(NotFoundError):
        publisher.publish_version("never-saved.ipynb", str(ids[0]))


def test_publish_waits_for_the_pending_archive_of_that_notebook(
    publisher: Library, store: MemoryStore, tmp_path: Path
) -> None:
    queue = ArchiveQueue(store, Spool(tmp_path / "spool"), UploadSettings(workers=1))
    try:
        key = publisher.key("busy.ipynb")
        for i in range(15):
            queue.enqueue(key, "busy.ipynb", nb_bytes(f"save {i}"))
        last = nb_bytes("save 14")
        assert queue.pending(key) > 0

        published = publisher.publish_saved("busy.ipynb", last, queue)

        # The queue's own version of the last save was published: nothing archived twice.
        assert queue.pending(key) == 0
        assert workspace_count(publisher, "busy.ipynb") == 15
        source = store.head(key, published.source_version_id)
        assert "bookstore-archived-by" not in source.metadata
        assert store.get(published.key).body == last
    finally:
        queue.stop()


class StuckQueue:
    """Saves whose upload never completes (PendingSaves); a real queue cannot be held there."""

    def pending(self, key: str | None = None) -> int:
        return 1

    def failing(self) -> bool:
        return False

    def wait_for(self, key: str, timeout: float) -> bool:
        time.sleep(timeout)
        return False


def test_publish_waits_a_bounded_time_then_archives_the_bytes_itself(
    publisher: Library, store: MemoryStore
) -> None:
    publisher.wait_timeout = 0.3
    body = nb_bytes("stuck")
    started = time.monotonic()

    published = publisher.publish_saved("stuck.ipynb", body, StuckQueue())

    assert 0.3 <= time.monotonic() - started < 10
    source = store.head(published.source_key, published.source_version_id)
    assert source.metadata["bookstore-archived-by"] == "publish"
    assert store.get(published.key).body == body


def test_versions_are_listed_newest_first_page_by_page(publisher: Library, store: MemoryStore) -> None:
    key = publisher.key("paged.ipynb")
    ids = [store.put(key, nb_bytes(f"v{i}")) for i in range(5)]
    seen: list[str | None] = []
    cursor = None
    pages = 0
    while True:
        page = publisher.versions("paged.ipynb", "workspace", limit=2, cursor=cursor)
        seen += [v.version_id for v in page.versions]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == list(reversed(ids))


def test_a_page_of_published_versions_asks_s3_for_their_sources_once(
    s3_server: SeaweedFS, bucket: str
) -> None:
    """A version never changes, so its details (source, publication time) are remembered by
    version id: listing the page again costs one listing, as a page of saves does."""
    with FaultyS3(s3_server.endpoint_url) as counting:
        library = Library(
            s3_server.store(bucket, endpoint_url=counting.endpoint_url),
            workspace_prefix=f"{WORKSPACE}/{uuid.uuid4().hex[:8]}",
            published_prefix=f"{PUBLISHED}/{uuid.uuid4().hex[:8]}",
        )
        for i in range(3):
            library.publish_saved("cached.ipynb", nb_bytes(f"v{i}"))
        saves = library.versions("cached.ipynb", "workspace")
        first = library.versions("cached.ipynb", "published")
        assert [v.source_version_id for v in first.versions] == [v.version_id for v in saves.versions]
        heads = counting.forwarded.get("HEAD", 0)
        for stage in ("published", "workspace"):
            again = library.versions("cached.ipynb", stage)
        assert counting.forwarded.get("HEAD", 0) == heads  # no HEAD: the details were remembered
        assert library.versions("cached.ipynb", "published") == first
        assert again == saves


def test_unknown_notebooks_and_stages_are_refused(publisher: Library) -> None:
    with pytest.raises(NotFoundError, match="no published versions"):
        publisher.versions("nothing.ipynb", "published")
    with pytest.raises(NotFoundError):
        publisher.read("nothing.ipynb", "workspace")
    with pytest.raises(InvalidRequestError, match="unknown stage 'draft'"):
        publisher.versions("nothing.ipynb", "draft")
    with pytest.raises(InvalidPathError):
        publisher.publish_saved("../escape.ipynb", b"{}")


def test_reading_a_version_that_is_not_a_notebook_says_so(publisher: Library, store: MemoryStore) -> None:
    version = store.put(publisher.key("broken.ipynb"), b"not json")
    assert publisher.read("broken.ipynb", "workspace", version).body == b"not json"
    with pytest.raises(Exception, match="not a notebook"):
        publisher.read_notebook("broken.ipynb", "workspace", version)


def test_stage_limit_and_restore_names() -> None:
    assert parse_stage(None) == "workspace"
    assert parse_stage("published") == "published"
    assert parse_limit(None) == 100
    assert parse_limit("7") == 7
    for bad in ("0", "-1", "x", str(MAX_PAGE_SIZE + 1)):
        with pytest.raises(InvalidRequestError):
            parse_limit(bad)
    names = restore_candidates("a/b/mine.ipynb")
    assert [next(names) for _ in range(3)] == [
        "a/b/mine-restored.ipynb",
        "a/b/mine-restored-1.ipynb",
        "a/b/mine-restored-2.ipynb",
    ]
    assert next(restore_candidates("README")) == "README-restored"


def test_publish_right_after_each_save_publishes_that_save(
    jupyter: JupyterServer, s3_server: SeaweedFS, bucket: str
) -> None:
    store = s3_server.store(bucket)
    name = f"fresh-{uuid.uuid4().hex[:8]}.ipynb"
    for i in range(5):
        jupyter.save(name, notebook(f"y = {i}"))
        on_disk = (jupyter.root_dir / name).read_bytes()
        answer = jupyter.request("PUT", f"/api/bookstore/publish/{name}", json={})
        assert answer.status_code == 201, answer.text
        published = answer.json()
        assert store.get(published["key"], published["version_id"]).body == on_disk
        source = store.head(published["source_key"], published["source_version_id"])
        assert source.metadata["bookstore-sha256"] == hashlib.sha256(on_disk).hexdigest()
    # Publishing waited for the archive instead of storing the saves a second time.
    assert len(list(store.iter_versions(f"{WORKSPACE}/{name}"))) == 5
