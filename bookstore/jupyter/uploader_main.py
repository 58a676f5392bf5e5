"""The uploader process: ``python -m bookstore.jupyter.uploader_main``, started by its server.

It runs the :class:`~bookstore.jupyter.archive_queue.ArchiveQueue` (its workers, its
exactly-once checks, its backoff) on the spool folder its Jupyter server holds, so that
uploads never compete with the server's saves for the Python interpreter. The server writes
each save to the spool, then tells this process about it; this process tells the server what
it archived, how S3 is doing, and what it logs. See :mod:`bookstore.jupyter.uploader` for the
server's side.

The conversation is one JSON object per line:

- server -> uploader, on stdin: first the settings (:func:`read_handover`), then one
  ``{"entry": {...}}`` per save spooled, and ``{"hurry": key}`` when the server waits for a
  notebook (``null``: for all) whose autosave is held back for its interval. End of input
  (the server stopped, or died) stops it, after uploading the held autosaves.
- uploader -> server, on its original stdout: ``{"ready": pid}`` once it has taken over the
  spool, ``{"archived": {...}}`` per save in S3, ``{"status": {...}}`` when failure state or
  versioning changes, ``{"log": [level, message]}`` for the server's log. Anything else
  printed goes to stderr, which is the server's.

Only one uploader works on a folder at a time: each takes an exclusive lock on
``.uploader.lock`` in it before reading it, so an uploader left behind by a server killed
with SIGKILL finishes (or gives up) its upload before the next one replays the same entries.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from traitlets.config import Config

from ..config import Bookstore
from ..store import BACKGROUND
from .archive_queue import ArchiveQueue
from .ledger import Archived, UploadSettings
from .spool import Spool, SpoolEntry

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

#: Seconds an uploader whose server is gone lets an upload in flight finish.
EXIT_GRACE = 5.0
#: How often the failure state is looked at, to be reported when it changes.
STATUS_INTERVAL = 0.1
_UPLOADER_LOCK = ".uploader.lock"

log = logging.getLogger("bookstore.uploader")


class Channel:
    """Lines to the server; a server that is gone is not an error (the spool keeps the work)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\n"
        with self._lock:
            if self.closed:
                return
            try:
                self.stream.write(data)
                self.stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.closed = True


class ForwardToServer(logging.Handler):
    """Log records go to the server, which logs them in its own log."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            self.channel.send({"log": [record.levelno, text]})
        except Exception:  # a log line must never stop an upload
            self.handleError(record)


def read_handover(stream: IO[bytes]) -> dict[str, Any]:
    """The first line: what :meth:`bookstore.jupyter.uploader.UploaderProcess.handover` sends."""
    line = stream.readline()
    if not line:
        raise SystemExit(0)  # the server went away before saying anything
    handover: dict[str, Any] = json.loads(line)
    return handover


def archived_message(entry: SpoolEntry, archived: Archived) -> dict[str, Any]:
    return {
        "archived": {
            "seq": entry.seq,
            "key": archived.key,
            "version_id": archived.version_id,
            "sha256": archived.sha256,
            "saved_at": archived.saved_at,
            "archived_at": archived.archived_at,
            "outcome": archived.outcome,
        }
    }


class Reporter:
    """Tells the server what the queue did: each archived save, and failure state changes."""

    FIELDS = ("failing_since", "last_error", "last_error_at", "fault", "waiting")

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.queue: ArchiveQueue | None = None
        self._last: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def state(self) -> dict[str, Any]:
        assert self.queue is not None
        status = self.queue.status()
        found = {name: status[name] for name in self.FIELDS}
        found["versioning"] = self.queue.versioning
        return found

    def report_changes(self) -> None:
        with self._lock:
            state = self.state()
            if state != self._last:
                self._last = state
                self.channel.send({"status": state})

    def archived(self, entry: SpoolEntry, archived: Archived) -> None:
        # A recovery clears the failure state as the save lands: say so first.
        self.report_changes()
        self.channel.send(archived_message(entry, archived))

    def watch(self, stopped: threading.Event) -> None:
        while not stopped.wait(STATUS_INTERVAL):
            self.report_changes()


def take_over(folder: Path) -> int | None:
    """Wait until no other uploader works on ``folder``, then hold it (until this process ends)."""
    if fcntl is None:
        return None
    fd = os.open(folder / _UPLOADER_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.info("Bookstore: waiting for the previous uploader of %s to exit", folder)
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def main() -> None:
    # The protocol keeps the original stdout; whatever else prints goes to the server's stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Ctrl-C in the server's terminal, or a supervisor's SIGTERM to the server and all it
    # started, reaches this process too; the server stops it instead (closing its input),
    # once it has uploaded the autosaves it holds back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    channel = Channel(out)
    handover = read_handover(stdin)
    log.addHandler(ForwardToServer(channel))
    log.setLevel(handover["log_level"])
    log.propagate = False

    folder = Path(handover["folder"])
    take_over(folder)
    bookstore = Bookstore(config=Config(handover["config"]))
    upload = UploadSettings(**handover["upload"])
    store = bookstore.create_store(replace(BACKGROUND, read_timeout=upload.upload_timeout))
    spool = Spool(folder, owner=False, until=handover["listed_up_to"])
    reporter = Reporter(channel)
    queue = ArchiveQueue(store, spool, upload, logger=log, on_archived=reporter.archived)
    reporter.queue = queue
    queue.start()  # replays the folder up to the last save spooled before this process started
    channel.send({"ready": os.getpid()})
    stopped = threading.Event()
    threading.Thread(target=reporter.watch, args=(stopped,), name="bookstore-report", daemon=True).start()

    for line in stdin:
        message = json.loads(line)
        if "hurry" in message:
            queue.hurry(message["hurry"])
        else:
            # Every save spooled after the handover was sent, in spooling order.
            queue.add_spooled(spool.entry_from(message["entry"]))
    # The server stopped, or died: what is pending stays in the spool for the next uploader.
    stopped.set()
    queue.stop(timeout=EXIT_GRACE)
    out.flush()
    os._exit(0)  # upload threads still stuck on S3 are abandoned; their saves replay


if __name__ == "__main__":
    main()
