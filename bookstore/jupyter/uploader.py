"""Archiving through an uploader process: the server's side, :class:`UploaderProcess`.

The server only writes each save to its spool (local disk, before the save is answered) and
tells the uploader process (:mod:`bookstore.jupyter.uploader_main`) about it, one line on a
pipe; the uploads, their hashing, retries and exactly-once checks run there, off the
server's Python interpreter. The uploader is started with the archive, restarted with
backoff whenever it exits, and stopped with the server. It reports each archived save, so
that :meth:`pending`, :meth:`wait_for`, :meth:`failing`, :meth:`last_archived` and
:meth:`status` mean what they mean for the in-process
:class:`~bookstore.jupyter.archive_queue.ArchiveQueue`.

Nothing is lost when either process dies: a save is on disk before it is answered, an entry
leaves the spool only once S3 has it, and every uploader starts by replaying the folder.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..config import Bookstore
from ..errors import VERSIONING_OFF
from ..store import Store
from .archive_queue import Archived
from .bucket_check import UNKNOWN
from .spool import Spool, SpoolEntry

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    key: str
    size: int
    entry: SpoolEntry


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with status {code}"


class UploaderProcess:
    """Spool saves here, upload them in a child process; the archive queue's interface.

    Parameters are those of :class:`~bookstore.jupyter.archive_queue.ArchiveQueue`, plus the
    ``bookstore`` settings the uploader builds its own store from; ``store`` only names the
    bucket here.
    """

    def __init__(
        self,
        store: Store,
        spool: Spool,
        bookstore: Bookstore,
        *,
        workers: int = 4,
        max_spool_bytes: int = 1 << 30,
        retry_max_delay: float = 30.0,
        upload_delay: float = 0.0,
        upload_timeout: float = 60.0,
        restart_initial_delay: float = 0.5,
        restart_max_delay: float = 30.0,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        self.store = store
        self.spool = spool
        self.bookstore = bookstore
        self.workers = max(1, workers)
        self.max_spool_bytes = max_spool_bytes
        self.retry_max_delay = retry_max_delay
        self.upload_delay = upload_delay
        self.upload_timeout = upload_timeout
        self.restart_initial_delay = restart_initial_delay
        self.restart_max_delay = restart_max_delay
        self.log = logger or log
        self._cond = threading.Condition()
        # Spooling and telling the uploader happen under one lock, so the uploader hears of
        # saves in sequence order, and each save is either in the folder when the uploader
        # starts (it replays those) or told to it afterwards, never both.
        self._send_lock = threading.Lock()
        self._pipe: int | None = None
        self._backlog = bytearray()
        self._flushing = False
        self._pending: dict[int, _Pending] = {}
        self._pending_by_key: dict[str, int] = {}
        self._pending_bytes = 0
        self._last_archived: dict[str, Archived] = {}
        self._started = False
        self._stopping = False
        self._process: subprocess.Popen[bytes] | None = None
        self._supervisor: threading.Thread | None = None
        # Status.
        self._archived_count = 0
        self._not_archived = 0
        self._reserialised = 0
        self._spool_full = False
        self._spool_full_logged = False
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        #: What the uploader says S3 is doing wrong while uploads fail (see ArchiveQueue).
        self._fault: str | None = None
        self._s3_error: str | None = None  # the uploader's last error
        self._spool_full_error = ""
        self._last_success_at: float | None = None
        self._last_lag: float | None = None
        self._uploader_failing_since: float | None = None  # S3 failing, as the uploader says
        self._down_since: float | None = None  # no uploader running since
        self._versioning: str | None = UNKNOWN
        self._uploader_state = "starting"
        self._pid: int | None = None
        self._restarts = 0
        self._last_exit: str | None = None
        self._last_exit_at: float | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Take the spool folder, count what earlier runs left, start the uploader (idempotent)."""
        with self._cond:
            if self._started:
                return
            self._started = True
            for entry in self.spool.load():
                self._add_pending(entry)
        self._supervisor = threading.Thread(target=self._supervise, name="bookstore-uploader", daemon=True)
        self._supervisor.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the uploader (what is pending stays in the spool), then give the folder up."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._close_pipe()
        process = self._process
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                # Whatever it was uploading is replayed, and checked in S3 first, next start.
                process.kill()
                process.wait()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        self.spool.release()

    def settings(self, listed_up_to: int) -> dict[str, Any]:
        """What the uploader needs; it travels on the pipe, never on a command line.

        ``listed_up_to``: the last save spooled before it, which it replays from the folder.
        """
        config = {name: getattr(self.bookstore, name) for name in self.bookstore.trait_names(config=True)}
        s3 = self.bookstore.s3
        config["S3"] = {name: getattr(s3, name) for name in s3.trait_names(config=True)}
        level = self.log.getEffectiveLevel()
        return {
            "config": {"Bookstore": config},
            "folder": str(self.spool.folder),
            "workers": self.workers,
            "max_spool_bytes": self.max_spool_bytes,
            "retry_max_delay": self.retry_max_delay,
            "upload_delay": self.upload_delay,
            "upload_timeout": self.upload_timeout,
            "log_level": level,
            "listed_up_to": listed_up_to,
        }

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "bookstore.jupyter.uploader_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert process.stdin is not None
        fd = process.stdin.fileno()
        try:
            with self._send_lock:
                # A fresh pipe takes the settings whole.
                os.write(fd, json.dumps(self.settings(self.spool.last_seq)).encode() + b"\n")
                os.set_blocking(fd, False)
                self._pipe = fd
                self._backlog.clear()
        except OSError:
            process.kill()
            process.wait()
            raise
        return process

    def _supervise(self) -> None:
        delay = self.restart_initial_delay
        while True:
            with self._cond:
                if self._stopping:
                    return
            began = time.monotonic()
            try:
                process = self._spawn()
            except OSError as e:
                code: int | None = None
                reason = f"could not be started: {e}"
            else:
                self._process = process
                with self._cond:
                    self._pid = process.pid
                self._read(process)
                self._close_pipe()
                code = process.wait()
                reason = _exit_reason(code)
            with self._cond:
                if self._stopping:
                    self._uploader_state = "stopped"
                    return
            self._uploader_gone(reason)
            if time.monotonic() - began > 60:
                delay = self.restart_initial_delay
            self._pause(delay)
            delay = min(self.restart_max_delay, delay * 2)
            with self._cond:
                self._restarts += 1

    def _uploader_gone(self, reason: str) -> None:
        """Book-keeping after the uploader exited while it should be running."""
        # Saves it archived without getting to say so: their entries have left the spool.
        self._forget_archived()
        with self._cond:
            now = time.time()
            self._uploader_state = "restarting"
            self._pid = None
            self._last_exit, self._last_exit_at = reason, now
            if self._down_since is None:
                self._down_since = now
            pending = sum(self._pending_by_key.values())
            self._record_error(f"the uploader process {reason}; restarting it")
        self.log.warning(
            "Bookstore: the uploader process %s; %d save(s) pending stay in the spool and are "
            "archived once it is restarted",
            reason,
            pending,
        )

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)

    # -- the save path --------------------------------------------------------------------

    def enqueue(self, key: str, path: str, body: bytes) -> SpoolEntry | None:
        """Spool one save (durably, on local disk) and tell the uploader.

        Returns None, without raising, when the save could not be spooled: a full spool or a
        failing local disk must never fail the user's save.
        """
        self.start()
        with self._cond:
            if self._pending_bytes + len(body) > self.max_spool_bytes:
                self._spool_full = True
                self._not_archived += 1
                self._spool_full_error = (
                    f"archive spool is full ({self._pending_bytes} of {self.max_spool_bytes} "
                    f"bytes pending): {path!r} was saved locally but not archived; fix the "
                    f"S3 problem below and save again."
                )
                message = f"{self._spool_full_error} Last S3 error: {self._s3_error}"
                self._record_error(message)
                first = not self._spool_full_logged
                self._spool_full_logged = True
            else:
                first = None
        if first is not None:
            if first:
                self.log.error("Bookstore: %s", message)
            return None
        with self._send_lock:
            try:
                entry = self.spool.add(key, path, body)
            except OSError as e:
                with self._cond:
                    self._not_archived += 1
                    self._record_error(f"could not write the archive spool: {e}")
                self.log.error("Bookstore: could not spool %r for archiving: %s", path, e)
                return None
            with self._cond:
                self._add_pending(entry)
            self._tell(entry)
        return entry

    def _add_pending(self, entry: SpoolEntry) -> None:
        """Count an entry as pending (caller holds the lock)."""
        self._pending[entry.seq] = _Pending(entry.key, entry.size, entry)
        self._pending_by_key[entry.key] = self._pending_by_key.get(entry.key, 0) + 1
        self._pending_bytes += entry.size

    def _tell(self, entry: SpoolEntry) -> None:
        """One line to the uploader, without ever blocking the save (caller holds _send_lock)."""
        fields = {
            "seq": entry.seq,
            "key": entry.key,
            "path": entry.path,
            "save_id": entry.save_id,
            "saved_at": entry.saved_at,
            "size": entry.size,
        }
        data = json.dumps({"entry": fields}).encode() + b"\n"
        if self._pipe is None:
            return  # no uploader now: the next one finds the entry in the spool
        if self._backlog:
            self._backlog += data
            return
        try:
            written = os.write(self._pipe, data)
        except BlockingIOError:
            written = 0
        except OSError:
            self._pipe = None  # it died; the supervisor restarts it, and it reads the spool
            return
        if written < len(data):
            # The uploader is not reading (busy or stuck): keep the rest for a flusher thread.
            self._backlog += data[written:]
            if not self._flushing:
                self._flushing = True
                threading.Thread(target=self._flush, name="bookstore-uploader-pipe", daemon=True).start()

    def _flush(self) -> None:
        while True:
            with self._send_lock:
                pipe = self._pipe
                if pipe is None or not self._backlog:
                    self._backlog.clear()
                    self._flushing = False
                    return
                try:
                    written = os.write(pipe, self._backlog)
                    del self._backlog[:written]
                    continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._pipe = None
                    continue
            try:
                select.select([], [pipe], [], 1.0)
            except (OSError, ValueError):
                time.sleep(0.1)

    def _close_pipe(self) -> None:
        with self._send_lock:
            pipe, self._pipe = self._pipe, None
            self._backlog.clear()
        process = self._process
        if pipe is not None and process is not None and process.stdin is not None:
            try:
                process.stdin.close()
            except OSError as e:
                if e.errno != errno.EPIPE:
                    raise

    # -- what the uploader says -----------------------------------------------------------

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                self.log.warning("Bookstore: the uploader said something unexpected: %r", line[:200])
                continue
            if "archived" in message:
                self._archived(message["archived"])
            elif "log" in message:
                level, text = message["log"]
                self.log.log(level, "%s", text)
            elif "status" in message:
                self._status_from_uploader(message["status"])
            elif "ready" in message:
                self._ready(message["ready"])
        process.stdout.close()

    def _ready(self, pid: int) -> None:
        # It waited for any earlier uploader to exit: saves that one archived without saying
        # so (a server killed with SIGKILL leaves its uploader finishing) have left the spool.
        self._forget_archived()
        with self._cond:
            restarted = self._down_since is not None
            self._uploader_state = "running"
            self._down_since = None
            self._pid = pid
        if restarted:
            self.log.info("Bookstore: the uploader process runs again (pid %d)", pid)

    def _archived(self, fields: dict[str, Any]) -> None:
        archived = Archived(
            fields["key"], fields["version_id"], fields["sha256"], fields["saved_at"], fields["archived_at"]
        )
        with self._cond:
            self._drop(fields["seq"])
            self._last_archived[archived.key] = archived
            self._last_success_at = archived.archived_at
            self._last_lag = archived.archived_at - archived.saved_at
            self._cond.notify_all()

    def _drop(self, seq: int) -> None:
        """An entry is archived (caller holds the lock)."""
        pending = self._pending.pop(seq, None)
        if pending is None:
            return
        remaining = self._pending_by_key.get(pending.key, 1) - 1
        if remaining:
            self._pending_by_key[pending.key] = remaining
        else:
            self._pending_by_key.pop(pending.key, None)
        self._pending_bytes -= pending.size
        self._archived_count += 1
        self._spool_full = False
        if self._spool_full_logged and self._uploader_failing_since is None:
            self._spool_full_logged = False

    def _forget_archived(self) -> None:
        """Drop pending entries whose spool file is gone: only archiving removes one."""
        with self._cond:
            entries = [p.entry for p in self._pending.values()]
        gone = [e.seq for e in entries if not e.file.exists()]
        with self._cond:
            for seq in gone:
                self._drop(seq)
            self._cond.notify_all()

    def _status_from_uploader(self, state: dict[str, Any]) -> None:
        with self._cond:
            self._uploader_failing_since = state["failing_since"]
            self._fault = state.get("fault")
            if state["last_error_at"] is not None and (
                self._last_error_at is None or state["last_error_at"] >= self._last_error_at
            ):
                self._last_error, self._last_error_at = state["last_error"], state["last_error_at"]
            if state["last_error"] is not None:
                self._s3_error = state["last_error"]
            if state["versioning"] != UNKNOWN:
                self._versioning = state["versioning"]

    def _record_error(self, message: str) -> None:
        self._last_error = message
        self._last_error_at = time.time()

    # -- what others ask (as ArchiveQueue) ------------------------------------------------

    def pending(self, key: str | None = None) -> int:
        """Saves not yet archived, of one key or in all."""
        with self._cond:
            if key is None:
                return sum(self._pending_by_key.values())
            return self._pending_by_key.get(key, 0)

    def count_reserialised(self) -> None:
        """Count a save archived from its model rather than from the bytes written to disk."""
        with self._cond:
            self._reserialised += 1

    def failing(self) -> bool:
        """Whether uploads are failing now: S3 fails, the spool is full, or no uploader runs."""
        with self._cond:
            return self._failing_since() is not None or self._spool_full

    def _failing_since(self) -> float | None:
        times = [t for t in (self._uploader_failing_since, self._down_since) if t is not None]
        return min(times, default=None)

    def wait_for(self, key: str, timeout: float) -> bool:
        """Wait until no save of ``key`` is pending; True if so within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending_by_key.get(key):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending; True if so within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def last_archived(self, key: str) -> Archived | None:
        """The most recent save of ``key`` archived by this server, if any."""
        with self._cond:
            return self._last_archived.get(key)

    def check_bucket(self) -> str | None:
        """The bucket's versioning as the uploader last found it (it checks at its start)."""
        return self.versioning

    @property
    def versioning(self) -> str | None:
        """``"Enabled"``, ``"Suspended"``, None (never versioned) or ``"unknown"`` (not yet checked)."""
        with self._cond:
            return self._versioning

    def status(self) -> dict[str, Any]:
        """The archive's health, for the status endpoint. Never a credential."""
        with self._cond:
            failing_since = self._failing_since()
            last_error = self._last_error
            if self._spool_full:
                state = "spool-full"
                # The uploader may tell why S3 fails after the spool filled: say both.
                last_error = f"{self._spool_full_error} Last S3 error: {self._s3_error}"
            elif failing_since is not None and self._fault == VERSIONING_OFF:
                state = "held"
            elif failing_since is not None:
                state = "retrying"
            else:
                state = "ok"
            return {
                "state": state,
                "fault": self._fault if failing_since is not None else None,
                "pending": sum(self._pending_by_key.values()),
                "pending_bytes": self._pending_bytes,
                "archived": self._archived_count,
                "not_archived": self._not_archived,
                "reserialised": self._reserialised,
                "last_error": last_error,
                "last_error_at": self._last_error_at,
                "failing_since": failing_since,
                "last_success_at": self._last_success_at,
                "last_lag_seconds": self._last_lag,
                "max_spool_bytes": self.max_spool_bytes,
                "spool_dir": str(self.spool.folder),
                "workers": self.workers,
                "uploader": {
                    "mode": "process",
                    "state": self._uploader_state,
                    "pid": self._pid,
                    "restarts": self._restarts,
                    "last_exit": self._last_exit,
                    "last_exit_at": self._last_exit_at,
                },
            }
