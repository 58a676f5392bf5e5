"""Archive every notebook save to S3: :class:`BookstoreContentsArchiver`.

The archiver is jupyter_server's default contents manager (``AsyncLargeFileManager``) with
one change: once a notebook has been written to local disk, the exact bytes written are
spooled to local disk and uploaded to ``<workspace_prefix>/<path>`` in the background by
worker threads of the server (:class:`~bookstore.jupyter.archive_queue.ArchiveQueue`). The
save is answered as soon as the local write is done; S3 is never waited on and can never
fail a save.

Other contents managers get the same behaviour through :func:`add_archiving`::

    from bookstore import add_archiving
    from jupytext import TextFileContentsManager
    c.ServerApp.contents_manager_class = add_archiving(TextFileContentsManager)

Whatever the manager, the archive settings are ``c.BookstoreContentsArchiver.*``
(:data:`SETTINGS_SECTION`).

Renames and deletes act on local files only: archived versions stay in S3 under the old
key, and the next save of a renamed notebook starts a history under its new key.

A save whose bytes are the notebook's latest version already adds no version, and the saves
jupyter-collaboration makes on its own (:mod:`bookstore.jupyter.collaboration`) are coalesced
to one version per ``autosave_interval`` (see :mod:`bookstore.jupyter.archive_queue`).
"""

from __future__ import annotations

import contextvars
import inspect
import os
import threading
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from anyio.to_thread import run_sync
from jupyter_core.paths import jupyter_data_dir
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from traitlets import Bool, Float, Instance, Integer, Unicode, default, validate
from traitlets.config import Config, LoggingConfigurable

from .. import notebooks
from ..config import Bookstore
from ..errors import BookstoreError, InvalidPathError, MisconfiguredError
from ..keys import path_to_key
from ..store import BACKGROUND, Store
from . import collaboration
from .archive_queue import ArchiveQueue
from .ledger import UploadSettings
from .spool import Spool, spool_folder_name

#: The config section of the archive settings for every archiving manager, also those of
#: :func:`add_archiving`, whose class is not :class:`BookstoreContentsArchiver`.
SETTINGS_SECTION = "BookstoreContentsArchiver"


@dataclass
class _SaveInProgress:
    path: str
    #: The server made this save on its own (jupyter-collaboration's autosave).
    auto: bool = False
    archived: bool = False


# One queue per spool folder in a process: a manager built twice (jupytext's server extension
# rebuilds the contents manager) must not replay the same spool from two queues.
_queues: dict[str, ArchiveQueue] = {}
_queues_lock = threading.Lock()

# The save being handled in this task, so the notebook writer deep inside the base class
# knows which Jupyter path its bytes belong to.
_current_save: contextvars.ContextVar[_SaveInProgress | None] = contextvars.ContextVar(
    "bookstore_current_save", default=None
)


class ArchivingMixin(LoggingConfigurable):
    """What every archiving contents manager shares: settings, queue, and the hand-off."""

    spool_dir = Unicode(
        help="Folder for saves waiting to be archived (default: <jupyter data dir>/bookstore/"
        "spool). Each server uses its own subfolder, named after its bucket.",
    ).tag(config=True)

    max_spool_bytes = Integer(
        1 << 30,
        help="Disk the pending saves may take, in bytes. When S3 stays unreachable and the "
        "spool reaches this size, new saves are still written locally but not archived, and "
        "GET /api/bookstore reports it.",
    ).tag(config=True)

    upload_workers = Integer(
        4,
        help="Threads of the server uploading to S3. Saves of one notebook always go through "
        "the same thread, so its versions keep their save order.",
    ).tag(config=True)

    retry_max_delay = Float(
        30.0,
        help="Longest wait, in seconds, between two attempts at an upload while S3 fails.",
    ).tag(config=True)

    upload_timeout = Float(
        60.0,
        help="Seconds an upload waits for S3's answer before it is tried again. A save whose "
        "answer was lost is checked in S3 before it is sent again, so it is never stored twice.",
    ).tag(config=True)

    upload_delay = Float(
        0.02,
        help="Seconds each upload waits after its save, so the save's answer does not compete "
        "with the upload for the server's Python interpreter. Adds that much archive lag.",
    ).tag(config=True)

    autosave_interval = Float(
        300.0,
        help="Seconds between two archived versions of a notebook that the server saves on its "
        "own: jupyter-collaboration's autosave, a second after each pause in typing. The first "
        "such save after the interval is archived at once; later ones wait on local disk until "
        "the interval since the notebook's last archived version is over, each replacing the "
        "one waiting, so the last state is always archived. A save a person asks for (Ctrl-S, "
        "the Save button) is archived at once and replaces any save waiting; a server that "
        "stops archives the waiting ones. 0 archives every autosave.",
    ).tag(config=True)

    spool_fsync = Bool(
        False,
        help="fsync each spooled save before answering it. Saves then survive a power loss, "
        "not only a crash of Jupyter, at the cost of save latency.",
    ).tag(config=True)

    bookstore = Instance(Bookstore, help="The Bookstore settings (c.Bookstore...).")

    @default("bookstore")
    def _default_bookstore(self) -> Bookstore:
        return Bookstore(parent=self)

    @default("spool_dir")
    def _default_spool_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "bookstore", "spool")

    @validate("autosave_interval")
    def _validate_autosave_interval(self, proposal: dict[str, Any]) -> float:
        return max(0.0, float(proposal["value"]))

    @validate("upload_workers")
    def _validate_upload_workers(self, proposal: dict[str, Any]) -> int:
        return max(1, int(proposal["value"]))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            # Resolves the prefixes ({username}) and checks them before anything is archived.
            self.bookstore.published_layout()
        except MisconfiguredError as e:
            self.log.critical("Bookstore cannot start: %s", e)
            raise
        store = self.bookstore.create_store(replace(BACKGROUND, read_timeout=self.upload_timeout))
        root = str(getattr(self, "root_dir", "") or os.getcwd())
        folder = os.path.join(self.spool_dir, spool_folder_name(root, store.endpoint_url, store.bucket))
        with _queues_lock:
            queue = _queues.get(folder)
            if queue is None:
                queue = _queues[folder] = self._archiver(store, Spool(folder, fsync=self.spool_fsync))
        self.archive_queue: ArchiveQueue = queue
        collaboration.watch_autosaves(self.log)

    def _find_my_config(self, cfg: Config) -> Config:
        """The config sections of this class and its bases, under the archive settings found
        in ``c.BookstoreContentsArchiver`` (:data:`SETTINGS_SECTION`).

        A manager made by :func:`add_archiving` is no :class:`BookstoreContentsArchiver`, so
        traitlets alone would not read that section for it. Only the archive settings are taken
        from it: it says nothing about the other manager's own settings.
        """
        found: Config = super()._find_my_config(cfg)
        if SETTINGS_SECTION in self.section_names() or not cfg._has_section(SETTINGS_SECTION):
            return found
        settings = ArchivingMixin.class_traits(config=True)
        mine = Config({name: value for name, value in cfg[SETTINGS_SECTION].items() if name in settings})
        mine.merge(found)  # a section of the manager's own classes wins
        return mine

    def _archiver(self, store: Store, spool: Spool) -> ArchiveQueue:
        settings = UploadSettings(
            workers=self.upload_workers,
            max_spool_bytes=self.max_spool_bytes,
            retry_max_delay=self.retry_max_delay,
            upload_delay=self.upload_delay,
            upload_timeout=self.upload_timeout,
            autosave_interval=self.autosave_interval,
        )
        return ArchiveQueue(store, spool, settings, logger=self.log)

    def archive_key(self, path: str) -> str:
        """The workspace key a Jupyter path is archived under."""
        return path_to_key(self.bookstore.workspace_prefix, path)

    def _archive(self, save: _SaveInProgress, body: bytes) -> None:
        """Hand the bytes of a completed save to the queue; never raises into the save."""
        path = save.path
        try:
            key = self.archive_key(path)
        except InvalidPathError as e:
            self.log.warning("Bookstore: not archiving %r: %s", path, e)
            return
        try:
            self.archive_queue.enqueue(key, path, body, auto=save.auto)
        except BookstoreError as e:
            self.log.error("Bookstore: could not queue %r for archiving: %s", path, e)

    def _archive_model(self, model: dict[str, Any], save: _SaveInProgress) -> None:
        """Archive a notebook saved by a base class whose notebook writer we could not see.

        With jupyter_server's own managers every save goes through :meth:`_save_notebook`
        (a private method of theirs), which archives the very bytes written. Landing here
        with one of them means a release renamed it: the status endpoint counts these saves
        (``reserialised``), and the tests fail on any.
        """
        if model.get("type") != "notebook" or model.get("content") is None:
            return
        self.archive_queue.count_reserialised()
        self._archive(save, notebooks.write(model["content"]).encode("utf-8"))


class AsyncArchivingMixin(ArchivingMixin):
    """Archiving for async contents managers."""

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        save = _SaveInProgress(path, auto=collaboration.autosaving())
        token = _current_save.set(save)
        try:
            answer = await super().save(model, path)  # type: ignore[misc]
        finally:
            _current_save.reset(token)
        if not save.archived:
            self._archive_model(model, save)
        return answer

    async def _save_notebook(self, os_path: str, nb: Any, capture_validation_error: Any = None) -> None:
        save = _current_save.get()
        if save is None:
            await super()._save_notebook(os_path, nb, capture_validation_error)  # type: ignore[misc]
            return
        # Serialise once and write those very bytes, so the archive holds what is on disk.
        text = await run_sync(partial(notebooks.write, nb, capture_validation_error=capture_validation_error))
        with self.atomic_writing(os_path, encoding="utf-8") as f:  # type: ignore[attr-defined]
            await run_sync(f.write, text)
        # Queue right after the local write commits, with no await in between, so versions
        # of one notebook are queued in the order their writes landed on disk.
        save.archived = True
        self._archive(save, text.encode("utf-8"))


class SyncArchivingMixin(ArchivingMixin):
    """Archiving for classic (synchronous) contents managers."""

    def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        path = path.strip("/")
        save = _SaveInProgress(path, auto=collaboration.autosaving())
        token = _current_save.set(save)
        try:
            answer = super().save(model, path)  # type: ignore[misc]
        finally:
            _current_save.reset(token)
        if not save.archived:
            self._archive_model(model, save)
        return answer

    def _save_notebook(self, os_path: str, nb: Any, capture_validation_error: Any = None) -> None:
        save = _current_save.get()
        if save is None:
            super()._save_notebook(os_path, nb, capture_validation_error)  # type: ignore[misc]
            return
        text = notebooks.write(nb, capture_validation_error=capture_validation_error)
        with self.atomic_writing(os_path, encoding="utf-8") as f:  # type: ignore[attr-defined]
            f.write(text)
        save.archived = True
        self._archive(save, text.encode("utf-8"))


class BookstoreContentsArchiver(AsyncArchivingMixin, AsyncLargeFileManager):  # type: ignore[misc]
    """jupyter_server's default contents manager, archiving every notebook save to S3.

    Configure it with ``c.ServerApp.contents_manager_class = BookstoreContentsArchiver`` and
    the ``c.Bookstore`` / ``c.Bookstore.S3`` settings.
    """


def add_archiving(manager_class: type) -> type:
    """Return a subclass of ``manager_class`` that archives every notebook save.

    Works with synchronous and asynchronous jupyter_server contents managers. Settings are
    the archiver's (``c.BookstoreContentsArchiver.spool_dir`` ...) and ``c.Bookstore...``.
    """
    if issubclass(manager_class, ArchivingMixin):
        return manager_class
    is_async = inspect.iscoroutinefunction(getattr(manager_class, "save", None))
    mixin = AsyncArchivingMixin if is_async else SyncArchivingMixin
    return type(
        f"Archiving{manager_class.__name__}",
        (mixin, manager_class),
        {"__doc__": f"{manager_class.__name__} that archives every notebook save to S3."},
    )
