"""A durable, ordered on-disk queue of saves waiting to be archived.

Each pending save is one file ``<seq>.entry``: a JSON header line, then the notebook bytes
exactly as they were written to disk. A file appears under its final name only once it is
complete (written to a temporary name, then renamed), so a crash never leaves a half entry
behind, and an entry is deleted only after S3 has confirmed the upload. Sequence numbers
grow across restarts, so replaying the folder in name order replays saves in save order.
With ``fsync`` an entry survives a power loss too: its bytes are flushed to the disk before
the rename, and the folder after it (a rename or a new folder is a change of the folder,
which the disk may otherwise not hold yet).

One spool folder belongs to one server: its name hashes the Jupyter root directory, the S3
endpoint and the bucket, so a server pointed at another bucket never replays these saves.
A running server holds a lock on its folder; a second server started on the same root and
bucket works in a sibling folder (``<name>.1``, ...), and whichever server starts next
adopts the entries of sibling folders no live server holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one server per folder is then the user's care
    fcntl = None  # type: ignore[assignment]

_SUFFIX = ".entry"
_LOCK = ".lock"
_MAX_SIBLINGS = 64

log = logging.getLogger(__name__)


def sync_folder(folder: Path) -> None:
    """Flush ``folder`` itself to the disk: the names created, renamed or moved in it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: Path, *, durable: bool) -> None:
    """Create ``folder`` and its missing parents; ``durable``: so that they survive a power loss."""
    missing = [path for path in (folder, *folder.parents) if not path.is_dir()]
    folder.mkdir(parents=True, exist_ok=True)
    if durable:
        for path in reversed(missing):
            sync_folder(path.parent)


def spool_folder_name(root_dir: str, endpoint_url: str | None, bucket: str) -> str:
    """The per-server folder name: readable bucket name plus a hash of what identifies it."""
    identity = "\0".join([os.path.abspath(root_dir), endpoint_url or "aws", bucket])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return f"{bucket}-{digest}"


@dataclass
class SpoolEntry:
    """One save waiting to be archived."""

    seq: int
    key: str
    path: str
    save_id: str
    saved_at: float
    #: Bytes of the notebook (the spool file adds a short header).
    size: int
    file: Path
    #: A save the server made on its own (jupyter-collaboration's autosave), which the queue
    #: may coalesce with later ones; False for a save a person asked for.
    auto: bool = False
    #: True for entries found on disk at start-up: the upload may already have happened.
    replayed: bool = False
    attempts: int = field(default=0, compare=False)
    #: True once an attempt failed after S3 may have received it (its answer was lost).
    uncertain: bool = field(default=False, compare=False)
    #: True once an autosave the queue held back is due: it is uploaded, not held again.
    released: bool = field(default=False, compare=False)

    def read_body(self) -> bytes:
        with open(self.file, "rb") as f:
            f.readline()
            return f.read()

    def open_body(self) -> BinaryIO:
        """The entry's file, open at the first byte of the notebook (to stream big ones)."""
        f = open(self.file, "rb")  # noqa: SIM115 - the caller closes it
        f.readline()
        return f


class Spool:
    """The folder of pending saves of one server."""

    def __init__(self, folder: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.base = Path(folder)
        self.folder = self.base
        self.fsync = fsync
        self._lock = threading.Lock()
        self._last_seq = 0
        self._lock_fd: int | None = None

    # -- ownership ------------------------------------------------------------------------

    def _siblings(self) -> list[Path]:
        return [self.base] + [self.base.with_name(f"{self.base.name}.{n}") for n in range(1, _MAX_SIBLINGS)]

    def _try_lock(self, folder: Path) -> int | None:
        make_folder(folder, durable=self.fsync)
        fd = os.open(folder / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def claim(self) -> None:
        """Lock a folder for this process: the base folder, or the first free sibling."""
        with self._lock:
            if self._lock_fd is not None:
                return
            for folder in self._siblings():
                fd = self._try_lock(folder)
                if fd is not None:
                    self._lock_fd, self.folder = fd, folder
                    break
            else:
                raise OSError(f"all {_MAX_SIBLINGS} spool folders next to {self.base} are in use")
        if self.folder != self.base:
            log.warning(
                "Bookstore: another running server archives the same folder to the same bucket; "
                "this one spools to %s",
                self.folder,
            )

    def release(self) -> None:
        """Give the folder up (as exiting the process does)."""
        with self._lock:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _adopt_orphans(self) -> None:
        """Move entries of sibling folders that no live server holds into this one."""
        for folder in self._siblings():
            if folder == self.folder or not folder.is_dir():
                continue
            fd = self._try_lock(folder)
            if fd is None:
                continue
            try:
                moved = False
                for file in folder.glob(f"*{_SUFFIX}"):
                    target = self.folder / file.name
                    if not target.exists():
                        os.replace(file, target)
                        moved = True
                if moved and self.fsync:
                    # The new names before the old ones go: a power loss in between may leave
                    # an entry in both folders, never in neither (a replayed entry is looked
                    # for in S3 before it is uploaded).
                    sync_folder(self.folder)
                    sync_folder(folder)
            finally:
                os.close(fd)

    def _next_seq(self) -> int:
        with self._lock:
            self._last_seq = max(self._last_seq + 1, time.time_ns())
            return self._last_seq

    # -- entries --------------------------------------------------------------------------

    def load(self) -> list[SpoolEntry]:
        """Every complete entry on disk, oldest first; leftovers of interrupted writes removed.

        Claims the folder first, and adopts what servers that are gone left in sibling folders.
        """
        self.claim()
        self._adopt_orphans()
        entries: list[SpoolEntry] = []
        for file in self.folder.iterdir():
            if file.name.endswith(".tmp"):
                file.unlink(missing_ok=True)
                continue
            if not file.name.endswith(_SUFFIX):
                continue
            try:
                with open(file, "rb") as f:
                    line = f.readline()
                header = json.loads(line)
                size = file.stat().st_size - len(line)
            except (OSError, ValueError):
                # Unreadable entries are kept aside for a person to look at, never deleted.
                file.rename(file.with_suffix(".corrupt"))
                continue
            entries.append(
                SpoolEntry(
                    seq=int(file.name[: -len(_SUFFIX)]),
                    key=header["key"],
                    path=header["path"],
                    save_id=header["save_id"],
                    saved_at=header["saved_at"],
                    size=size,
                    file=file,
                    auto=bool(header.get("auto", False)),
                    replayed=True,
                )
            )
        entries.sort(key=lambda e: e.seq)
        if entries:
            with self._lock:
                self._last_seq = max(self._last_seq, entries[-1].seq)
        return entries

    def entry_file(self, seq: int) -> Path:
        """Where the entry of sequence number ``seq`` is."""
        return self.folder / f"{seq:020d}{_SUFFIX}"

    def add(self, key: str, path: str, body: bytes, *, auto: bool = False) -> SpoolEntry:
        """Write one save durably and return its entry (``auto``: see :attr:`SpoolEntry.auto`)."""
        self.claim()
        seq = self._next_seq()
        # Only what is cheap: this runs before the save is answered (the queue's workers hash).
        save_id = uuid.uuid4().hex
        saved_at = time.time()
        header: dict[str, Any] = {"key": key, "path": path, "save_id": save_id, "saved_at": saved_at}
        if auto:
            header["auto"] = True
        line = json.dumps(header).encode() + b"\n"
        final = self.entry_file(seq)
        tmp = final.with_name(final.name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(line)
                f.write(body)
                if self.fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, final)
            if self.fsync:
                sync_folder(self.folder)
        except OSError:
            # No space left, say: a partial entry must neither stay to take the space a next
            # save needs nor ever be uploaded.
            tmp.unlink(missing_ok=True)
            raise
        return SpoolEntry(
            seq=seq,
            key=key,
            path=path,
            save_id=save_id,
            saved_at=saved_at,
            size=len(body),
            file=final,
            auto=auto,
        )

    def remove(self, entry: SpoolEntry) -> None:
        entry.file.unlink(missing_ok=True)
