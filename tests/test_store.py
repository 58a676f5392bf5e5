"""S3Store against a real SeaweedFS: the store contract, and S3 errors translated."""

from __future__ import annotations

import io
import os

import pytest

from bookstore.errors import (
    MisconfiguredError,
    StoreUnavailableError,
)
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import free_port
from tests.helpers.buckets import new_bucket_name
from tests.helpers.store_contract import KEY, StoreContract


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
    from bookstore.backends import backend, backend_names
    from bookstore.config import Bookstore

    assert "s3" in backend_names()
    assert backend("s3").__module__ == "bookstore.s3"
    with pytest.raises(MisconfiguredError, match="not a known backend; choose one of: gcs, s3"):
        Bookstore(backend="ftp")


def test_a_store_is_built_from_plain_settings_the_same_way_everywhere(
    s3_server: SeaweedFS, bucket: str
) -> None:
    from bookstore.backends import build_store
    from bookstore.config import Bookstore

    settings = {
        "bucket": bucket,
        "endpoint_url": s3_server.endpoint_url,
        "access_key_id": s3_server.access_key,
        "secret_access_key": s3_server.secret_key,
    }
    store = build_store("s3", settings)
    assert isinstance(store, S3Store) and store.versioning_status() == "Enabled"
    assert store.uri("a/b.ipynb", "v1") == f"s3://{bucket}/a/b.ipynb?versionId=v1"
    # Jupyter's and the CLI's settings reach the backend as the same plain mapping.
    jupyter = Bookstore()
    for name, value in settings.items():
        setattr(jupyter.s3, name, value)
    assert jupyter.store_settings() == {**settings, "region_name": jupyter.s3.region_name}
    assert jupyter.create_store().versioning_status() == "Enabled"
    with pytest.raises(MisconfiguredError, match="unknown S3 settings project; the S3 backend takes bucket"):
        build_store("s3", {**settings, "project": "p"})
    with pytest.raises(MisconfiguredError, match="no S3 bucket is configured"):
        build_store("s3", {})


def test_big_objects_go_up_in_parts_and_come_back_whole(s3_server: SeaweedFS, bucket: str) -> None:
    part = 5 * 1024 * 1024
    store = s3_server.store(bucket, multipart_threshold=part, part_size=part)
    body = os.urandom(2 * part + 12345)  # three parts, the last a short one
    version = store.put_file(KEY, io.BytesIO(body), len(body), {"bookstore-save-id": "abc"})
    assert version is not None
    assert [v.version_id for v in store.iter_versions(KEY)] == [version]
    stored = store.get(KEY, version)
    assert stored.body == body
    assert stored.info.metadata["bookstore-save-id"] == "abc"
    etag = s3_server.client().head_object(Bucket=bucket, Key=KEY, VersionId=version)["ETag"]
    assert etag.strip('"').endswith("-3")  # S3's mark of an object made of three parts


def test_a_multipart_upload_that_fails_is_aborted(s3_server: SeaweedFS, bucket: str) -> None:
    part = 5 * 1024 * 1024
    store = s3_server.store(bucket, multipart_threshold=part, part_size=part)
    with pytest.raises(OSError, match=r"ended \d+ bytes early"):
        store.put_file(KEY, io.BytesIO(b"x" * (part + 10)), 3 * part)
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert list(store.iter_versions(KEY)) == []
