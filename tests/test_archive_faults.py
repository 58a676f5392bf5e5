"""S3 misbehaving under a running Jupyter server: no save is lost, the status says what to do.

Each test runs a real ``jupyter server`` archiving to a real SeaweedFS. SeaweedFS itself
suspends versioning, loses its bucket and changes its keys; the stub endpoint of
:mod:`devtools.faulty_s3`, passing everything else through to SeaweedFS, answers only what a
real server cannot be made to say here (``SlowDown``, ``RequestTimeTooSkewed``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bookstore.s3 import S3Store
from devtools.faulty_s3 import FaultyS3
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import (
    FAST_RETRY,
    PREFIX,
    JupyterServer,
    notebook,
    seed_config,
    sources,
    started_with_a_save,
)

pytestmark = pytest.mark.slow

KEY = f"{PREFIX}/mine.ipynb"


def wait_status(
    jupyter: JupyterServer, until: Callable[[dict[str, Any]], bool], timeout: float = 60.0
) -> dict[str, Any]:
    """Poll ``GET /api/bookstore`` until ``until(archive status)``; the bound only ends a hung test."""
    deadline = time.monotonic() + timeout
    while True:
        archive = jupyter.status()["archive"]
        if until(archive):
            return archive
        if time.monotonic() > deadline:
            raise AssertionError(f"the archive status never got there: {archive}")
        time.sleep(0.2)


def saves_held_by(
    jupyter: JupyterServer, fault: str, *, count: int, label: str | None = None, timeout: float = 60.0
) -> dict[str, Any]:
    """Save ``count`` notebooks (``"<label> <i>"``, the fault's name by default) while S3
    misbehaves; the archive status once it names ``fault``: retrying, every save pending."""
    for i in range(count):
        jupyter.save("mine.ipynb", notebook(f"{label or fault} {i}"))
    archive = wait_status(jupyter, lambda a: a["fault"] == fault, timeout)
    assert archive["state"] == "retrying"
    assert archive["pending"] == count
    return archive


def save_ids(store: S3Store, key: str) -> list[str]:
    return [store.head(key, v.version_id).metadata["bookstore-save-id"] for v in store.iter_versions(key)]


def writer_config(server: SeaweedFS, bucket: str, endpoint_url: str | None = None) -> str:
    """The seed's configuration with the writer's keys (no right to create buckets, as a
    Jupyter server's keys should be), retrying fast."""
    return (
        seed_config(
            server,
            bucket,
            access_key=server.writer_key,
            secret_key=server.writer_secret,
            endpoint_url=endpoint_url or server.endpoint_url,
        )
        + FAST_RETRY
    )


@pytest.fixture
def stub(s3_server: SeaweedFS) -> Iterator[FaultyS3]:
    with FaultyS3(s3_server.endpoint_url) as endpoint:
        yield endpoint


def test_throttling_backs_off_and_stores_each_save_once(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, stub: FaultyS3
) -> None:
    jupyter = started_with_a_save(jupyter_factory, writer_config(s3_server, bucket, stub.endpoint_url))

    stub.inject("SlowDown", 503, "Please reduce your request rate.", methods=("PUT",))
    archive = saves_held_by(jupyter, "throttled", count=3)
    assert f"bucket '{bucket}'" in archive["last_error"]
    assert "is throttling requests (SlowDown)" in archive["last_error"]
    assert "back off and retry by themselves" in archive["last_error"]
    # Backing off: a few attempts, not a storm of them.
    wait_status(jupyter, lambda a: stub.answered.get("SlowDown", 0) >= 2)

    stub.clear()
    status = jupyter.wait_archived()
    assert status["archive"]["state"] == "ok"
    assert status["archive"]["fault"] is None
    assert sources(store, KEY) == ["before"] + [f"throttled {i}" for i in range(3)]
    assert len(set(save_ids(store, KEY))) == 4


def test_clock_skew_is_named_with_the_fix_and_saves_are_archived_once_it_is_right(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, stub: FaultyS3
) -> None:
    jupyter = jupyter_factory(writer_config(s3_server, bucket, stub.endpoint_url))
    stub.inject(
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    )
    for i in range(2):
        jupyter.save("mine.ipynb", notebook(f"skewed {i}"))
    archive = wait_status(jupyter, lambda a: a["fault"] == "clock-skew")
    assert archive["state"] == "retrying"
    assert "this machine's clock is too far from S3's" in archive["last_error"]
    assert "timedatectl set-ntp true" in archive["last_error"]
    assert "refused the credentials" not in archive["last_error"]

    stub.clear()  # the clock was set right
    jupyter.wait_archived()
    assert sources(store, KEY) == ["skewed 0", "skewed 1"]
    assert len(set(save_ids(store, KEY))) == 2


def test_saves_are_held_while_versioning_is_suspended_and_archived_when_it_is_back(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store
) -> None:
    jupyter = jupyter_factory(writer_config(s3_server, bucket))
    jupyter.save("mine.ipynb", notebook("versioned"))
    jupyter.wait_archived()

    admin = s3_server.client()
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    for i in range(3):
        jupyter.save("mine.ipynb", notebook(f"suspended {i}"))
    archive = wait_status(jupyter, lambda a: a["state"] == "held" and a["pending"] == 2)
    assert archive["fault"] == "versioning-off"
    assert f"versioning is suspended on bucket '{bucket}'" in archive["last_error"]
    assert f"put-bucket-versioning --bucket {bucket}" in archive["last_error"]
    status = jupyter.status()
    assert status["versioning"] == "Suspended"
    # The save that found versioning gone is the bucket's one unversioned copy; the two
    # after it are kept on disk, not written over it.
    assert sorted(sources(store, KEY)) == ["suspended 0", "versioned"]
    time.sleep(1.5)  # a few backoffs: still held
    assert jupyter.status()["archive"]["pending"] == 2

    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    status = jupyter.wait_archived()
    assert status["archive"]["state"] == "ok"
    assert status["versioning"] == "Enabled"
    # Every save is a version of its own (S3 lists the unversioned copy apart, so the order
    # of the listing is not the save order here).
    assert sorted(sources(store, KEY)) == ["suspended 0", "suspended 1", "suspended 2", "versioned"]
    assert len(set(save_ids(store, KEY))) == 4
    log = jupyter.log()
    assert log.count(f"versioning is suspended on bucket '{bucket}'") == 1
    assert "versioning is enabled again" in log


def test_a_deleted_bucket_is_named_and_saves_are_archived_when_it_is_made_again(
    jupyter_factory: Any, s3_server: SeaweedFS
) -> None:
    bucket = s3_server.create_bucket(new_bucket_name())
    jupyter = started_with_a_save(jupyter_factory, writer_config(s3_server, bucket))

    s3_server.delete_bucket(bucket)
    archive = saves_held_by(jupyter, "bucket-missing", count=2, label="orphan")
    assert f"bucket '{bucket}' at {s3_server.endpoint_url} does not exist" in archive["last_error"]
    assert "create it (with versioning enabled)" in archive["last_error"]
    assert "archived, in order, once the bucket exists again" in archive["last_error"]

    s3_server.create_bucket(bucket)
    status = jupyter.wait_archived(timeout=90)
    assert status["archive"]["state"] == "ok"
    assert sources(s3_server.store(bucket), KEY) == ["orphan 0", "orphan 1"]


def test_rotated_credentials_are_reported_and_saves_archived_once_they_are_valid_again(
    jupyter_factory: Any, private_s3: SeaweedFS
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    valid_secret = private_s3.writer_secret
    jupyter = started_with_a_save(jupyter_factory, writer_config(private_s3, bucket))

    # The keys are rotated: S3 restarts knowing only new ones.
    private_s3.kill()
    private_s3.writer_secret = "rotated-secret-7"
    private_s3.start()
    archive = saves_held_by(jupyter, "credentials-refused", count=2, label="refused", timeout=90)
    assert "refused the credentials" in archive["last_error"]
    assert "SignatureDoesNotMatch" in archive["last_error"]
    assert "archived once the bucket accepts the credentials" in archive["last_error"]

    # ... and the old keys are valid again.
    private_s3.kill()
    private_s3.writer_secret = valid_secret
    private_s3.start()
    status = jupyter.wait_archived(timeout=120)
    assert status["archive"]["state"] == "ok"
    assert sources(private_s3.store(bucket), KEY) == ["before", "refused 0", "refused 1"]
    log = jupyter.log()
    assert valid_secret not in log and "rotated-secret-7" not in log
    assert valid_secret not in json.dumps(status)


def test_publishing_while_s3_hangs_gives_up_with_a_503_saying_how_long_it_waited(
    jupyter_factory: Any, private_s3: SeaweedFS
) -> None:
    """S3 frozen with its sockets open (as a stuck load balancer looks): the save is on its
    way to S3, unanswered. Publishing does not sit out the whole wait for it and then ask S3
    again: it answers 503, with the time it waited in all, and the save is archived and can
    be published once S3 answers again."""
    bucket = private_s3.create_bucket(new_bucket_name())
    jupyter = started_with_a_save(jupyter_factory, seed_config(private_s3, bucket))

    private_s3.pause()
    try:
        jupyter.save("mine.ipynb", notebook("during"))
        # The bound only ends a hung test.
        answer = jupyter.request("PUT", "/api/bookstore/publish/mine.ipynb", json={}, timeout=60)
    finally:
        private_s3.resume()

    assert answer.status_code == 503, answer.text
    message = answer.json()["message"]
    assert f"'{bucket}'" in message and "did not answer within 5 s" in message
    assert re.search(r"publishing 'mine.ipynb' gave up after \d+\.\d s in all", message), message
    assert message.endswith("try again shortly")

    # Nothing was lost: the save is archived, and publishing it works once S3 answers.
    jupyter.wait_archived(timeout=120)
    published = jupyter.request("PUT", "/api/bookstore/publish/mine.ipynb", json={}, timeout=60)
    assert published.status_code == 201, published.text
    store = private_s3.store(bucket)
    assert sources(store, KEY) == ["before", "during"]
    assert published.json()["source_version_id"] == store.head(KEY).version_id
