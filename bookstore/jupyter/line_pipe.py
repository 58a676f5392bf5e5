"""Lines to a child process's stdin that never block the writer: :class:`LinePipe`."""

from __future__ import annotations

import errno
import os
import select
import threading
import time
from typing import IO


class LinePipe:
    """Write to a pipe without ever waiting for its reader.

    What the reader does not take at once (it is busy, or stuck) waits in a backlog that a
    thread of its own flushes as the reader catches up. A reader that is gone makes every
    later :meth:`send` a no-op that answers False.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._fd: int | None = stream.fileno()
        os.set_blocking(self._fd, False)
        self._backlog = bytearray()
        self._flushing = False
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        with self._lock:
            return self._fd is not None

    def send(self, data: bytes) -> bool:
        """Write ``data`` now or soon, in order; False if the reader is gone."""
        with self._lock:
            if self._fd is None:
                return False
            if self._backlog:
                self._backlog += data
                return True
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                self._fd = None
                return False
            if written < len(data):
                self._backlog += data[written:]
                if not self._flushing:
                    self._flushing = True
                    threading.Thread(target=self._flush, name="bookstore-pipe", daemon=True).start()
            return True

    def _flush(self) -> None:
        while True:
            with self._lock:
                fd = self._fd
                if fd is None or not self._backlog:
                    self._backlog.clear()
                    self._flushing = False
                    return
                try:
                    del self._backlog[: os.write(fd, self._backlog)]
                    continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._fd = None
                    continue
            try:
                select.select([], [fd], [], 1.0)
            except (OSError, ValueError):
                time.sleep(0.1)

    def close(self) -> None:
        """Drop what is not written and close the pipe: the reader sees the end of its input."""
        with self._lock:
            self._fd = None
            self._backlog.clear()
        try:
            self._stream.close()
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise
