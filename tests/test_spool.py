"""The spool's promise under ``spool_fsync``: a save it answered survives a power loss.

A power loss cannot be produced in a test, so what is checked is what the disk is told: each
entry's bytes are flushed, and so is its folder once the entry has its final name there (a
rename is a change of the folder, lost with it unless the folder is flushed too). ``os.fsync``
is observed, not replaced: the real call still runs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bookstore.jupyter.spool import Spool

KEY = "workspace/kylek/notebooks/mine.ipynb"


class Flushes:
    """Every ``os.fsync`` the spool makes: files by inode, folders with the names in them then."""

    def __init__(self) -> None:
        self.files: list[int] = []
        self.folders: list[tuple[int, set[str]]] = []

    def seen(self, fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            self.folders.append((info.st_ino, set(os.listdir(fd))))
        else:
            self.files.append(info.st_ino)

    def of_folder(self, folder: Path) -> list[set[str]]:
        """The names in ``folder`` at each of its flushes."""
        inode = folder.stat().st_ino
        return [names for seen, names in self.folders if seen == inode]


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> Flushes:
    observed = Flushes()
    real = os.fsync

    def fsync(fd: int) -> None:
        observed.seen(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return observed


def test_an_entry_is_flushed_and_then_its_name_in_the_folder(tmp_path: Path, flushes: Flushes) -> None:
    spool = Spool(tmp_path / "spools" / "bucket-1", fsync=True)
    entry = spool.add(KEY, "mine.ipynb", b"the notebook")
    assert entry.file.stat().st_ino in flushes.files
    # The folder is flushed after the rename: the entry's final name is in it.
    assert any(entry.file.name in names for names in flushes.of_folder(spool.folder))
    # The folders the spool created are held by their parents on the disk too.
    assert flushes.of_folder(tmp_path / "spools")
    assert flushes.of_folder(tmp_path)
    second = spool.add(KEY, "mine.ipynb", b"a second save")
    assert any(second.file.name in names for names in flushes.of_folder(spool.folder))


def test_adopted_entries_are_flushed_into_their_new_folder_before_leaving_the_old(
    tmp_path: Path, flushes: Flushes
) -> None:
    base = tmp_path / "spool"
    first, second = Spool(base, fsync=True), Spool(base, fsync=True)
    first.add(KEY, "mine.ipynb", b"from the first server")
    orphan = second.add(KEY, "mine.ipynb", b"from the second server")
    second.release()  # the second server exits with a save still pending
    first.release()
    flushes.folders.clear()
    third = Spool(base, fsync=True)
    assert [e.read_body() for e in third.load()] == [b"from the first server", b"from the second server"]
    into = [i for i, (inode, names) in enumerate(flushes.folders) if inode == base.stat().st_ino]
    out_of = [i for i, (inode, _) in enumerate(flushes.folders) if inode == orphan.file.parent.stat().st_ino]
    assert into and out_of and into[0] < out_of[0]
    assert orphan.file.name in flushes.folders[into[0]][1]
    assert orphan.file.name not in flushes.folders[out_of[0]][1]


def test_without_spool_fsync_nothing_is_flushed(tmp_path: Path, flushes: Flushes) -> None:
    spool = Spool(tmp_path / "spool")
    spool.add(KEY, "mine.ipynb", b"the notebook")
    assert flushes.files == [] and flushes.folders == []
