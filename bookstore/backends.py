"""Storage backends by name, and the one function that builds a store from plain settings.

A backend is a module with a :class:`~bookstore.store.Store` subclass and a factory
``from_settings(settings, patience) -> Store`` taking a plain mapping (for S3: ``bucket``,
``endpoint_url``, ``region_name``, ``access_key_id``, ``secret_access_key``), named in
:data:`BACKENDS` or by another package under the ``bookstore.backends`` entry point group.
Every side builds its store with :func:`build_store`: Jupyter and the CLI from the
``c.Bookstore`` settings (:meth:`bookstore.config.Bookstore.store_settings`), the Airflow hook
from its connection. A backend's module (and its client library, boto3 for S3) is imported
only when a store of it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from .errors import MisconfiguredError

if TYPE_CHECKING:
    from .store import Patience, Store

#: Builds a store from a backend's plain settings with a given patience.
BackendFactory = Callable[[Mapping[str, Any], "Patience"], "Store"]

#: Backends by the name ``c.Bookstore.backend`` gives, as ``"module:callable"`` so that a
#: backend's client library is imported only when it is used.
BACKENDS: dict[str, str] = {"s3": "bookstore.s3:from_settings", "gcs": "bookstore.gcs:from_settings"}

#: The URI scheme objects of each backend are named by (``s3://bucket/key``), as Airflow's
#: providers name them in assets; another backend's scheme is its name.
URI_SCHEMES: dict[str, str] = {"s3": "s3", "gcs": "gs"}

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


def build_store(name: str, settings: Mapping[str, Any], patience: Patience | None = None) -> Store:
    """The store of backend ``name`` that ``settings`` describe (one client, reused).

    ``patience`` defaults to :data:`~bookstore.store.INTERACTIVE`: a person is waiting.

    Raises
    ------
    MisconfiguredError
        The backend is unknown, no bucket is named, or the settings cannot work.
    """
    from .store import INTERACTIVE

    return backend(name)(settings, patience or INTERACTIVE)


def uri_scheme(name: str) -> str:
    """The scheme of object URIs on backend ``name``: ``s3``, ``gs``, ..."""
    return URI_SCHEMES.get(name, name)
