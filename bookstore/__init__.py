"""bookstore: archive, publish and schedule Jupyter notebooks on versioned S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import S3, Bookstore

if TYPE_CHECKING:
    from .jupyter.archive import BookstoreContentsArchiver, add_archiving

__all__ = ["S3", "Bookstore", "BookstoreContentsArchiver", "__version__", "add_archiving"]


def __getattr__(name: str) -> Any:
    # The archiver needs jupyter_server; importing it lazily keeps `import bookstore` light
    # for the CLI and Airflow workers, which do not.
    if name in ("BookstoreContentsArchiver", "add_archiving"):
        from .jupyter import archive

        return getattr(archive, name)
    raise AttributeError(f"module 'bookstore' has no attribute {name!r}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .jupyter.app import BookstoreExtension

    return [{"module": "bookstore.jupyter.app", "app": BookstoreExtension}]
