"""The contract every storage backend keeps, as tests a backend's test class inherits.

A backend's tests subclass :class:`StoreContract` and provide a ``store`` fixture: a
:class:`~bookstore.store.Store` on a fresh, versioned bucket of a real server (as fsspec's
abstract test suites do)::

    class TestS3Store(StoreContract):
        pass  # conftest.py's ``store`` fixture: SeaweedFS

The in-memory store the core tests use (``tests/helpers/memory_store.py``) keeps it too
(``tests/test_memory_store.py``), so what passes on it holds on S3.
"""

from __future__ import annotations

import hashlib
import io

import pytest

from bookstore.errors import InvalidPathError, NotFoundError, StoreUnavailableError, VersionNotFoundError
from bookstore.store import Store

KEY = "workspace/kylek/notebooks/analysis/mine.ipynb"


def versions_cursor(store: Store) -> str:
    """The next-page cursor of a listing of :data:`KEY`'s versions (two of them put first)."""
    store.put(KEY, b"x")
    store.put(KEY, b"y")
    cursor = store.list_versions(KEY, limit=1).next_cursor
    assert cursor is not None
    return cursor


class StoreContract:
    """Versions, pages, copies, metadata and the errors every backend answers with."""

    def test_put_returns_a_new_version_each_time_and_get_reads_any(self, store: Store) -> None:
        first = store.put(KEY, b'{"v": 1}', {"bookstore-path": "analysis/mine.ipynb"})
        second = store.put(KEY, b'{"v": 2}')
        assert first and second and first != second
        assert store.get(KEY).body == b'{"v": 2}'
        old = store.get(KEY, first)
        assert old.body == b'{"v": 1}'
        assert old.info.version_id == first
        assert old.info.metadata["bookstore-path"] == "analysis/mine.ipynb"
        assert store.head(KEY).version_id == second

    def test_versions_are_listed_newest_first_for_exactly_that_key(self, store: Store) -> None:
        ids = [store.put(KEY, f"{i}".encode() * (i + 1)) for i in range(5)]
        store.put(KEY + ".bak", b"other key")
        store.put("workspace/kylek/notebooks/analysis/mine.ipynb-copy", b"other key")
        versions = list(store.iter_versions(KEY))
        assert [v.version_id for v in versions] == ids[::-1]
        assert [v.size for v in versions] == [5, 4, 3, 2, 1]
        assert [v.is_latest for v in versions] == [True, False, False, False, False]
        assert all(v.key == KEY for v in versions)

    def test_pages_cover_every_version_once(self, store: Store) -> None:
        ids = [store.put(KEY, b"x") for _ in range(7)]
        store.put(KEY + "x", b"neighbour")
        seen: list[str | None] = []
        cursor = None
        pages = 0
        while True:
            page = store.list_versions(KEY, limit=3, cursor=cursor)
            pages += 1
            seen.extend(v.version_id for v in page.versions)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == ids[::-1]
        assert pages == 3
        # A page that ends exactly at the last version says there is no next page.
        assert store.list_versions(KEY, limit=7).next_cursor is None

    def test_a_cursor_from_elsewhere_is_refused(self, store: Store) -> None:
        other = versions_cursor(store)
        with pytest.raises(InvalidPathError, match="another notebook"):
            store.list_versions("workspace/other.ipynb", cursor=other)
        with pytest.raises(InvalidPathError, match="not one this server handed out"):
            store.list_versions(KEY, cursor="not-a-cursor")

    def test_copy_makes_a_new_version_of_the_exact_source_version(self, store: Store) -> None:
        old = store.put(KEY, b"old")
        store.put(KEY, b"new")
        target = "published/kylek/notebooks/analysis/mine.ipynb"
        copied = store.copy(KEY, old, target, {"bookstore-source-version-id": str(old)})
        assert copied
        published = store.get(target)
        assert published.body == b"old"
        assert published.info.version_id == copied
        assert published.info.metadata == {"bookstore-source-version-id": old}

    def test_metadata_that_is_not_ascii_round_trips(self, store: Store) -> None:
        store.put(KEY, b"x", {"bookstore-path": "données/été 100%.ipynb", "params": '{"x": "ü"}'})
        assert store.head(KEY).metadata == {
            "bookstore-path": "données/été 100%.ipynb",
            "params": '{"x": "ü"}',
        }

    def test_unknown_key_and_version_are_told_apart(self, store: Store) -> None:
        with pytest.raises(NotFoundError) as missing:
            store.get("workspace/nope.ipynb")
        assert not isinstance(missing.value, VersionNotFoundError)
        assert "'workspace/nope.ipynb' does not exist" in str(missing.value)
        store.put(KEY, b"x")
        with pytest.raises(VersionNotFoundError, match="version 'no-such-version'"):
            store.get(KEY, "no-such-version")
        # HEAD answers a bare 404 for an unknown version; still a version error.
        with pytest.raises(VersionNotFoundError):
            store.head(KEY, "no-such-version")
        with pytest.raises(VersionNotFoundError):
            store.copy(KEY, "no-such-version", "published/x.ipynb")

    # -- listing current keys (the team catalog) ---------------------------------------------

    def test_current_keys_are_listed_once_each_in_key_order_and_paged(self, store: Store) -> None:
        root = "published/"
        names = ["b/x.ipynb", "a/x.ipynb", "a/y.ipynb", "c.ipynb", "d/e/f.ipynb"]
        for name in names:
            store.put(root + name, b"first")
        store.put(root + "a/x.ipynb", b"second version")  # a new version, not a new key
        store.put("published-other/a.ipynb", b"a neighbour sharing the prefix text")
        store.put("workspace/a.ipynb", b"elsewhere")
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            page = store.list_keys(root, limit=2, cursor=cursor)
            pages += 1
            assert len(page.keys) <= 2
            seen.extend(item.key for item in page.keys)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == sorted(root + name for name in names)
        assert pages == 3
        whole = store.list_keys(root, limit=5)
        assert whole.next_cursor is None
        sizes = {item.key: item.size for item in whole.keys}
        assert sizes[root + "a/x.ipynb"] == len(b"second version")
        assert all(item.last_modified is not None for item in whole.keys)

    def test_a_listing_tag_changes_with_the_content(self, store: Store) -> None:
        store.put(KEY, b"first")
        before = store.list_keys("workspace/").keys[0].etag
        store.put(KEY, b"second")
        after = store.list_keys("workspace/").keys[0].etag
        store.put(KEY, b"second")
        same = store.list_keys("workspace/").keys[0].etag
        assert before and after and before != after
        assert same == after

    def test_a_deleted_key_is_gone_from_listings_and_reads_but_its_versions_stay(self, store: Store) -> None:
        version = store.put(KEY, b"kept in the history")
        store.delete(KEY)
        store.delete(KEY)  # already absent: no error
        store.delete("workspace/never-there.ipynb")

        assert store.list_keys("workspace/").keys == ()
        with pytest.raises(NotFoundError):
            store.get(KEY)
        assert store.get(KEY, version).body == b"kept in the history"
        assert [v.version_id for v in store.list_versions(KEY).versions] == [version]

    def test_an_empty_prefix_lists_nothing(self, store: Store) -> None:
        store.put(KEY, b"x")
        page = store.list_keys("published/")
        assert page.keys == () and page.next_cursor is None

    def test_a_key_cursor_from_another_listing_is_refused(self, store: Store) -> None:
        store.put("published/a.ipynb", b"x")
        store.put("published/b.ipynb", b"x")
        cursor = store.list_keys("published/", limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(InvalidPathError, match="another listing"):
            store.list_keys("workspace/", cursor=cursor)
        with pytest.raises(InvalidPathError, match="not one this server handed out"):
            store.list_keys("published/", cursor=versions_cursor(store))

    def test_head_many_answers_each_target_or_its_error_in_order(self, store: Store) -> None:
        first = store.put(KEY, b"one", {"bookstore-path": "a.ipynb"})
        store.put(KEY, b"two")
        targets = [(KEY, first), ("workspace/missing.ipynb", None), (KEY, "no-such-version"), (KEY, None)]
        found = store.head_many(targets * 3)  # more than one at a time
        assert len(found) == 12
        for answer in (found[0], found[4], found[8]):
            assert not isinstance(answer, BaseException)
            assert (answer.version_id, answer.metadata) == (first, {"bookstore-path": "a.ipynb"})
        assert isinstance(found[1], NotFoundError) and not isinstance(found[1], VersionNotFoundError)
        assert isinstance(found[2], VersionNotFoundError)
        assert not isinstance(found[3], BaseException) and found[3].size == 3

    def test_put_file_stores_the_given_bytes_of_a_file_with_metadata(self, store: Store) -> None:
        source = io.BytesIO(b"header\n" + b"notebook bytes" + b"trailing")
        source.readline()
        version = store.put_file(KEY, source, len(b"notebook bytes"), {"bookstore-path": "a.ipynb"})
        stored = store.get(KEY, version)
        assert stored.body == b"notebook bytes"
        assert stored.info.metadata["bookstore-path"] == "a.ipynb"

    def test_bytes_that_do_not_match_their_sha256_are_refused_and_not_stored(self, store: Store) -> None:
        body = b"notebook bytes"
        right = hashlib.sha256(body).hexdigest()
        wrong = hashlib.sha256(b"other bytes").hexdigest()
        with pytest.raises(StoreUnavailableError):
            store.put_file(KEY, io.BytesIO(body), len(body), sha256=wrong)
        with pytest.raises(NotFoundError):
            store.head(KEY)
        version = store.put_file(KEY, io.BytesIO(body), len(body), sha256=right)
        assert store.get(KEY, version).body == body
