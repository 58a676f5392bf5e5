"""Starting and stopping the local servers of tests, benchmarks and ``make run``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port(host: str = "127.0.0.1", taken: set[int] | None = None) -> int:
    """A TCP port nobody listens on right now (and not in ``taken``)."""
    taken = taken or set()
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            return port


def terminate(process: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """Stop a child started in its own session: SIGTERM to its group, SIGKILL after ``grace`` s."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass
