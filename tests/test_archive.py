"""Archive on save, through a real ``jupyter server`` over HTTP and a real SeaweedFS."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import (
    FAST_RETRY,
    PREFIX,
    JupyterServer,
    bodies,
    notebook,
    seed_config,
    sources,
    started_with_a_save,
)

# Each test starts Jupyter servers of its own; some stop, freeze or restart S3.
pytestmark = pytest.mark.slow


def store_on(server: SeaweedFS, bucket: str) -> S3Store:
    return server.store(bucket)


def test_each_save_becomes_a_version_holding_the_bytes_on_disk(
    jupyter: JupyterServer, store: S3Store
) -> None:
    jupyter.request("PUT", "/api/contents/analysis", json={"type": "directory"})
    on_disk = []
    for i in range(3):
        jupyter.save("analysis/mine.ipynb", notebook(f"x = {i}"))
        on_disk.append((jupyter.root_dir / "analysis/mine.ipynb").read_bytes())
    status = jupyter.wait_archived()
    key = f"{PREFIX}/analysis/mine.ipynb"
    assert bodies(store, key) == on_disk
    latest = store.head(key)
    assert latest.metadata["bookstore-sha256"] == hashlib.sha256(on_disk[-1]).hexdigest()
    assert latest.metadata["bookstore-path"] == "analysis/mine.ipynb"
    assert status["archive"]["archived"] == 3
    assert status["versioning"] == "Enabled"
    # Each save was archived from the bytes jupyter_server wrote, through the private
    # _save_notebook the archiver overrides; a release renaming it would make this count grow.
    assert status["archive"]["reserialised"] == 0


def test_files_that_are_not_notebooks_are_not_archived(jupyter: JupyterServer, store: S3Store) -> None:
    answer = jupyter.request(
        "PUT", "/api/contents/notes.txt", json={"type": "file", "format": "text", "content": "hi"}
    )
    assert answer.status_code == 201
    jupyter.save("mine.ipynb", notebook())
    jupyter.wait_archived()
    assert [v.key for v in store.iter_versions(f"{PREFIX}/notes.txt")] == []
    assert len(list(store.iter_versions(f"{PREFIX}/mine.ipynb"))) == 1


def test_burst_of_fifty_saves_gives_fifty_ordered_versions(jupyter: JupyterServer, store: S3Store) -> None:
    for i in range(50):
        jupyter.save("burst.ipynb", notebook(f"save {i}"))
    jupyter.wait_archived()
    assert sources(store, f"{PREFIX}/burst.ipynb") == [f"save {i}" for i in range(50)]


def test_eight_notebooks_saved_concurrently_keep_their_own_order(
    jupyter: JupyterServer, store: S3Store
) -> None:
    def save_many(n: int) -> None:
        for i in range(6):
            jupyter.save(f"nb{n}.ipynb", notebook(f"notebook {n} save {i}"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(save_many, range(8)))
    jupyter.wait_archived()
    for n in range(8):
        assert sources(store, f"{PREFIX}/nb{n}.ipynb") == [f"notebook {n} save {i}" for i in range(6)]


def test_a_save_made_while_s3_hangs_becomes_exactly_one_version(
    jupyter_factory: Any, private_s3: SeaweedFS, tmp_path: Path
) -> None:
    """S3 frozen with its sockets open holds every request sent to it and acts on all of them
    when it resumes: an upload re-sent blindly after a timeout would be stored twice."""
    from tests.helpers.cli import CONFIG, clean_env

    bucket = private_s3.create_bucket(new_bucket_name())
    hang = "\nc.BookstoreContentsArchiver.upload_timeout = 1.5\n"
    jupyter = started_with_a_save(
        jupyter_factory, seed_config(private_s3, bucket) + FAST_RETRY + hang, "hang.ipynb"
    )
    config = tmp_path / "cli_config.py"
    config.write_text(CONFIG + private_s3.bookstore_config(bucket))

    private_s3.pause()
    try:
        jupyter.save("hang.ipynb", notebook("during"))
        deadline = time.monotonic() + 30
        while (status := jupyter.status()["archive"])["state"] != "retrying" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status["state"] == "retrying"
        assert "did not answer within 1.5 s" in status["last_error"]
        # What a person waits on gives up within seconds (the bounds here are only there
        # to end the test if it hangs), with the message they already had. The command
        # and the REST request wait out their timeouts side by side.
        cli = subprocess.Popen(
            [sys.executable, "-m", "bookstore.cli", "versions", "hang.ipynb", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(tmp_path),
        )
        try:
            listed = jupyter.request("GET", "/api/bookstore/versions/hang.ipynb", timeout=45)
            _, cli_stderr = cli.communicate(timeout=45)
        finally:
            cli.kill()
            cli.wait()
        assert listed.status_code == 503
        assert "did not answer" in listed.json()["message"]
        assert cli.returncode == 5, cli_stderr
        assert "did not answer" in cli_stderr
    finally:
        private_s3.resume()

    jupyter.wait_archived(timeout=90)
    store = store_on(private_s3, bucket)
    key = f"{PREFIX}/hang.ipynb"
    assert sources(store, key) == ["before", "during"]
    save_ids = [store.head(key, v.version_id).metadata["bookstore-save-id"] for v in store.iter_versions(key)]
    assert len(set(save_ids)) == len(save_ids) == 2


def test_saves_during_an_s3_outage_are_archived_in_order_when_it_returns(
    jupyter_factory: Any, private_s3: SeaweedFS
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    jupyter = started_with_a_save(jupyter_factory, seed_config(private_s3, bucket) + FAST_RETRY)

    outage_started = datetime.now(UTC)
    private_s3.kill()
    for i in range(4):
        jupyter.save("mine.ipynb", notebook(f"during {i}"))  # asserts 2xx: saving keeps working
    deadline = time.monotonic() + 30
    while (status := jupyter.status()["archive"])["state"] != "retrying" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status["state"] == "retrying"
    assert status["pending"] == 4
    assert "cannot reach S3" in status["last_error"]

    time.sleep(1.5)  # LastModified has one-second resolution
    outage_ended = datetime.now(UTC)
    private_s3.start()
    jupyter.wait_archived(timeout=90)
    expected = ["before"] + [f"during {i}" for i in range(4)]
    assert sources(store_on(private_s3, bucket), f"{PREFIX}/mine.ipynb") == expected
    # The history shows when each save was made, not when S3 came back to take it.
    listed = jupyter.request("GET", "/api/bookstore/versions/mine.ipynb").json()["versions"]
    for version in listed[:4]:
        saved_at = datetime.fromisoformat(version["saved_at"])
        uploaded = datetime.fromisoformat(version["last_modified"])
        assert saved_at < outage_ended <= uploaded + timedelta(seconds=1)
    assert datetime.fromisoformat(listed[4]["saved_at"]) < outage_started
    log = jupyter.log()
    # Logged once per episode, not once per retry.
    assert log.count("Saves keep working and are kept on local disk") == 1
    assert "works again" in log
    assert private_s3.secret_key not in log


def test_saves_pending_when_jupyter_dies_are_archived_after_restart(
    jupyter_factory: Any, private_s3: SeaweedFS, tmp_path: Path
) -> None:
    bucket = private_s3.create_bucket(new_bucket_name())
    config = seed_config(private_s3, bucket) + FAST_RETRY
    home = tmp_path / "jupyter"
    first = jupyter_factory(config, home=home)
    private_s3.kill()
    for i in range(3):
        first.save("mine.ipynb", notebook(f"unarchived {i}"))
    first.kill()  # SIGKILL right after the saves were answered

    private_s3.start()
    second = jupyter_factory(config, home=home)
    second.wait_archived(timeout=90)
    store = store_on(private_s3, bucket)
    assert sources(store, f"{PREFIX}/mine.ipynb") == [f"unarchived {i}" for i in range(3)]
    assert "replaying 3 save(s)" in second.log()
    # Nothing is archived twice by a later restart.
    third_home_log = second.log()
    second.kill()
    third = jupyter_factory(config, home=home)
    third.save("other.ipynb", notebook())
    third.wait_archived()
    assert len(list(store.iter_versions(f"{PREFIX}/mine.ipynb"))) == 3
    assert "replaying" not in third.log().replace(third_home_log, "")


def test_server_killed_mid_upload_archives_each_save_once_in_order(
    jupyter_factory: Any, private_s3: SeaweedFS, tmp_path: Path
) -> None:
    """SIGKILL, as a crash or the OOM killer would, while uploads are on their way to S3 (S3
    stopped with SIGSTOP holds every request sent to it and acts on them when it resumes):
    the next server replays the spool, and each save is still exactly one version, in order."""
    bucket = private_s3.create_bucket(new_bucket_name())
    config = seed_config(private_s3, bucket) + FAST_RETRY
    home = tmp_path / "jupyter"
    first = started_with_a_save(jupyter_factory, config, home=home)

    private_s3.pause()
    try:
        for i in range(3):
            first.save("mine.ipynb", notebook(f"during {i}"))
        assert first.status()["archive"]["pending"] == 3
        first.kill()
        second = jupyter_factory(config, home=home)
        second.save("mine.ipynb", notebook("after the restart"))
    finally:
        private_s3.resume()

    second.wait_archived(timeout=120)
    store = store_on(private_s3, bucket)
    key = f"{PREFIX}/mine.ipynb"
    assert sources(store, key) == ["before", "during 0", "during 1", "during 2", "after the restart"]
    save_ids = [store.head(key, v.version_id).metadata["bookstore-save-id"] for v in store.iter_versions(key)]
    assert len(set(save_ids)) == len(save_ids) == 5


def test_unversioned_bucket_is_reported_with_the_fix(jupyter_factory: Any, s3_server: SeaweedFS) -> None:
    bucket = s3_server.create_bucket(new_bucket_name(), versioned=False)
    jupyter = jupyter_factory(seed_config(s3_server, bucket))
    jupyter.save("mine.ipynb", notebook())
    status = jupyter.wait_archived()
    assert status["versioning"] is None
    log = jupyter.log()
    assert f"versioning is not enabled on bucket '{bucket}'" in log
    assert f"put-bucket-versioning --bucket {bucket}" in log


def test_wrong_credentials_are_reported_and_the_spool_is_capped(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str
) -> None:
    secret = "not-the-right-secret-42"
    config = (
        seed_config(s3_server, bucket, secret_key=secret)
        + FAST_RETRY
        + "c.BookstoreContentsArchiver.max_spool_bytes = 4000\n"
    )
    jupyter = jupyter_factory(config)
    size = len(json.dumps(notebook("save 00")))
    for i in range(4000 // size + 3):
        jupyter.save("mine.ipynb", notebook(f"save {i:02d}"))  # saving never fails because of S3
    # The status reports S3's answer once an upload has one (the bound ends a hung test).
    deadline = time.monotonic() + 30
    while "refused" not in str((status := jupyter.status())["archive"]["last_error"]):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status["versioning"] == "unknown"
    archive = status["archive"]
    assert archive["state"] == "spool-full"
    assert 0 < archive["pending_bytes"] <= 4000
    assert archive["not_archived"] > 0
    assert "archive spool is full" in archive["last_error"]
    assert "refused the credentials" in archive["last_error"]
    assert (jupyter.root_dir / "mine.ipynb").exists()
    log = jupyter.log()
    assert "refused the credentials" in log
    assert log.count("archive spool is full") == 1
    assert secret not in log and secret not in json.dumps(status)
    assert s3_server.secret_key not in log


def test_users_own_save_hooks_still_run_and_the_archive_holds_their_result(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    marker = tmp_path / "post-save-ran"
    hooks = f"""
def strip_outputs(model, **kwargs):
    if model["type"] == "notebook":
        model["content"]["metadata"]["stripped_by_hook"] = True

def record(os_path, model, contents_manager, **kwargs):
    open({str(marker)!r}, "a").write(os_path + "\\n")

c.FileContentsManager.pre_save_hook = strip_outputs
c.FileContentsManager.post_save_hook = record
"""
    jupyter = jupyter_factory(seed_config(s3_server, bucket) + hooks)
    jupyter.save("mine.ipynb", notebook())
    jupyter.wait_archived()
    assert marker.read_text().strip().endswith("mine.ipynb")
    archived = json.loads(store.get(f"{PREFIX}/mine.ipynb").body)
    assert archived["metadata"]["stripped_by_hook"] is True


#: Archive settings as the docs give them (docs/configuration.md), for whichever archiving manager is in use.
ARCHIVE_SETTINGS = """
c.BookstoreContentsArchiver.spool_dir = {spool_dir!r}
c.BookstoreContentsArchiver.max_spool_bytes = 123456789
"""


def assert_archive_settings_applied(jupyter: JupyterServer, spool_dir: Path) -> None:
    archive = jupyter.status()["archive"]
    assert Path(archive["spool_dir"]).parent == spool_dir
    assert archive["max_spool_bytes"] == 123456789
    assert "not recognized" not in jupyter.log()


def test_another_contents_manager_archives_through_add_archiving(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    config = (
        seed_config(s3_server, bucket)
        + (
            "from bookstore import add_archiving\n"
            "from jupytext import TextFileContentsManager\n"
            "c.ServerApp.contents_manager_class = add_archiving(TextFileContentsManager)\n"
        )
        + ARCHIVE_SETTINGS.format(spool_dir=str(spool_dir))
        # jupytext's own settings stay its own: the archive's section says nothing of them.
        + "c.BookstoreContentsArchiver.hide_globs = ['*.ipynb']\n"
    )
    jupyter = jupyter_factory(config)
    nb = notebook("x = 1")
    nb["metadata"]["jupytext"] = {"formats": "ipynb,py:percent"}
    jupyter.save("paired.ipynb", nb)
    jupyter.wait_archived()
    # jupytext wrote its paired script, and the notebook itself was archived as written.
    assert (jupyter.root_dir / "paired.py").exists()
    assert store.get(f"{PREFIX}/paired.ipynb").body == (jupyter.root_dir / "paired.ipynb").read_bytes()
    assert jupyter.status()["archiving"] is True
    # The archive settings under c.BookstoreContentsArchiver apply, as for the seed's manager.
    assert_archive_settings_applied(jupyter, spool_dir)
    listed = jupyter.request("GET", "/api/contents").json()["content"]
    assert "paired.ipynb" in [item["name"] for item in listed]


def test_jupytext_server_extension_keeps_archiving(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    config = seed_config(s3_server, bucket) + ARCHIVE_SETTINGS.format(spool_dir=str(spool_dir))
    jupyter = jupyter_factory(config, other_extensions=True)
    jupyter.save("mine.ipynb", notebook("with jupytext"))
    status = jupyter.wait_archived()
    assert_archive_settings_applied(jupyter, spool_dir)
    assert status["archive"]["archived"] == 1
    assert sources(store, f"{PREFIX}/mine.ipynb") == ["with jupytext"]


@pytest.mark.parametrize("manager", ["LargeFileManager", "AsyncFileContentsManager"])
def test_add_archiving_wraps_sync_and_async_managers(
    jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, store: S3Store, manager: str
) -> None:
    module = "largefilemanager" if manager == "LargeFileManager" else "filemanager"
    config = seed_config(s3_server, bucket) + (
        "from bookstore import add_archiving\n"
        f"from jupyter_server.services.contents.{module} import {manager}\n"
        f"c.ServerApp.contents_manager_class = add_archiving({manager})\n"
    )
    jupyter = jupyter_factory(config)
    for i in range(3):
        jupyter.save("mine.ipynb", notebook(f"{manager} {i}"))
    jupyter.wait_archived()
    assert sources(store, f"{PREFIX}/mine.ipynb") == [f"{manager} {i}" for i in range(3)]
