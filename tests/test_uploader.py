"""The uploader process: a real ``jupyter server``, its real uploader child, a real SeaweedFS.

Processes are killed with SIGKILL, as a crash or the OOM killer would, while saves are
pending or on their way to S3 (S3 stopped with SIGSTOP holds every request sent to it and
acts on them when it resumes): each save must still become exactly one version, in order.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from bookstore.s3 import S3Store
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
EXPECTED = ["before", "during 0", "during 1", "during 2", "after the restart"]


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` until it answers something true; the bound only ends a hung test."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(0.1)
    return found


def uploader(jupyter: JupyterServer) -> dict[str, Any]:
    return jupyter.status()["archive"]["uploader"]  # type: ignore[no-any-return]


def running_uploader(jupyter: JupyterServer) -> dict[str, Any] | None:
    found = uploader(jupyter)
    return found if found["state"] == "running" else None


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def assert_archived_once_in_order(store: S3Store, expected: list[str]) -> None:
    assert sources(store, KEY) == expected
    save_ids = [store.head(KEY, v.version_id).metadata["bookstore-save-id"] for v in store.iter_versions(KEY)]
    assert len(set(save_ids)) == len(save_ids) == len(expected)


def test_uploads_run_in_a_child_process_stopped_with_the_server(
    jupyter: JupyterServer, store: S3Store
) -> None:
    jupyter.save("mine.ipynb", notebook("x = 1"))
    status = jupyter.wait_archived()
    child = eventually(lambda: running_uploader(jupyter))
    assert status["archive"]["uploader"]["mode"] == "process"
    assert jupyter.process is not None
    server = psutil.Process(jupyter.process.pid)
    assert child["pid"] in [p.pid for p in server.children()]
    assert child["restarts"] == 0 and child["last_exit"] is None
    assert sources(store, KEY) == ["x = 1"]
    # The settings, credentials included, reach it on a pipe, never on its command line.
    assert not any("secret" in part.lower() for part in psutil.Process(child["pid"]).cmdline())

    jupyter.stop()  # SIGTERM: the server stops its uploader on the way out
    eventually(lambda: gone(child["pid"]))


def test_a_killed_uploader_is_restarted_and_each_save_archived_once_in_order(
    jupyter_factory: Any, private_s3: SeaweedFS
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    jupyter = started_with_a_save(jupyter_factory, seed_config(private_s3, bucket) + FAST_RETRY)
    first = eventually(lambda: running_uploader(jupyter))

    private_s3.pause()  # uploads now hang in S3, sent but unanswered
    try:
        for i in range(3):
            jupyter.save("mine.ipynb", notebook(f"during {i}"))
        assert jupyter.status()["archive"]["pending"] == 3
        os.kill(first["pid"], signal.SIGKILL)
        second = eventually(lambda: (u := running_uploader(jupyter)) and u["pid"] != first["pid"] and u)
        jupyter.save("mine.ipynb", notebook("after the restart"))
    finally:
        private_s3.resume()

    assert second["restarts"] >= 1
    assert second["last_exit"] == "killed by signal 9"
    jupyter.wait_archived(timeout=120)
    store = private_s3.store(bucket)
    assert_archived_once_in_order(store, EXPECTED)
    log = jupyter.log()
    assert "the uploader process killed by signal 9" in log
    assert "the uploader process runs again" in log
    status = jupyter.status()["archive"]
    assert status["state"] == "ok" and status["pending"] == 0


@pytest.mark.parametrize("killed", ["server", "server and uploader"])
def test_server_killed_while_its_uploader_is_mid_upload(
    jupyter_factory: Any, private_s3: SeaweedFS, tmp_path: Path, killed: str
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    config = seed_config(private_s3, bucket) + FAST_RETRY
    home = tmp_path / "jupyter"
    first = started_with_a_save(jupyter_factory, config, home=home)
    orphan = eventually(lambda: running_uploader(first))["pid"]

    private_s3.pause()
    try:
        for i in range(3):
            first.save("mine.ipynb", notebook(f"during {i}"))
        # SIGKILL the server alone (its uploader, mid-upload, outlives it for a while), or
        # both at once, as the OOM killer taking the whole container would.
        assert first.process is not None
        os.kill(first.process.pid, signal.SIGKILL)
        if killed == "server and uploader":
            os.kill(orphan, signal.SIGKILL)
        first.process.wait(10)
        second = jupyter_factory(config, home=home)
        second.save("mine.ipynb", notebook("after the restart"))
    finally:
        private_s3.resume()

    second.wait_archived(timeout=120)
    store = private_s3.store(bucket)
    assert_archived_once_in_order(store, EXPECTED)
    # The orphan saw its server go (end of its input) and exited by itself.
    eventually(lambda: gone(orphan))


def test_thread_uploads_remain_available(jupyter_factory: Any, s3_server: SeaweedFS, bucket: str) -> None:
    config = seed_config(s3_server, bucket) + '\nc.BookstoreContentsArchiver.uploader = "thread"\n'
    jupyter = jupyter_factory(config)
    for i in range(5):
        jupyter.save("mine.ipynb", notebook(f"save {i}"))
    status = jupyter.wait_archived()
    assert jupyter.process is not None
    # The status says where uploads run, as it does for the uploader process.
    assert status["archive"]["uploader"] == {
        "mode": "thread",
        "state": "running",
        "pid": jupyter.process.pid,
        "restarts": 0,
        "last_exit": None,
        "last_exit_at": None,
    }
    assert psutil.Process(jupyter.process.pid).children() == []
    assert sources(s3_server.store(bucket), KEY) == [f"save {i}" for i in range(5)]
