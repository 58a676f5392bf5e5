"""The in-memory store the core tests use keeps the same contract as the S3 backend."""

from __future__ import annotations

import pytest

from bookstore.errors import NotFoundError
from bookstore.store import Lifecycle, LifecycleRule
from tests.helpers.memory_store import MemoryStore
from tests.helpers.store_contract import KEY, StoreContract


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


class TestMemoryStore(StoreContract):
    """Every backend's contract, in memory."""


def test_without_versioning_a_write_replaces_the_null_version(store: MemoryStore) -> None:
    kept = store.put(KEY, b"while versioned")
    store.versioning = "Suspended"
    assert store.put(KEY, b"first") is None
    assert store.put(KEY, b"second") is None
    assert [v.version_id for v in store.iter_versions(KEY)] == ["null", kept]
    assert store.get(KEY).body == b"second"
    assert store.get(KEY, kept).body == b"while versioned"
    assert store.versioning_status() == "Suspended"
    # A delete replaces the null version with a marker; versions kept before stay.
    store.delete(KEY)
    with pytest.raises(NotFoundError):
        store.get(KEY)
    assert [v.version_id for v in store.iter_versions(KEY)] == [kept]
    assert store.list_keys("workspace/").keys == ()


def test_lifecycle_rules_are_held_as_given(store: MemoryStore) -> None:
    assert store.lifecycle() == Lifecycle()
    rule = LifecycleRule.from_document(
        {
            "ID": "r",
            "Status": "Enabled",
            "Filter": {"Prefix": "workspace/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        }
    )
    store.set_lifecycle(Lifecycle((rule,)))
    assert store.lifecycle().rules == (rule,)
    store.set_lifecycle(Lifecycle())
    assert store.lifecycle() == Lifecycle()
