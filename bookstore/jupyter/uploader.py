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

import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import Any

from ..config import Bookstore
from ..store import Store
from .bucket_check import UNKNOWN
from .ledger import Archived, ArchiveLedger, UploadSettings
from .line_pipe import LinePipe
from .spool import Spool, SpoolEntry

log = logging.getLogger(__name__)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with status {code}"


class UploaderProcess(ArchiveLedger):
    """Spool saves here, upload them in a child process; the archive queue's interface.

    Parameters are those of :class:`~bookstore.jupyter.archive_queue.ArchiveQueue`, plus the
    ``bookstore`` settings the uploader builds its own store from (``store`` only names the
    bucket here), and the backoff between restarts of the uploader.
    """

    def __init__(
        self,
        store: Store,
        spool: Spool,
        bookstore: Bookstore,
        settings: UploadSettings | None = None,
        *,
        restart_initial_delay: float = 0.5,
        restart_max_delay: float = 30.0,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        # Its own interpreter: no need to let the save answer first.
        super().__init__(spool, settings or UploadSettings(upload_delay=0.0), logger or log)
        self.store = store
        self.bookstore = bookstore
        self.restart_initial_delay = restart_initial_delay
        self.restart_max_delay = restart_max_delay
        # Spooling and telling the uploader happen under one lock, so the uploader hears of
        # saves in sequence order, and each save is either in the folder when the uploader
        # starts (it replays those) or told to it afterwards, never both.
        self._send_lock = threading.Lock()
        self._pipe: LinePipe | None = None
        self._started = False
        self._process: subprocess.Popen[bytes] | None = None
        self._supervisor: threading.Thread | None = None
        self._uploader_failing_since: float | None = None  # S3 failing, as the uploader says
        self._uploader_waiting = 0  # autosaves it holds back for their interval
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

    def handover(self, listed_up_to: int) -> dict[str, Any]:
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
            "upload": asdict(self.settings),
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
        try:
            with self._send_lock:
                # The settings go whole, before anything else.
                handover = json.dumps(self.handover(self.spool.last_seq)).encode() + b"\n"
                os.write(process.stdin.fileno(), handover)
                self._pipe = LinePipe(process.stdin)
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
            self._uploader_waiting = 0  # the next one replays them from the spool
            self._pid = None
            self._last_exit, self._last_exit_at = reason, now
            if self._down_since is None:
                self._down_since = now
            pending = len(self._pending)
            self._record_error(f"the uploader process {reason}; restarting it")
        self.log.warning(
            "Bookstore: the uploader process %s; %d save(s) pending stay in the spool and are "
            "archived once it is restarted",
            reason,
            pending,
        )

    # -- the save path --------------------------------------------------------------------

    def enqueue(self, key: str, path: str, body: bytes, *, auto: bool = False) -> SpoolEntry | None:
        """Spool one save (durably, on local disk) and tell the uploader; ``auto``: the server
        made it on its own (see :attr:`~bookstore.jupyter.spool.SpoolEntry.auto`).

        Returns None, without raising, when the save could not be spooled (see
        :meth:`~bookstore.jupyter.ledger.ArchiveLedger._spool_save`).
        """
        self.start()
        with self._send_lock:
            entry = self._spool_save(key, path, body, auto)
            # With no uploader running, the next one finds the entry in the spool.
            if entry is not None and self._pipe is not None:
                self._pipe.send(json.dumps({"entry": entry.message_fields()}).encode() + b"\n")
        return entry

    def hurry(self, key: str | None) -> None:
        """Ask the uploader to archive the autosave of ``key`` (of all: None) it holds back now."""
        with self._send_lock:
            # An uploader that is not running holds nothing: the next one replays the spool.
            if self._pipe is not None:
                self._pipe.send(json.dumps({"hurry": key}).encode() + b"\n")

    def _close_pipe(self) -> None:
        with self._send_lock:
            pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.close()

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
            fields["key"],
            fields["version_id"],
            fields["sha256"],
            fields["saved_at"],
            fields["archived_at"],
            fields["outcome"],
        )
        with self._cond:
            self._settle(fields["seq"], archived)
            if self._spool_full_logged and self._uploader_failing_since is None:
                self._spool_full_logged = False

    def _forget_archived(self) -> None:
        """Settle pending entries whose spool file is gone: only archiving removes one."""
        with self._cond:
            entries = list(self._pending.values())
        gone = [e.seq for e in entries if not e.file.exists()]
        with self._cond:
            for seq in gone:
                self._settle(seq)

    def _status_from_uploader(self, state: dict[str, Any]) -> None:
        with self._cond:
            self._uploader_failing_since = state["failing_since"]
            self._uploader_waiting = state["waiting"]
            self._fault = state.get("fault")
            if state["last_error_at"] is not None and (
                self._last_error_at is None or state["last_error_at"] >= self._last_error_at
            ):
                self._last_error, self._last_error_at = state["last_error"], state["last_error_at"]
            if state["last_error"] is not None:
                self._s3_error = state["last_error"]
            if state["versioning"] != UNKNOWN:
                self._versioning = state["versioning"]

    def _failing_since(self) -> float | None:
        """S3 fails (as the uploader says), or no uploader runs: whichever began first."""
        times = [t for t in (self._uploader_failing_since, self._down_since) if t is not None]
        return min(times, default=None)

    def _waiting(self) -> int:
        return self._uploader_waiting

    def _uploader_status(self) -> dict[str, Any]:
        return {
            "mode": "process",
            "state": self._uploader_state,
            "pid": self._pid,
            "restarts": self._restarts,
            "last_exit": self._last_exit,
            "last_exit_at": self._last_exit_at,
        }

    def check_bucket(self) -> str | None:
        """The bucket's versioning as the uploader last found it (it checks at its start)."""
        return self.versioning

    @property
    def versioning(self) -> str | None:
        """``"Enabled"``, ``"Suspended"``, None (never versioned) or ``"unknown"`` (not yet checked)."""
        with self._cond:
            return self._versioning
