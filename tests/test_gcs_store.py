"""GCSStore against a real GCS-API server (fake-gcs-server): the store contract, GCS's failures
translated, lifecycle rules, big uploads.

Where fake-gcs-server differs from Google's service a test says so, and skips only for that
reason; :mod:`bookstore.gcs` lists every difference.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from google.api_core.exceptions import NotFound, ServiceUnavailable

from bookstore import gcs_lifecycle
from bookstore.errors import (
    BUCKET_MISSING,
    CREDENTIALS_REFUSED,
    NO_ANSWER,
    UNREACHABLE,
    InvalidPathError,
    MisconfiguredError,
    NotFoundError,
    StoreUnavailableError,
    VersionNotFoundError,
)
from bookstore.gcs import GCSStore, from_settings
from bookstore.gcs_client import call_options
from bookstore.retention import Scope, with_rule, workspace_rule
from bookstore.store import BACKGROUND, BATCH, INTERACTIVE, Lifecycle, Patience
from devtools.fake_gcs import FakeGCS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.store_contract import KEY, StoreContract


@pytest.fixture
def store(gcs_store: GCSStore) -> GCSStore:
    """The contract's ``store``: a fresh versioned bucket on the GCS-API server."""
    return gcs_store


class TestGCSStore(StoreContract):
    """Every backend's contract, on fake-gcs-server."""


def test_versions_are_generations_listed_newest_first(gcs_server: FakeGCS, gcs_store: GCSStore) -> None:
    # fake-gcs-server lists an object's generations in no particular order (Google's service
    # oldest first): the store orders them itself.
    ids = [gcs_store.put(KEY, f"{i}".encode()) for i in range(6)]
    assert all(version and version.isdigit() for version in ids)
    assert [v.version_id for v in gcs_store.iter_versions(KEY, page_size=4)] == ids[::-1]


# -- the bucket ------------------------------------------------------------------------------


def test_versioning_status_of_a_versioned_and_a_plain_bucket(
    gcs_server: FakeGCS, gcs_store: GCSStore
) -> None:
    assert gcs_store.versioning_status() == "Enabled"
    plain = gcs_server.create_bucket(new_bucket_name(), versioned=False)
    # fake-gcs-server says versioning.enabled: false; Google's service leaves versioning out
    # until it was set once. GCS has no "Suspended": both read as never versioned.
    assert gcs_server.bucket_resource(plain)["versioning"] == {"enabled": False}
    assert gcs_server.store(plain).versioning_status() is None


def test_jupyters_gcs_settings_build_the_store_through_the_one_backend_function(
    gcs_server: FakeGCS, gcs_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore.config import Bookstore

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.endpoint_url)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "team-project")
    settings = Bookstore(backend="GCS")
    settings.gcs.bucket = gcs_bucket
    assert settings.store_settings() == {
        "bucket": gcs_bucket,
        "project": "team-project",
        "endpoint_url": gcs_server.endpoint_url,
        "credentials_file": None,
    }
    store = settings.create_store()
    assert isinstance(store, GCSStore)
    assert store.credential_source == "anonymous requests (an endpoint_url and no key: an emulator)"
    version = store.put("a/b.ipynb", b"{}")
    assert store.uri("a/b.ipynb", version) == f"gs://{gcs_bucket}/a/b.ipynb#{version}"
    assert settings.describe()["bucket"] == gcs_bucket
    assert f"gcloud storage buckets update gs://{gcs_bucket} --versioning" in store.versioning_fix()


def test_a_missing_bucket_is_named_with_what_to_do_for_every_request(gcs_server: FakeGCS) -> None:
    store = gcs_server.store("no-such-bucket-here")
    requests = {
        "versioning": store.versioning_status,
        "put": lambda: store.put(KEY, b"x"),
        "head": lambda: store.head(KEY),
        "get": lambda: store.get(KEY),
        "head of a version": lambda: store.head(KEY, "123"),
        "copy": lambda: store.copy(KEY, "123", "published/x.ipynb"),
        "delete": lambda: store.delete(KEY),
        "versions": lambda: store.list_versions(KEY),
        "keys": lambda: store.list_keys("workspace/"),
    }
    for name, request in requests.items():
        with pytest.raises(MisconfiguredError) as refused:
            request()
        # A missing bucket is not a missing notebook: the archive must not take it for one.
        assert not isinstance(refused.value, NotFoundError), name
        assert refused.value.fault == BUCKET_MISSING, name
        assert "bucket 'no-such-bucket-here' at http://" in str(refused.value), name
        assert "does not exist: create it with object versioning on" in str(refused.value), name


def test_a_store_needs_a_bucket_and_known_settings(tmp_path: Path) -> None:
    with pytest.raises(
        MisconfiguredError, match=r"no GCS bucket is configured: set c\.Bookstore\.GCS\.bucket"
    ):
        from_settings({"bucket": ""}, INTERACTIVE)
    with pytest.raises(
        MisconfiguredError, match=r"unknown GCS setting.*'bucket_name'.*takes bucket, project"
    ):
        from_settings({"bucket": "b", "bucket_name": "b"}, INTERACTIVE)


def test_credentials_that_cannot_work_are_refused_without_showing_them(tmp_path: Path) -> None:
    secret = "-----BEGIN PRIVATE KEY-----secret-material-123"
    key = json.dumps({"type": "service_account", "client_email": "x@p.iam", "private_key": secret})
    with pytest.raises(MisconfiguredError, match="not a Google service-account key") as refused:
        from_settings({"bucket": "b", "credentials_json": key}, INTERACTIVE)
    assert "secret-material-123" not in str(refused.value)
    with pytest.raises(MisconfiguredError, match="not a Google service-account key"):
        from_settings({"bucket": "b", "credentials_json": "{not json"}, INTERACTIVE)
    missing = tmp_path / "key.json"
    with pytest.raises(MisconfiguredError, match=f"the GCS key file '{missing}'.*does not exist"):
        from_settings({"bucket": "b", "credentials_file": str(missing)}, INTERACTIVE)
    missing.write_text(key)
    with pytest.raises(
        MisconfiguredError, match=r"key file .* is not a Google service-account key"
    ) as refused:
        from_settings({"bucket": "b", "credentials_file": str(missing)}, INTERACTIVE)
    assert "secret-material-123" not in str(refused.value)
    with pytest.raises(MisconfiguredError, match="keep one of them"):
        from_settings({"bucket": "b", "credentials_file": str(missing), "credentials_json": key}, INTERACTIVE)


def test_no_application_default_credentials_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a key or an endpoint the store uses Application Default Credentials, looked up
    # at the first request; here they point at a file that is not there.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json")
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    store = from_settings({"bucket": "b"}, INTERACTIVE)
    assert store.credential_source == "Application Default Credentials"
    with pytest.raises(MisconfiguredError, match="no Google credentials found for GCS bucket 'b'"):
        store.head(KEY)


# -- versions and keys -----------------------------------------------------------------------


def test_an_unknown_generation_and_an_unknown_key_are_told_apart(gcs_store: GCSStore) -> None:
    version = gcs_store.put(KEY, b"x")
    assert version is not None
    unknown = str(int(version) + 1)  # a generation the server never gave: its 404, not ours
    for request in (gcs_store.get, gcs_store.head):
        with pytest.raises(VersionNotFoundError, match=f"version '{unknown}' of '{KEY}' does not exist"):
            request(KEY, unknown)
        with pytest.raises(VersionNotFoundError):
            request("workspace/nope.ipynb", version)
        with pytest.raises(NotFoundError) as missing:
            request("workspace/nope.ipynb")
        assert not isinstance(missing.value, VersionNotFoundError)
    with pytest.raises(VersionNotFoundError, match=f"version '{unknown}'"):
        gcs_store.copy(KEY, unknown, "published/x.ipynb")
    with pytest.raises(VersionNotFoundError, match="GCS version ids are object generations"):
        gcs_store.head(KEY, "3/../4")
    with pytest.raises(InvalidPathError, match="not one this server handed out"):
        gcs_store.list_versions(KEY, cursor="bm90LWEtY3Vyc29y")


def test_a_copy_is_of_the_generation_asked_for_even_after_the_key_was_deleted(gcs_store: GCSStore) -> None:
    old = gcs_store.put(KEY, b"old", {"bookstore-path": "a.ipynb"})
    gcs_store.put(KEY, b"new")
    gcs_store.delete(KEY)
    copied = gcs_store.copy(KEY, old, "published/a.ipynb", {"bookstore-source-version-id": str(old)})
    published = gcs_store.get("published/a.ipynb", copied)
    assert published.body == b"old"
    assert published.info.metadata == {"bookstore-source-version-id": old}
    # Two versions stay after a delete, neither live.
    assert [v.is_latest for v in gcs_store.list_versions(KEY).versions] == [False, False]


# -- integrity and big uploads ---------------------------------------------------------------


class RecordingReader(io.BytesIO):
    """A file in memory that remembers how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def test_a_big_notebook_goes_up_in_a_resumable_upload_with_its_md5(
    gcs_server: FakeGCS, gcs_bucket: str
) -> None:
    chunk = 1024 * 1024
    store = gcs_server.store(gcs_bucket)
    store.chunk_size = chunk
    body = os.urandom(9 * chunk + 12345)  # above the client's 8 MiB: a resumable upload
    source = RecordingReader(b"header" + body)
    source.read(len(b"header"))
    version = store.put_file(
        KEY, source, len(body), {"bookstore-save-id": "abc"}, sha256=hashlib.sha256(body).hexdigest()
    )
    assert version is not None
    # Sent one chunk at a time (10 chunks), never read whole.
    assert source.reads.count(chunk) >= 9
    assert len(body) not in source.reads
    assert [v.version_id for v in store.iter_versions(KEY)] == [version]
    stored = store.get(KEY, version)
    assert stored.body == body
    assert stored.info.metadata["bookstore-save-id"] == "abc"
    resource = gcs_server.object_resource(gcs_bucket, KEY, version)
    assert resource["md5Hash"] == base64.b64encode(hashlib.md5(body).digest()).decode()


def test_a_big_upload_whose_sha256_does_not_match_stores_nothing(
    gcs_server: FakeGCS, gcs_store: GCSStore
) -> None:
    body = os.urandom(9 * 1024 * 1024)
    with pytest.raises(StoreUnavailableError, match="do not match their SHA-256"):
        gcs_store.put_file(KEY, io.BytesIO(body), len(body), sha256=hashlib.sha256(b"other").hexdigest())
    assert list(gcs_store.iter_versions(KEY)) == []
    with pytest.raises(OSError, match=r"ended \d+ bytes early"):
        gcs_store.put_file(KEY, io.BytesIO(b"short"), 10)
    assert list(gcs_store.iter_versions(KEY)) == []


class ChangingFile(io.BytesIO):
    """A file whose bytes change after they were first read through (damage between the
    read that hashes them and the read that sends them)."""

    damaged = False

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self.damaged:
            self.damaged = True
            self.getbuffer()[-1] ^= 0xFF
        return super().seek(offset, whence)


def test_bytes_damaged_after_their_checksum_was_taken_are_refused_by_gcs(
    gcs_server: FakeGCS, gcs_store: GCSStore
) -> None:
    with pytest.raises(StoreUnavailableError) as refused:
        version = gcs_store.put_file(KEY, ChangingFile(b"notebook bytes"), len(b"notebook bytes"))
        stored = gcs_store.get(KEY, version).body
        pytest.skip(
            "this fake-gcs-server does not check the MD5 declared with an upload (Google's "
            f"service refuses the upload; fake-gcs-server does from v1.55.0): it stored {stored!r}"
        )
    assert "did not match their checksum" in str(refused.value)
    assert list(gcs_store.iter_versions(KEY)) == []


# -- outages ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_stopped_server_is_unavailable_and_a_restarted_one_answers_again() -> None:
    server = FakeGCS()
    server.start()
    try:
        bucket = server.create_bucket(new_bucket_name())
        store = server.store(bucket)
        store.put(KEY, b"before")
        server.stop()
        for request in (lambda: store.put(KEY, b"x"), lambda: store.head(KEY), store.versioning_status):
            with pytest.raises(
                StoreUnavailableError, match=r"cannot reach GCS bucket .* is the server running"
            ) as e:
                request()
            assert e.value.fault == UNREACHABLE
            assert not e.value.may_have_succeeded
        server.start()
        # The memory backend lost the bucket and its objects with the process.
        with pytest.raises(MisconfiguredError, match="does not exist"):
            store.head(KEY)
        server.create_bucket(bucket)
        version = store.put(KEY, b"after")
        assert store.get(KEY).info.version_id == version
    finally:
        server.stop()


@pytest.mark.slow
def test_a_server_that_does_not_answer_is_unavailable_and_a_write_may_have_landed() -> None:
    server = FakeGCS()
    server.start()
    try:
        bucket = server.create_bucket(new_bucket_name())
        store = server.store(bucket, Patience(connect_timeout=1.0, read_timeout=1.0, attempts=1))
        store.put(KEY, b"before")
        server.pause()  # frozen: connections are accepted, requests held unanswered
        try:
            with pytest.raises(StoreUnavailableError, match=r"did not answer within 1 s") as e:
                store.put(KEY, b"x")
            assert e.value.fault == NO_ANSWER
            assert e.value.may_have_succeeded  # the archive checks before sending it again
        finally:
            server.resume()
        assert store.get(KEY).body in (b"before", b"x")
    finally:
        server.stop()


def test_credentials_the_token_service_refuses_are_a_configuration_error(
    gcs_server: FakeGCS, gcs_bucket: str
) -> None:
    # A real service-account key (a fresh RSA key) whose token service is the GCS-API
    # server, which refuses the token request as Google's would refuse a deleted key.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    key = {
        "type": "service_account",
        "project_id": "bookstore-test",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": "bookstore@bookstore-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"{gcs_server.endpoint_url}/token",
    }
    store = gcs_server.store(gcs_bucket, credentials_json=json.dumps(key))
    assert store.credential_source == f"the key of the service account {key['client_email']}"
    with pytest.raises(MisconfiguredError, match="Google refused the credentials for GCS bucket") as refused:
        store.put(KEY, b"x")
    assert refused.value.fault == CREDENTIALS_REFUSED
    assert pem.splitlines()[1] not in str(refused.value)


def test_patience_bounds_the_attempts_of_each_call() -> None:
    for patience in (INTERACTIVE, BACKGROUND, BATCH):
        options = call_options(patience)
        assert options["timeout"] == (patience.connect_timeout, patience.read_timeout)
        if patience.attempts == 1:
            assert options["retry"] is None  # the archive queue checks before sending again
            continue
        retry = options["retry"]
        transient = ServiceUnavailable("down")
        allowed = [retry._predicate(transient) for _ in range(patience.attempts + 2)]
        assert allowed == [True] * (patience.attempts - 1) + [False] * 3
        assert not call_options(patience)["retry"]._predicate(NotFound("gone"))


# -- lifecycle -------------------------------------------------------------------------------

SCOPE = Scope("workspace", {"published": "published", "runs": "runs"})
#: Rules someone else wrote, as GCS holds them.
OTHER_RULES = (
    {"action": {"type": "Delete"}, "condition": {"age": 365, "matchesPrefix": ["runs/"]}},
    {
        "action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
        "condition": {"age": 30, "matchesPrefix": ["published/", "runs/"], "matchesSuffix": [".ipynb"]},
    },
    {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
)


def test_retentions_rule_becomes_a_gcs_rule_on_noncurrent_generations_and_back() -> None:
    rule = workspace_rule(SCOPE, noncurrent_days=30, keep=5)
    written = gcs_lifecycle.to_gcs(rule)
    assert written == {
        "action": {"type": "Delete"},
        "condition": {
            "isLive": False,
            "daysSinceNoncurrentTime": 30,
            # GCS counts the live generation among the newer ones.
            "numNewerVersions": 6,
            "matchesPrefix": ["workspace/"],
        },
    }
    read = gcs_lifecycle.from_gcs(written)
    assert (read.id, read.noncurrent_days, read.newer_noncurrent_versions) == (SCOPE.rule_id, 30, 5)
    assert read.document == rule.document


def test_rules_bookstore_did_not_write_are_read_and_kept_unchanged() -> None:
    read = [gcs_lifecycle.from_gcs(rule) for rule in OTHER_RULES]
    assert [r.id for r in read] == ["", "", ""]
    assert [(r.prefix, r.conditional) for r in read] == [("runs/", False), ("", True), ("", False)]
    assert read[0].actions == ("Expiration", "NoncurrentVersionExpiration")
    assert read[1].actions == ("Transitions", "NoncurrentVersionTransitions")
    assert [gcs_lifecycle.to_gcs(r) for r in read] == list(OTHER_RULES)


def test_lifecycle_rules_round_trip_through_the_bucket(gcs_server: FakeGCS, gcs_store: GCSStore) -> None:
    bucket = gcs_store.bucket
    kept = gcs_server.patch_bucket(bucket, {"lifecycle": {"rule": list(OTHER_RULES)}}).get("lifecycle")
    if not kept:
        pytest.skip(
            "fake-gcs-server neither keeps nor applies lifecycle rules (a bucket's lifecycle is "
            "always empty); Google's service does"
        )
    lifecycle = gcs_store.lifecycle()
    assert len(lifecycle.rules) == len(OTHER_RULES)
    gcs_store.set_lifecycle(with_rule(lifecycle, SCOPE, workspace_rule(SCOPE, 7, None)))
    rules = gcs_server.bucket_resource(bucket)["lifecycle"]["rule"]
    assert rules[: len(OTHER_RULES)] == list(OTHER_RULES)
    ours = gcs_store.lifecycle().rules[-1]
    assert (ours.id, ours.noncurrent_days) == (SCOPE.rule_id, 7)
    gcs_store.set_lifecycle(Lifecycle())
    assert gcs_store.lifecycle().rules == ()
