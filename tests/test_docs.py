"""The README's configuration reference is generated from the traits and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_readme_configuration_reference_matches_the_traits() -> None:
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "config_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    readme = (REPO / "README.md").read_text()
    for setting in ("c.Bookstore.S3.bucket", "c.BookstoreContentsArchiver.max_spool_bytes"):
        assert f"`{setting}`" in readme
