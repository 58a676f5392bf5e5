"""Saves that add no version: identical ones, and autosaves coalesced per interval.

The archive queue in-process against a real SeaweedFS, and a real ``jupyter server`` over
HTTP. Autosaves are spooled as jupyter-collaboration's are marked
(``auto=True``); tests/test_collaboration.py makes real ones in a browser.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bookstore import metadata
from bookstore.jupyter.archive_queue import ArchiveQueue
from bookstore.jupyter.ledger import UploadSettings
from bookstore.jupyter.spool import Spool
from bookstore.s3 import S3Store
from tests.helpers.jupyter_process import PREFIX, JupyterServer, bodies, notebook

KEY = "workspace/kylek/notebooks/mine.ipynb"
#: Long enough that no test waits for it: autosaves within it are held until something asks.
HOUR = 3600.0


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` until it answers something true; the bound only ends a hung test."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(0.05)
    return found


def new_queue(store: S3Store, folder: Path, autosave_interval: float = HOUR) -> ArchiveQueue:
    settings = UploadSettings(workers=2, upload_delay=0.0, autosave_interval=autosave_interval)
    queue = ArchiveQueue(store, Spool(folder), settings)
    queue.start()
    return queue


def settled(queue: ArchiveQueue, **counts: int) -> Callable[[], bool]:
    """Whether the queue's status shows ``counts`` (pending, coalesced, ...), without hurrying
    held autosaves as :meth:`ArchiveQueue.wait_idle` does."""

    def check() -> bool:
        status = queue.status()
        return all(status[name] == value for name, value in counts.items())

    return check


# -- identical saves ------------------------------------------------------------------------


def test_a_save_identical_to_the_latest_version_adds_none(store: S3Store, tmp_path: Path) -> None:
    queue = new_queue(store, tmp_path)
    # The second while the first may still be pending, the third once it is archived.
    queue.enqueue(KEY, "mine.ipynb", b"A")
    queue.enqueue(KEY, "mine.ipynb", b"A")
    assert queue.wait_idle(30)
    queue.enqueue(KEY, "mine.ipynb", b"A")
    assert queue.wait_idle(30)
    assert bodies(store, KEY) == [b"A"]
    status = queue.status()
    assert (status["archived"], status["unchanged"], status["pending"]) == (3, 2, 0)
    archived = queue.last_archived(KEY)
    assert archived is not None
    assert archived.version_id == store.head(KEY).version_id
    assert not list(tmp_path.glob("*.entry"))
    queue.stop()


def test_only_consecutive_identical_saves_are_one_version(store: S3Store, tmp_path: Path) -> None:
    queue = new_queue(store, tmp_path)
    for body in (b"A", b"B", b"A", b"A", b"B", b"B", b"A"):
        queue.enqueue(KEY, "mine.ipynb", body)
    assert queue.wait_idle(30)
    assert bodies(store, KEY) == [b"A", b"B", b"A", b"B", b"A"]
    assert queue.status()["unchanged"] == 2
    queue.stop()


def test_a_save_identical_to_what_s3_holds_adds_none_after_a_restart(store: S3Store, tmp_path: Path) -> None:
    """Opening a notebook in a server started anew saves what its last run archived."""
    first = new_queue(store, tmp_path / "first")
    first.enqueue(KEY, "mine.ipynb", b"A")
    assert first.wait_idle(30)
    first.stop()
    again = new_queue(store, tmp_path / "again")
    again.enqueue(KEY, "mine.ipynb", b"A")
    again.enqueue(KEY, "mine.ipynb", b"B")
    assert again.wait_idle(30)
    assert bodies(store, KEY) == [b"A", b"B"]
    again.stop()


def test_a_version_another_writer_added_is_never_taken_for_the_save(store: S3Store, tmp_path: Path) -> None:
    queue = new_queue(store, tmp_path)
    queue.enqueue(KEY, "mine.ipynb", b"A")
    assert queue.wait_idle(30)
    # Another server (or a publish storing the saved bytes itself) adds B behind the queue's back.
    other = metadata.save_metadata(
        sha256=hashlib.sha256(b"B").hexdigest(), path="mine.ipynb", save_id="other", saved_at=time.time()
    )
    store.put(KEY, b"B", other)
    queue.enqueue(KEY, "mine.ipynb", b"A")
    assert queue.wait_idle(30)
    assert bodies(store, KEY) == [b"A", b"B", b"A"]
    queue.stop()


# -- autosaves ------------------------------------------------------------------------------


def test_autosaves_within_the_interval_wait_and_the_last_is_archived_when_the_queue_stops(
    store: S3Store, tmp_path: Path
) -> None:
    queue = new_queue(store, tmp_path)
    # The first autosave since the notebook's last version (none here) goes at once.
    queue.enqueue(KEY, "mine.ipynb", b"typed 0", auto=True)
    eventually(settled(queue, pending=0, archived=1))
    for i in range(1, 4):
        queue.enqueue(KEY, "mine.ipynb", f"typed {i}".encode(), auto=True)
    # One waits for the interval; those it replaced are gone, from the spool too.
    eventually(settled(queue, pending=1, coalesced=2))
    assert bodies(store, KEY) == [b"typed 0"]
    assert len(list(tmp_path.glob("*.entry"))) == 1
    queue.stop()
    assert bodies(store, KEY) == [b"typed 0", b"typed 3"]
    assert not list(tmp_path.glob("*.entry"))
    assert queue.status()["pending"] == 0


def test_a_held_autosave_is_archived_once_its_interval_is_over(store: S3Store, tmp_path: Path) -> None:
    queue = new_queue(store, tmp_path, autosave_interval=1.0)
    queue.enqueue(KEY, "mine.ipynb", b"saved")
    queue.enqueue(KEY, "mine.ipynb", b"typed 0", auto=True)
    queue.enqueue(KEY, "mine.ipynb", b"typed 1", auto=True)
    # Nothing asks for it: the queue's own timer archives the last state (how many versions
    # that takes depends on how fast this machine is: the bound is tested above).
    eventually(lambda: bodies(store, KEY)[-1:] == [b"typed 1"])
    assert bodies(store, KEY)[0] == b"saved"
    eventually(settled(queue, pending=0))
    queue.stop()


def test_an_explicit_save_is_archived_at_once_and_replaces_the_waiting_autosave(
    store: S3Store, tmp_path: Path
) -> None:
    queue = new_queue(store, tmp_path)
    queue.enqueue(KEY, "mine.ipynb", b"saved")
    eventually(settled(queue, pending=0))
    queue.enqueue(KEY, "mine.ipynb", b"typed", auto=True)
    eventually(settled(queue, pending=1, archived=1))
    queue.enqueue(KEY, "mine.ipynb", b"saved again")
    eventually(settled(queue, pending=0, coalesced=1))
    assert bodies(store, KEY) == [b"saved", b"saved again"]
    queue.stop()


def test_an_autosave_back_to_the_latest_version_adds_none(store: S3Store, tmp_path: Path) -> None:
    queue = new_queue(store, tmp_path)
    queue.enqueue(KEY, "mine.ipynb", b"saved")
    queue.enqueue(KEY, "mine.ipynb", b"typed", auto=True)
    queue.enqueue(KEY, "mine.ipynb", b"saved", auto=True)  # the typing undone
    eventually(settled(queue, pending=1, archived=1, coalesced=1))
    queue.stop()
    assert bodies(store, KEY) == [b"saved"]
    assert queue.status()["pending"] == 0


def test_waiting_for_a_notebook_archives_its_held_autosave_now(store: S3Store, tmp_path: Path) -> None:
    """Publishing waits for the notebook's pending save: it must not wait for the interval."""
    queue = new_queue(store, tmp_path)
    queue.enqueue(KEY, "mine.ipynb", b"saved")
    queue.enqueue(KEY, "mine.ipynb", b"typed", auto=True)
    eventually(settled(queue, pending=1, archived=1))
    assert queue.wait_for(KEY, 30)
    assert bodies(store, KEY) == [b"saved", b"typed"]
    queue.stop()


def test_other_notebooks_are_not_held_up_by_a_waiting_autosave(store: S3Store, tmp_path: Path) -> None:
    settings = UploadSettings(workers=1, upload_delay=0.0, autosave_interval=HOUR)
    queue = ArchiveQueue(store, Spool(tmp_path), settings)
    other = f"{PREFIX}/other.ipynb"
    queue.enqueue(KEY, "mine.ipynb", b"saved")
    queue.enqueue(KEY, "mine.ipynb", b"typed", auto=True)
    queue.enqueue(other, "other.ipynb", b"other saved")
    queue.enqueue(other, "other.ipynb", b"other typed", auto=True)
    queue.enqueue(other, "other.ipynb", b"other saved again")
    eventually(settled(queue, pending=1, coalesced=1))
    assert bodies(store, other) == [b"other saved", b"other saved again"]
    queue.stop()
    assert bodies(store, KEY) == [b"saved", b"typed"]


def test_autosaves_left_in_the_spool_are_archived_as_their_last(store: S3Store, tmp_path: Path) -> None:
    """A server killed while autosaves waited: the next one archives the last state, within
    the interval counted from when the notebook was saved."""
    spool = Spool(tmp_path)
    spool.add(KEY, "mine.ipynb", b"saved")
    for i in range(3):
        spool.add(KEY, "mine.ipynb", f"typed {i}".encode(), auto=True)
    spool.release()  # the server died
    queue = new_queue(store, tmp_path)
    eventually(settled(queue, pending=1, archived=1, coalesced=2))
    assert bodies(store, KEY) == [b"saved"]
    queue.stop()
    assert bodies(store, KEY) == [b"saved", b"typed 2"]
    assert not list(tmp_path.glob("*.entry"))


# -- through Jupyter ------------------------------------------------------------------------


def test_saving_a_notebook_unchanged_adds_no_version(jupyter: JupyterServer, store: S3Store) -> None:
    key = f"{PREFIX}/same.ipynb"
    one, two = notebook("a = 1"), notebook("a = 2")  # (each has cell ids of its own)
    for content in (one, one, two, one, one):
        jupyter.save("same.ipynb", content)
    status = jupyter.wait_archived()
    assert len(bodies(store, key)) == 3
    assert bodies(store, key)[-1] == (jupyter.root_dir / "same.ipynb").read_bytes()
    assert (status["archive"]["archived"], status["archive"]["unchanged"]) == (5, 2)
