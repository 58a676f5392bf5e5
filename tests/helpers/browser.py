"""Headless Chromium for the browser tests (driven through Playwright), and JupyterLab in it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.helpers.jupyter_process import JupyterServer

ROOT = Path(__file__).resolve().parents[2]
#: The JupyterLab extension's package name, as `jupyter labextension list` shows it.
NAME = "notebook-bookstore"
#: The notebook the browser tests open and publish.
PATH = "analysis/mine.ipynb"
#: The kernel the browser tests' notebooks name.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium, installed the way ``make test`` does when it is missing."""
    path = os.environ.get("BOOKSTORE_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        done = subprocess.run([str(ROOT / "scripts" / "ensure_chromium.sh")], capture_output=True, text=True)
        if done.returncode != 0 or not os.access(path, os.X_OK):
            pytest.fail(f"no Chromium for the browser test at {path}:\n{done.stdout}{done.stderr}")
    return path


def quiet_lab_settings(home: Path) -> None:
    """No news or update toasts over the screenshots (``JupyterServer`` sets the config dir)."""
    settings = home / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def open_notebook(page: Page, server: JupyterServer, path: str) -> None:
    page.goto(f"{server.url}/lab/tree/{path}?token={server.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=60_000)
    # The kernel is not needed, but wait for it so the status bar settles for the screenshots,
    # and so its language_info reaches the notebook before the test edits and saves it (arriving
    # after Ctrl+S, it leaves the notebook unsaved). The execution indicator says idle before
    # the kernel is connected; the status bar's kernel item does not.
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    expect(idle).to_have_count(1, timeout=60_000)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)


def start_lab(jupyter_factory: Any, tmp_path: Path, config: str) -> JupyterServer:
    """JupyterLab with ``config``, its other extensions too, and no toasts over the screenshots."""
    home = tmp_path / "jupyter"
    quiet_lab_settings(home)
    return jupyter_factory(config, home=home, other_extensions=True)  # type: ignore[no-any-return]


def versions(server: JupyterServer, stage: str) -> list[dict[str, Any]]:
    answer = server.request("GET", f"/api/bookstore/versions/{PATH}?stage={stage}")
    assert answer.status_code == 200, answer.text
    return answer.json()["versions"]  # type: ignore[no-any-return]


def publish_from_toolbar(page: Page, server: JupyterServer) -> tuple[Locator, list[dict[str, Any]]]:
    """Click Publish in the notebook toolbar; the dialog shows the one published version's id."""
    page.locator("[data-jp-item-name='bookstore-publish']").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator(".jp-bookstore-Published-versionId")).to_be_visible(timeout=60_000)
    published = versions(server, "published")
    assert len(published) == 1
    expect(dialog.locator(".jp-bookstore-Published-versionId")).to_have_value(published[0]["version_id"])
    return dialog, published
