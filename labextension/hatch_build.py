"""Hatch build hook: build the JupyterLab extension into ``bookstore/labextension``.

Every wheel (editable ones too, so ``pip install -e .`` and ``make`` on a fresh clone) ships
the prebuilt extension as shared data. The build needs Node.js and npm; it installs the
locked npm packages (``npm ci``) when ``node_modules`` is older than ``package-lock.json``,
and builds only when a source is newer than the last build. Set
``BOOKSTORE_SKIP_LABEXTENSION=1`` to package whatever was built before without running npm.
A copy of the repository without ``labextension/`` builds a wheel without the extension.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCES = ("src", "style", "schema", "package.json", "package-lock.json", "tsconfig.json")


def newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
        elif path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


class LabextensionBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        source = root / "labextension"
        built = root / "bookstore" / "labextension" / "package.json"
        if not (source / "package.json").exists():
            # A partial copy of the repository (the Airflow image copies only the Python side).
            if not built.exists():
                self.app.display_warning("bookstore: no labextension/, no JupyterLab extension")
            return
        if os.environ.get("BOOKSTORE_SKIP_LABEXTENSION") == "1":
            if not built.exists():
                raise RuntimeError(f"BOOKSTORE_SKIP_LABEXTENSION=1, but {built} is not built")
            return
        if built.exists() and built.stat().st_mtime >= newest_mtime([source / name for name in SOURCES]):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building bookstore's JupyterLab extension needs Node.js (20 or newer) and npm on the PATH"
            )
        installed = source / "node_modules" / ".package-lock.json"
        lock = source / "package-lock.json"
        if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
            self.app.display_info("bookstore: npm ci (the JupyterLab extension's build dependencies)")
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=source, check=True)
        self.app.display_info("bookstore: npm run build (the JupyterLab extension)")
        subprocess.run([npm, "run", "build"], cwd=source, check=True)
        # The builder may leave unchanged files alone: mark this build as the newest.
        built.touch()
