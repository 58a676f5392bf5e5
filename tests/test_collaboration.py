"""Collaborative editing (jupyter-collaboration) in a real browser: its autosaves coalesced.

With jupyter-collaboration the server saves the shared document itself about a second after
each pause in typing. A person typing with pauses, never saving, must leave a history one can
read: one version per ``autosave_interval`` at most, the last state archived in the end; an
explicit save (Ctrl-S) is archived at once, and opening a notebook archives nothing.

jupyter-collaboration would make every Jupyter server of its environment collaborative, so
it lives in a virtualenv of its own layered on this one (``make collab``,
scripts/collab_venv.py; ``BOOKSTORE_COLLAB_VENV`` points elsewhere), which runs this
module's Jupyter server; the browser is Debian's Chromium, as in tests/test_labextension.py.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.browser import KERNELSPEC, open_notebook, quiet_lab_settings
from tests.helpers.jupyter_process import JupyterServer, notebook, seed_config

# Chromium, and JupyterLab with jupyter-collaboration (make collab).
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
COLLAB_VENV = Path(os.environ.get("BOOKSTORE_COLLAB_VENV") or ROOT / ".venv" / "collab")
PATH = "shared/notes.ipynb"
KEY = f"workspace/kylek/notebooks/{PATH}"
#: Longer than any test: the autosaves of one are coalesced into one version at most.
INTERVAL = 3600


def collab_python() -> Path:
    python = COLLAB_VENV / "bin" / "python"
    found = (
        os.access(python, os.X_OK) and os.system(f"{python} -c 'import jupyter_server_ydoc' 2>/dev/null") == 0
    )
    if not found:
        pytest.fail(
            f"no jupyter-collaboration in {COLLAB_VENV}: run `make collab` (it is installed in a "
            "virtualenv of its own, since it makes every Jupyter server of its environment collaborative)"
        )
    return python


class CollaborativeLab(JupyterServer):
    """JupyterLab with jupyter-collaboration, run by the collaboration virtualenv's Python."""

    def __init__(self, home: Path, config: str, python: Path) -> None:
        super().__init__(home, config, other_extensions=True)
        self.python = python

    def command(self) -> list[str]:
        return [str(self.python), *super().command()[1:]]

    def env(self) -> dict[str, str]:
        env = super().env()
        # This environment's Jupyter extensions (bookstore's, JupyterLab's) behind its own.
        env["JUPYTER_CONFIG_PATH"] = str(Path(sys.prefix) / "etc" / "jupyter")
        env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
        return env

    def archive(self) -> dict[str, Any]:
        return self.status()["archive"]  # type: ignore[no-any-return]

    def wait_settled(self, timeout: float = 60.0) -> dict[str, Any]:
        """Poll until every save is archived but the autosaves waiting for their interval."""
        return eventually(lambda: (a := self.archive())["pending"] == a["waiting"] and a, timeout)


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` until it answers something true; the bound only ends a hung test."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s")
        time.sleep(0.1)
    return found


@pytest.fixture
def lab(s3_server: SeaweedFS, bucket: str, tmp_path: Path) -> Iterator[CollaborativeLab]:
    home = tmp_path / "jupyter"
    quiet_lab_settings(home)
    # JupyterLab's own timer saves a document with unsaved changes every 120 s as Ctrl-S
    # does; out of the way here (its saves are explicit ones, archived at once).
    docmanager = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True, exist_ok=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosaveInterval": INTERVAL}))
    config = seed_config(s3_server, bucket) + (
        f"c.BookstoreContentsArchiver.autosave_interval = {INTERVAL}\n"
        f"c.SQLiteYStore.db_path = {str(tmp_path / 'ystore.db')!r}\n"
    )
    server = CollaborativeLab(home, config, collab_python())
    server.start()
    try:
        server.request("PUT", "/api/contents/shared", json={"type": "directory"})
        # The notebook as a person saved it last: its one version before the test.
        server.save(PATH, notebook("x = 0", kernelspec=KERNELSPEC))
        server.wait_archived()
        yield server
    finally:
        server.stop()


def versions(store: S3Store) -> list[bytes]:
    """The notebook's archived versions, oldest first."""
    return [store.get(KEY, v.version_id).body for v in reversed(list(store.iter_versions(KEY)))]


def on_disk(lab: JupyterServer) -> bytes:
    return (lab.root_dir / PATH).read_bytes()


def cell_source(body: bytes) -> str:
    return "".join(json.loads(body)["cells"][0]["source"])


def saved_source(lab: JupyterServer) -> str:
    """The first cell of the notebook on disk ("" while Jupyter rewrites the file in place)."""
    try:
        return cell_source(on_disk(lab))
    except ValueError:
        return ""


def open_shared_notebook(page: Page, lab: JupyterServer) -> None:
    page.goto(f"{lab.url}/lab/tree/{PATH}?token={lab.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_contain_text("x = 0", timeout=60_000)
    # Collaborative: the document comes from the server's room, not the contents API.
    expect(page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first).to_be_editable(timeout=60_000)


def save_and_wait(page: Page, attempts: int = 3) -> None:
    """Ctrl-S, and wait until the server answered it: the save is then in the archive's spool.

    Twice in full runs of the suite on a loaded machine, jupyter-collaboration never answered
    the save request (the status bar stays at "Saving started", and the page sends no other
    save while it waits for that answer); it did not happen in runs of this module alone.
    The page is then reloaded, as a person would (the typed text is already in the server's
    copy of the document), and the save asked for again: a save that bookstore itself does
    not answer fails the test all the same.
    """
    status = page.locator("#jp-main-statusbar")
    for attempt in range(1, attempts + 1):
        page.keyboard.press("Control+s")
        try:
            expect(status).to_contain_text("Saving completed", timeout=30_000)
            return
        except AssertionError:
            if attempt == attempts:
                raise
        page.reload()
        editor = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
        expect(editor).to_be_editable(timeout=60_000)
        editor.click()


def type_with_pauses(page: Page, lab: JupyterServer, lines: list[str]) -> None:
    """Type each line at the end of the first cell, then pause until the server autosaved it."""
    editor = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    editor.click()
    page.keyboard.press("Control+End")
    for line in lines:
        page.keyboard.type(f"\n{line}", delay=20)
        # The pause: the server saves on its own once typing stops (no Ctrl-S here).
        eventually(lambda line=line: saved_source(lab).endswith(line))


def test_typing_with_pauses_archives_one_version_and_the_last_state_in_the_end(
    lab: CollaborativeLab, browser: Browser, store: S3Store
) -> None:
    page = browser.new_page()
    open_shared_notebook(page, lab)
    lines = [f"y{i} = {i}" for i in range(8)]
    type_with_pauses(page, lab, lines)
    # Eight pauses, eight saves by the server: none archived yet, the last one waiting.
    eventually(lambda: (a := lab.wait_settled())["waiting"] == 1 and a["coalesced"] >= len(lines) - 1)
    assert len(versions(store)) == 1
    final = on_disk(lab)
    assert cell_source(final).endswith(lines[-1])
    page.close()
    # Stopping the server archives the waiting autosave: the last state is not lost.
    lab.stop()
    archived = versions(store)
    assert len(archived) == 2
    assert archived[-1] == final


def test_an_explicit_save_while_collaborating_is_archived_at_once(
    lab: CollaborativeLab, browser: Browser, store: S3Store
) -> None:
    page = browser.new_page()
    open_shared_notebook(page, lab)
    type_with_pauses(page, lab, ["z = 1"])
    page.keyboard.type("  # saved", delay=20)
    save_and_wait(page)
    assert cell_source(on_disk(lab)).endswith("z = 1  # saved")
    # It replaced the autosave that waited, and was archived without waiting.
    eventually(lambda: lab.wait_settled()["waiting"] == 0)
    archived = versions(store)
    assert len(archived) == 2
    assert archived[-1] == on_disk(lab)
    page.close()


def test_opening_a_notebook_archives_nothing_new(
    lab: CollaborativeLab, browser: Browser, store: S3Store
) -> None:
    # The notebook as JupyterLab leaves it: saved with its kernel's metadata (language_info).
    page = browser.new_page()
    open_notebook(page, lab, PATH)
    page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first.click()
    save_and_wait(page)
    lab.wait_settled()
    page.close()
    lab.stop()
    before = versions(store)
    # Another day, another server: open it, and save it unchanged. Whatever the server saved
    # while opening it comes before that save: once it is archived, so is everything before.
    lab.start()
    page = browser.new_page()
    open_notebook(page, lab, PATH)
    page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first.click()
    save_and_wait(page)
    archive = lab.wait_settled()
    assert archive["unchanged"] >= 1
    assert versions(store) == before
    page.close()
    lab.stop()  # and whatever still waited
    assert versions(store) == before
