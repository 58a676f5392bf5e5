"""The ``bookstore`` Jupyter server extension: REST API and the archive's start-up hook."""

from __future__ import annotations

from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float

from .._version import __version__
from ..config import Bookstore
from ..errors import MisconfiguredError
from ..library import Library
from .archive import ArchivingMixin
from .archive_queue import ArchiveQueue
from .handlers import default_handlers
from .schedules import schedule_handlers
from .team import team_handlers


class BookstoreExtension(ExtensionApp):
    """Publish, list, read and restore notebook versions; report archive health."""

    name = "bookstore"
    load_other_extensions = True

    publish_wait_timeout = Float(
        10.0,
        help="Seconds publishing waits for the notebook's pending archive before archiving "
        "the saved notebook itself (while S3 answers: it gives up after one S3 read timeout "
        "when S3 does not).",
    ).tag(config=True)

    def initialize_settings(self) -> None:
        # Another extension may still replace the contents manager (jupytext does), so the
        # archive queue is looked up from the current manager when needed, never kept here.
        assert self.serverapp is not None
        manager = self.serverapp.contents_manager
        try:
            if isinstance(manager, ArchivingMixin):
                bookstore = manager.bookstore
            else:
                bookstore = Bookstore(parent=self.serverapp)
            bookstore.published_layout()
        except MisconfiguredError as e:
            # Prefixes that cannot name this server's owner, or a catalog that would list
            # workspaces: serving anything would write or show the wrong keys. Stop.
            self.log.critical("Bookstore cannot start: %s", e)
            self.serverapp.exit(1)
        # A store of its own, not the archive queue's: a person waits on every request here,
        # so it gives up within seconds where uploads are patient.
        library: Library | None = None
        unconfigured: str | None = None
        try:
            library = Library.from_settings(bookstore, wait_timeout=self.publish_wait_timeout)
        except MisconfiguredError as e:
            # The server still starts (without a bucket it serves the status endpoint only);
            # every other request answers with the reason.
            unconfigured = str(e)
            self.log.warning("Bookstore: %s", e)
        self.settings.update(
            bookstore_extension=self,
            bookstore_settings=bookstore,
            bookstore_library=library,
            bookstore_unconfigured=unconfigured,
        )

    def archive_queue(self) -> ArchiveQueue | None:
        """The queue of the contents manager in use, if it archives."""
        assert self.serverapp is not None
        manager = self.serverapp.contents_manager
        return manager.archive_queue if isinstance(manager, ArchivingMixin) else None

    def initialize_handlers(self) -> None:
        self.handlers.extend([*default_handlers(), *team_handlers(), *schedule_handlers()])

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
