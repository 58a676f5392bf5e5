"""S3Store against a real SeaweedFS: the store contract, and S3 errors translated."""

from __future__ import annotations

import pytest

from bookstore.errors import (
    MisconfiguredError,
    StoreUnavailableError,
)
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import free_port
from tests.conftest import new_bucket_name
from tests.store_contract import KEY, StoreContract


class TestS3Store(StoreContract):
    """Every backend's contract, on SeaweedFS (the ``store`` fixture of conftest.py)."""


def test_versioning_status(s3_server: SeaweedFS, store: S3Store) -> None:
    assert store.versioning_status() == "Enabled"
    plain = s3_server.create_bucket(new_bucket_name(), versioned=False)
    assert s3_server.store(plain).versioning_status() is None


def test_wrong_secret_is_a_configuration_error_without_the_secret(s3_server: SeaweedFS, bucket: str) -> None:
    bad = s3_server.store(bucket, secret_access_key="wrong-secret-123")
    with pytest.raises(MisconfiguredError) as refused:
        bad.put(KEY, b"x")
    message = str(refused.value)
    assert "refused the credentials" in message and bucket in message
    assert "wrong-secret-123" not in message and s3_server.secret_key not in message


def test_missing_bucket_is_named(s3_server: SeaweedFS) -> None:
    with pytest.raises(MisconfiguredError, match="does not exist: create it"):
        s3_server.store("no-such-bucket-here").versioning_status()


def test_unreachable_server_is_unavailable() -> None:
    store = S3Store(
        "any-bucket",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="x",
        secret_access_key="y",
        region_name="us-east-1",
    )
    with pytest.raises(StoreUnavailableError, match="cannot reach S3"):
        store.put(KEY, b"x")


def test_a_store_needs_a_bucket() -> None:
    with pytest.raises(MisconfiguredError, match="bucket"):
        S3Store("")


def test_backends_are_found_by_name_and_unknown_ones_refused() -> None:
    from bookstore.config import Bookstore
    from bookstore.store import backend, backend_names

    assert "s3" in backend_names()
    assert backend("s3").__module__ == "bookstore.s3"
    with pytest.raises(MisconfiguredError, match="not a known backend; choose one of: s3"):
        Bookstore(backend="ftp")
