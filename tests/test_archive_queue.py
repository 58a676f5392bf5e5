"""The archive queue and its spool, in-process against a real SeaweedFS."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from bookstore.jupyter.archive_queue import ArchiveQueue
from bookstore.jupyter.ledger import UploadSettings
from bookstore.jupyter.spool import Spool, spool_folder_name
from bookstore.metadata import SAVE_ID as META_SAVE_ID
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS

KEY = "workspace/kylek/notebooks/mine.ipynb"


def test_spool_replays_in_save_order_and_drops_half_written_entries(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    written = [spool.add(KEY, "mine.ipynb", f"save {i}".encode()) for i in range(5)]
    (tmp_path / "99999999999999999999.entry.tmp").write_bytes(b"half a write")
    (tmp_path / "00000000000000000001.entry").write_bytes(b"not json\n")
    spool.release()  # as the process exiting would
    loaded = Spool(tmp_path).load()
    assert [e.read_body() for e in loaded] == [f"save {i}".encode() for i in range(5)]
    assert [e.save_id for e in loaded] == [e.save_id for e in written]
    assert all(e.replayed for e in loaded)
    assert not list(tmp_path.glob("*.tmp"))
    # Unreadable entries are set aside for a person, never silently deleted.
    assert (tmp_path / "00000000000000000001.corrupt").exists()


def test_sequence_numbers_keep_growing_across_restarts(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    first = spool.add(KEY, "mine.ipynb", b"a")
    spool.release()
    again = Spool(tmp_path)
    again.load()
    assert again.add(KEY, "mine.ipynb", b"b").seq > first.seq


def test_two_live_servers_never_share_a_folder_and_orphans_are_adopted(tmp_path: Path) -> None:
    base = tmp_path / "spool"
    first, second = Spool(base), Spool(base)
    first.add(KEY, "mine.ipynb", b"from the first server")
    second.add(KEY, "mine.ipynb", b"from the second server")
    assert first.folder == base
    assert second.folder == tmp_path / "spool.1"
    # While both live, each replays only its own saves.
    assert [e.read_body() for e in first.load()] == [b"from the first server"]
    second.release()  # the second server exits with a save still pending
    first.release()  # and so does the first
    third = Spool(base)
    # The next server takes the base folder and adopts what the second left behind.
    assert [e.read_body() for e in third.load()] == [b"from the first server", b"from the second server"]
    assert third.folder == base
    assert not list((tmp_path / "spool.1").glob("*.entry"))


def test_spool_folders_are_per_server() -> None:
    one = spool_folder_name("/home/a", "http://s3:8333", "bucket")
    assert one == spool_folder_name("/home/a", "http://s3:8333", "bucket")
    assert one != spool_folder_name("/home/b", "http://s3:8333", "bucket")
    assert one != spool_folder_name("/home/a", "http://other:8333", "bucket")
    assert one != spool_folder_name("/home/a", "http://s3:8333", "other")


def test_a_save_uploaded_just_before_a_crash_is_not_archived_twice(store: S3Store, tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    done = spool.add(KEY, "mine.ipynb", b"uploaded, then the server died")
    # What the queue would have done before dying: upload, without removing the entry.
    store.put(KEY, done.read_body(), {META_SAVE_ID: done.save_id})
    spool.add(KEY, "mine.ipynb", b"never uploaded")
    spool.release()  # the server died

    queue = ArchiveQueue(store, Spool(tmp_path), UploadSettings(workers=2))
    queue.start()
    assert queue.wait_idle(30)
    queue.stop()
    versions = list(store.iter_versions(KEY))
    assert [store.get(KEY, v.version_id).body for v in versions] == [
        b"never uploaded",
        b"uploaded, then the server died",
    ]
    assert not list(tmp_path.glob("*.entry"))


def test_status_and_wait_for(store: S3Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    queue = ArchiveQueue(store, Spool(tmp_path), UploadSettings(workers=1))
    with caplog.at_level(logging.INFO):
        queue.enqueue(KEY, "mine.ipynb", b"one")
        queue.enqueue(KEY, "mine.ipynb", b"two")
        assert queue.wait_for(KEY, 30)
    assert queue.pending(KEY) == 0
    archived = queue.last_archived(KEY)
    assert archived is not None
    assert store.get(KEY, archived.version_id).body == b"two"
    status = queue.status()
    assert status["state"] == "ok"
    assert status["archived"] == 2
    assert status["last_lag_seconds"] is not None
    queue.stop()


def test_a_big_save_is_uploaded_in_parts_once_even_when_replayed(
    s3_server: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    part = 5 * 1024 * 1024
    store = s3_server.store(bucket, multipart_threshold=part, part_size=part)
    body = b"{" + os.urandom(2 * part).hex().encode()[: 2 * part] + b"}"
    spool = Spool(tmp_path)
    first = spool.add(KEY, "big.ipynb", body)
    # Uploaded before the server died, the entry still on disk.
    with first.open_body() as f:
        store.put_file(KEY, f, first.size, {META_SAVE_ID: first.save_id})
    second = spool.add(KEY, "big.ipynb", body[::-1])
    spool.release()

    queue = ArchiveQueue(store, Spool(tmp_path), UploadSettings(workers=1))
    queue.start()
    assert queue.wait_idle(60)
    queue.stop()
    versions = list(store.iter_versions(KEY))
    assert [store.get(KEY, v.version_id).body for v in versions] == [body[::-1], body]
    latest = store.head(KEY)
    assert latest.metadata[META_SAVE_ID] == second.save_id
    assert latest.metadata["bookstore-sha256"] == hashlib.sha256(body[::-1]).hexdigest()
