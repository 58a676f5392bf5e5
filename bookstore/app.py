"""The ``bookstore`` Jupyter server extension: REST API and the archive's start-up hook."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float

from ._version import __version__
from .archive import ArchivingMixin
from .archive_queue import ArchiveQueue
from .config import Bookstore
from .handlers import default_handlers
from .publish import Publisher
from .store import S3Store


class BookstoreExtension(ExtensionApp):
    """Publish, list, read and restore notebook versions; report archive health."""

    name = "bookstore"
    load_other_extensions = True

    publish_wait_timeout = Float(
        10.0,
        help="Seconds publishing waits for the notebook's pending archive before archiving "
        "the saved notebook itself.",
    ).tag(config=True)

    def initialize_settings(self) -> None:
        # Another extension may still replace the contents manager (jupytext does), so the
        # archive queue is looked up from the current manager when needed, never kept here.
        assert self.serverapp is not None
        manager = self.serverapp.contents_manager
        store: S3Store | None
        if isinstance(manager, ArchivingMixin):
            bookstore = manager.bookstore
        else:
            bookstore = Bookstore(parent=self.serverapp)
        # A store of its own, not the archive queue's: a person waits on every request here,
        # so it gives up within seconds where uploads are patient.
        store = bookstore.create_store() if bookstore.s3.bucket else None
        publisher = (
            Publisher(store, bookstore, wait_timeout=self.publish_wait_timeout) if store is not None else None
        )
        self.settings.update(
            bookstore_extension=self,
            bookstore_settings=bookstore,
            bookstore_store=store,
            bookstore_publisher=publisher,
        )

    def archive_queue(self) -> ArchiveQueue | None:
        """The queue of the contents manager in use, if it archives."""
        assert self.serverapp is not None
        manager = self.serverapp.contents_manager
        return manager.archive_queue if isinstance(manager, ArchivingMixin) else None

    def initialize_handlers(self) -> None:
        self.handlers.extend(default_handlers())

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        queue = self.archive_queue()
        if queue is not None:
            # Replays saves a previous run could not archive, and checks the bucket.
            queue.start()
            self.log.info(
                "Bookstore %s: archiving notebook saves to bucket %r under %r",
                __version__,
                queue.store.bucket,
                self.settings["bookstore_settings"].workspace_prefix,
            )

    async def stop_extension(self) -> None:
        queue = self.archive_queue()
        if queue is not None:
            queue.stop(timeout=2.0)
