"""Headless Chromium for the browser tests (driven through Playwright)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

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
