"""Make the virtualenv tests/test_collaboration.py runs Jupyter from: ``make collab``.

jupyter-collaboration enables its server extension for every Jupyter server of the
environment it is installed in, which would turn every other test's server (and ``make
run``'s) collaborative. So it goes into a virtualenv of its own, layered on this one: a
``.pth`` file adds this environment's packages (bookstore, JupyterLab, ...) behind its own,
and only the ``collaboration`` extra of pyproject.toml is installed into it.

Usage: ``python scripts/collab_venv.py <folder>`` with the project's virtualenv Python.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirements() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    found: list[str] = project["optional-dependencies"]["collaboration"]
    return found


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(
        subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    )


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    folder = Path(sys.argv[1]).absolute()
    print(f"==> a virtualenv with jupyter-collaboration for tests/test_collaboration.py in {folder}")
    venv.create(folder, with_pip=True, clear=True)
    python = folder / "bin" / "python"
    # site.addsitedir, not a bare path: this environment's own .pth files (bookstore's
    # editable install) must be read too.
    base = sysconfig.get_paths()["purelib"]
    (site_packages(python) / "bookstore-base.pth").write_text(f"import site; site.addsitedir({base!r})\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements()], check=True)


if __name__ == "__main__":
    main()
