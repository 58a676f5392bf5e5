"""Starting, watching and stopping local servers: the one process supervisor of ``make run``,
the tests and the benchmarks.

:func:`free_port` and :func:`terminate` serve a single server (a test's SeaweedFS or
Jupyter). :class:`Supervisor` runs a few as one: ``make run`` (``scripts/run_local_stack.py``)
starts S3, JupyterLab and Airflow's components as children, each in a session of its own,
and this module keeps that honest:

- before anything starts, each port is checked free, and whoever holds one is named;
- a child that exits on its own, at any time, is reported at once with the end of its log,
  then everything is stopped and the run fails;
- stopping reaches every descendant, including those in sessions of their own (Jupyter's
  kernels), escalating from SIGTERM to SIGKILL; further Ctrl-C or SIGTERM while it runs are
  absorbed, since interrupting the clean-up half-way is what leaves servers behind;
- stopping says what it stops as it happens: which children it signals, each one as it ends
  (and after how long), and every few seconds which it still waits for, until when.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import psutil

#: Signals that mean "stop": Ctrl-C, ``kill`` (and make passing either on), a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: How much of a dead child's log a report shows.
TAIL_LINES = 20

T = TypeVar("T")


class StackError(Exception):
    """The stack cannot run; the message says why and what to do."""


class ChildExited(StackError):
    """A supervised process ended while it should have been running."""


class Stopping(BaseException):
    """A stop signal arrived.

    A BaseException, like KeyboardInterrupt, so that an ``except Exception`` in start-up code
    (boto3's retries, an HTTP probe) cannot swallow it.
    """


def say(text: str, *, error: bool = False) -> None:
    """Print a line at once; a terminal gone meanwhile (SIGHUP) must not stop the clean-up."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr if error else sys.stdout, flush=True)


# -- ports -----------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1", taken: set[int] | None = None) -> int:
    """A TCP port nobody listens on right now (and not in ``taken``)."""
    taken = taken or set()
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now.

    With SO_REUSEADDR, as servers set it, so that connections of an earlier run still in
    TIME_WAIT do not count; the bind still fails while anything listens on the port, on that
    address or on all of them.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def describe(process: psutil.Process) -> str:
    """``pid 1234 (jupyter-lab --port 8888 ...)``, or just the pid when its command is hidden."""
    try:
        command = " ".join(" ".join(process.cmdline()).split()) or process.name()
    except psutil.Error:
        return f"pid {process.pid}"
    if len(command) > 120:
        command = command[:117] + "..."
    return f"pid {process.pid} ({command})"


def listeners(port: int) -> list[psutil.Process]:
    """The processes listening on TCP ``port``, as far as this user may see them."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return []
    pids = {
        c.pid
        for c in connections
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    }
    found = []
    for pid in sorted(pids):
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(pid))
    return found


def port_problems(ports: Mapping[str, int], host: str = "127.0.0.1") -> list[str]:
    """What stands in the way of listening on each named port: one sentence per problem."""
    problems = []
    owners: dict[int, str] = {}
    for name, port in ports.items():
        if port in owners:
            problems.append(f"{owners[port]} and {name} are both {port}")
            continue
        owners[port] = name
        if port_is_free(port, host):
            continue
        holders = listeners(port)
        who = ", ".join(describe(p) for p in holders) if holders else "a process this user cannot see"
        problems.append(f"port {port} ({name}) is in use by {who}")
    return problems


def marked_processes(variable: str, value: str) -> list[psutil.Process]:
    """Processes whose environment sets ``variable`` to ``value`` (this one and its parents aside).

    Children inherit their parent's environment, so a mark set on the first process of a run
    finds every process of that run, even those orphaned when their parent was killed.
    """
    mine = {os.getpid()} | {p.pid for p in psutil.Process().parents()}
    found = []
    for process in psutil.process_iter():
        if process.pid in mine:
            continue
        with contextlib.suppress(psutil.Error):  # gone meanwhile, or another user's
            if process.environ().get(variable) == value and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


# -- processes -------------------------------------------------------------------------------


def wait_for(check: Callable[[], T | None], timeout: float, what: str, poll: float = 1.0) -> T:
    """The first true value of ``check()``, asked every ``poll`` seconds for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, indented, or a note that there is none."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return f"    ({path} cannot be read)"
    last = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in last) if last else f"    ({path} is empty)"


def exit_description(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie: a zombie has ended, it only waits for its parent to notice."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def family_of(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    """``processes`` and their descendants, those still alive."""
    found: dict[int, psutil.Process] = {}
    for process in processes:
        if not alive(process):
            continue
        found.setdefault(process.pid, process)
        with contextlib.suppress(psutil.Error):
            for child in process.children(recursive=True):
                found.setdefault(child.pid, child)
    return [p for p in found.values() if alive(p)]


def listens_on(processes: Iterable[psutil.Process], port: int) -> bool:
    """Whether one of ``processes`` listens on ``port``. A server's own check that it
    answers can be fooled: a port picked free may be taken by another program before the
    server binds it, and that program may answer as the server would."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            for c in process.net_connections(kind="tcp"):
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port:
                    return True
    return False


def signal_group(pgid: int, signum: int) -> None:
    """Signal a process group of ours: never pid 0/1's, nor our own (the shell's, make's)."""
    if pgid <= 1 or pgid == os.getpgrp():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def signal_processes(processes: Iterable[psutil.Process], signum: int) -> None:
    """Signal each process, and the group it leads if it leads one (a kernel's session)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signum)  # psutil refuses a pid reused by someone else
            with contextlib.suppress(OSError):
                if os.getpgid(process.pid) == process.pid:
                    signal_group(process.pid, signum)


def launch(
    command: list[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **options: Any,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own, stdin closed, output appended to ``log``.

    Its own session: a Ctrl-C in the terminal reaches this process only, which then stops its
    children in order, and :func:`terminate` reaches everything the child starts. ``options``
    go to :class:`subprocess.Popen` (``user``, ``group``: another user's server).
    """
    with open(log, "ab") as handle:
        return subprocess.Popen(
            command,
            env=None if env is None else dict(env),
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **options,
        )


def kill(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a child started in a session of its own, and its session, as a crash would."""
    if process is not None and process.poll() is None:
        signal_group(process.pid, signal.SIGKILL)
        process.wait(10)


def terminate(process: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """Stop one child started in a session of its own, and everything it started (a Jupyter
    server's kernels): SIGTERM, then SIGKILL to whatever is left after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(psutil.Error):
        family = family_of([psutil.Process(process.pid)])
        signal_processes(family, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
        signal_processes([p for p in family if alive(p)], signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


@dataclass
class Child:
    """A supervised process: its name for messages, its log, and what it started."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    #: Children are stopped wave by wave, the highest first, those of a wave all at once.
    wave: int = 0
    #: A task that ends by design (a database migration), not a server.
    one_shot: bool = False
    #: Descendants seen so far, kept because those that outlive their parent are re-parented
    #: to init and can no longer be found from it.
    descendants: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def remember_descendants(self) -> None:
        # Only while not reaped: a reaped child's pid may already belong to someone else.
        if not self.running:
            return
        with contextlib.suppress(psutil.Error):
            for process in psutil.Process(self.process.pid).children(recursive=True):
                self.descendants.setdefault(process.pid, process)

    def family(self) -> list[psutil.Process]:
        self.remember_descendants()
        members = list(self.descendants.values())
        if self.running:
            with contextlib.suppress(psutil.Error):
                members.append(psutil.Process(self.process.pid))
        return family_of(members)

    def report(self) -> str:
        return (
            f"{self.name} {exit_description(self.process.returncode)}; "
            f"the last lines of {self.log}:\n{tail(self.log)}"
        )


class Supervisor:
    """Starts children, watches them, and stops them all, whatever signals arrive meanwhile.

    Parameters
    ----------
    grace
        Seconds a child gets to stop after SIGTERM before it is killed.
    settle
        Seconds what a stopped child left behind gets after SIGTERM before it is killed.
    progress
        Seconds between two reports of the children still stopping.
    """

    def __init__(self, *, grace: float = 20.0, settle: float = 5.0, progress: float = 5.0) -> None:
        self.children: list[Child] = []
        self.grace = grace
        self.settle = settle
        self.progress = progress
        self._armed = True  # whether a stop signal interrupts what runs now
        self._deferring = 0
        self._deferred: int | None = None
        self._absorbed = 0
        self._last_remembered = 0.0

    # -- signals --

    def install_signal_handlers(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # No printing here: the signal may have interrupted a print, and writing to the same
        # stream again would raise "reentrant call".
        if not self._armed:
            self._absorbed += 1  # already stopping: finishing the clean-up matters more
        elif self._deferring:
            self._deferred = signum
        else:
            self._disarm_and_raise(signum)

    def _disarm_and_raise(self, signum: int) -> NoReturn:
        self._armed = False
        raise Stopping(signal.Signals(signum).name)

    @contextlib.contextmanager
    def _signals_deferred(self) -> Iterator[None]:
        """Hold a stop signal until the block ends, so that no child is started unrecorded."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if self._deferred is not None and not self._deferring and self._armed:
            self._disarm_and_raise(self._deferred)

    def fail(self, message: str) -> NoReturn:
        """Give up with ``message``; signals from now on no longer interrupt the clean-up."""
        self._armed = False
        raise StackError(message)

    # -- starting and watching --

    def start(
        self,
        name: str,
        command: list[str],
        *,
        env: Mapping[str, str],
        log: Path,
        wave: int = 0,
        one_shot: bool = False,
        cwd: Path | None = None,
    ) -> Child:
        """Start ``command`` in a session of its own, output appended to ``log``, in ``cwd``
        (default: this process's working directory)."""
        with self._signals_deferred():
            process = launch(command, log=log, env=env, cwd=cwd)
            return self.adopt(name, process, log, wave=wave, one_shot=one_shot)

    def adopt(
        self, name: str, process: subprocess.Popen[bytes], log: Path, *, wave: int = 0, one_shot: bool = False
    ) -> Child:
        """Supervise a process started elsewhere (in its own session); adopting twice is harmless."""
        for child in self.children:
            if child.process is process:
                return child
        child = Child(name, process, Path(log), wave=wave, one_shot=one_shot)
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise :class:`ChildExited` if a server has ended; now and then note descendants."""
        for child in self.children:
            if not child.one_shot and not child.running:
                self._armed = False
                raise ChildExited(child.report())
        if time.monotonic() - self._last_remembered > 5:
            self._last_remembered = time.monotonic()
            for child in self.children:
                child.remember_descendants()

    def wait_until(
        self, ready: Callable[[], bool], timeout: float, what: str, log: Path | None = None
    ) -> None:
        """Wait for ``ready()``, failing at once if a child dies, and after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            if ready():
                return
            if time.monotonic() > deadline:
                where = f"; the last lines of {log}:\n{tail(log)}" if log else ""
                self.fail(f"{what} within {timeout:.0f} s{where}")
            time.sleep(0.5)

    def run_once(
        self, name: str, command: list[str], *, env: Mapping[str, str], log: Path, timeout: float
    ) -> None:
        """Run a task to its end, still watching the servers; fail if it fails."""
        child = self.start(name, command, env=env, log=log, one_shot=True)
        self.wait_until(lambda: not child.running, timeout, f"{name} did not finish", log)
        self.children.remove(child)
        if child.process.returncode != 0:
            self.fail(child.report())

    def listening(self, child: Child, port: int) -> bool:
        """Whether ``child`` (or one of its descendants) listens on ``port``: not someone else."""
        return listens_on(child.family(), port)

    def stop(self, child: Child) -> None:
        """Stop one child and all it started (as :meth:`stop_all` does) and forget it."""
        self._stop([child])
        self.children.remove(child)

    def watch(self) -> NoReturn:
        """Watch the children until one ends (:class:`ChildExited`) or a signal arrives."""
        while True:
            self.check()
            time.sleep(0.5)

    # -- stopping --

    def stop_all(self) -> None:
        """Stop every child and all it started, wave by wave; signals meanwhile are absorbed."""
        self._armed = False
        for wave in sorted({c.wave for c in self.children}, reverse=True):
            self._stop([c for c in self.children if c.wave == wave])
        self.children.clear()

    def _stop(self, children: list[Child]) -> None:
        leftovers = [p for c in children for p in c.family() if p.pid != c.process.pid]
        running = [c for c in children if c.running]
        if running:
            say(f"    stopping {', '.join(c.name for c in running)}")
        began = time.monotonic()
        for child in running:
            signal_group(child.process.pid, signal.SIGTERM)
        # The servers first, for up to `grace`: Jupyter shuts its kernels down, Airflow its
        # task processes, SeaweedFS flushes. Each is reported as it ends.
        reported: set[int] = set()

        def report_ended() -> bool:
            for child in children:
                if not child.running and id(child) not in reported:
                    reported.add(id(child))
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        child.process.wait(1)  # reap it
                    took = f" ({time.monotonic() - began:.1f} s)" if child in running else ""
                    say(f"    stopped {child.name}{took}")
            return len(reported) == len(children)

        self._wait(report_ended, self.grace, children, waiting_since=began)
        killed = [c for c in children if c.running]
        report_ended()  # those that ended as the wait did
        # Then what they left behind (kernels in sessions of their own, late forks).
        left = family_of(leftovers)
        if left and not killed:
            signal_processes(left, signal.SIGTERM)
            self._wait(lambda: not family_of(left), self.settle, children)
            left = family_of(left)
        leaders = {c.process.pid for c in children}
        forced: list[str] = []
        if killed or left:
            for child in killed:
                left += child.family()
            # While they can be described; once each (a killed child's family overlaps `left`).
            forced = [describe(p) for p in {p.pid: p for p in left}.values() if p.pid not in leaders]
            for child in killed:
                signal_group(child.process.pid, signal.SIGKILL)
            signal_processes(left, signal.SIGKILL)
            self._wait(lambda: not family_of(left) and not any(c.running for c in children), 5, children)
        for child in killed:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(1)  # reap it
            say(f"    stopped {child.name} (killed: still running {self.grace:.0f} s after SIGTERM)")
        if forced:
            say(f"    killed what they left running: {', '.join(forced)}")
        survivors = family_of(left)
        if survivors:
            say(f"    could not stop: {', '.join(describe(p) for p in survivors)}", error=True)

    def _wait(
        self,
        done: Callable[[], bool],
        timeout: float,
        children: list[Child],
        *,
        waiting_since: float | None = None,
    ) -> None:
        """Wait for ``done()``, for ``timeout`` s at most; with ``waiting_since``, say every
        :attr:`progress` seconds which children are still stopping."""
        deadline = time.monotonic() + timeout
        noted = self._absorbed
        next_report = time.monotonic() + self.progress
        while not done() and time.monotonic() < deadline:
            names = ", ".join(c.name for c in children if c.running) or "what they started"
            if self._absorbed != noted:
                noted = self._absorbed
                say(
                    f"    already stopping: waiting for {names}, "
                    f"then killing what is left (in {deadline - time.monotonic():.0f} s at most)"
                )
            elif waiting_since is not None and time.monotonic() >= next_report:
                next_report += self.progress
                say(
                    f"    still stopping {names} ({time.monotonic() - waiting_since:.0f} s so far; "
                    f"killed if still running in {deadline - time.monotonic():.0f} s)"
                )
            time.sleep(0.1)


def supervise(run: Callable[[Supervisor], None], supervisor: Supervisor | None = None) -> int:
    """Run ``run`` (which starts children and watches them), then stop them all.

    Returns the exit status: 0 when stopped by a signal, 1 when the stack failed (the reason
    is printed first, then everything is stopped).
    """
    supervisor = supervisor or Supervisor()
    supervisor.install_signal_handlers()
    status = 0
    try:
        run(supervisor)
    except Stopping:
        say(f"\n==> stopping (each server gets {supervisor.grace:.0f} s before it is killed)")
    except StackError as e:
        say(f"\nerror: {e}", error=True)
        if supervisor.children:
            say("==> stopping")
        status = 1
    finally:
        supervisor.stop_all()
    return status
