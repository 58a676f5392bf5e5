"""Storage backends by name: the ``c.Bookstore.backend`` setting, and the store it builds.

A backend is a module with a :class:`~bookstore.store.Store` subclass and a factory
``from_settings(bookstore, patience) -> Store``, named in :data:`BACKENDS` or by another
package under the ``bookstore.backends`` entry point group. A backend's module (and its
client library, boto3 for S3) is imported only when a store of it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from .errors import MisconfiguredError

if TYPE_CHECKING:
    from .config import Bookstore
    from .store import Patience, Store

#: Builds a store from the ``c.Bookstore`` settings with a given patience.
BackendFactory = Callable[["Bookstore", "Patience"], "Store"]

#: Backends by the name ``c.Bookstore.backend`` gives, as ``"module:callable"`` so that a
#: backend's client library is imported only when it is used.
BACKENDS: dict[str, str] = {"s3": "bookstore.s3:from_settings"}

ENTRY_POINT_GROUP = "bookstore.backends"


def backend_names() -> list[str]:
    """Every backend that can be named: the built-in ones and those of installed packages."""
    return sorted({*BACKENDS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def check_backend_name(name: str) -> None:
    """Refuse a backend name nothing offers, naming those that exist (imports no backend).

    Raises
    ------
    MisconfiguredError
        When no backend has that name.
    """
    if name not in backend_names():
        raise MisconfiguredError(
            f"c.Bookstore.backend = {name!r} is not a known backend; choose one of: "
            + ", ".join(backend_names())
        )


def backend(name: str) -> BackendFactory:
    """The factory of the backend called ``name`` (see :func:`check_backend_name`)."""
    check_backend_name(name)
    target = BACKENDS.get(name)
    if target is None:
        factory: BackendFactory = next(
            ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name
        ).load()
        return factory
    module, _, attribute = target.partition(":")
    loaded: BackendFactory = getattr(importlib.import_module(module), attribute)
    return loaded
