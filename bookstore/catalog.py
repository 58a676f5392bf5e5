"""The team catalog: every published notebook under the published root, its latest version each.

With ``published_prefix = "published/{username}/notebooks"`` the published root is
``published``, and every user's publications lie below it
(``published/alice/notebooks/analysis/mine.ipynb``). The catalog lists the *current* objects
there, one page at a time, so a page costs one listing request plus one HEAD per notebook
(which is where the latest version id and the publisher are), whatever the number of
versions. Each entry names its notebook by its ``notebook_key``, the key relative to the
root, which is what an Airflow task's ``notebook_key`` takes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import metadata
from .answers import json_fields
from .errors import BookstoreError, InvalidPathError, NotFoundError
from .keys import is_under, path_to_key, validate_path
from .store import ObjectInfo, Store, StoredKey, StoredObject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogEntry:
    """One published notebook, as its latest version stands."""

    key: str
    #: The key relative to the published root (an Airflow task's ``notebook_key``).
    notebook_key: str
    #: Whose prefix it is under (None when the published prefix names no owner).
    owner: str | None
    version_id: str | None
    last_modified: datetime
    size: int
    #: Who published the latest version, when it was recorded.
    published_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as the REST API and ``bookstore catalog --json`` show it."""
        return json_fields(self)


@dataclass(frozen=True)
class CatalogPage:
    """One page of the catalog, in key order, and the cursor of the next (None on the last)."""

    notebooks: tuple[CatalogEntry, ...]
    next_cursor: str | None

    def as_json(self) -> dict[str, Any]:
        return {"notebooks": [entry.as_json() for entry in self.notebooks], "next_cursor": self.next_cursor}


def owner_of(notebook_key: str, owner_index: int | None) -> str | None:
    """The segment of ``notebook_key`` that names its owner (None without one)."""
    if owner_index is None:
        return None
    segments = notebook_key.split("/")
    # The owner's segment is a folder: a key with nothing below it is no one's notebook.
    return segments[owner_index] if len(segments) > owner_index + 1 else None


def notebook_key_of(key: str, root: str) -> str | None:
    """``key`` relative to ``root``, or None when it is no notebook's key (a folder marker,
    or a key no Jupyter path could have made)."""
    relative = key[len(root) + 1 :] if root else key
    try:
        return validate_path(relative)
    except InvalidPathError:
        return None


class Catalog:
    """Every user's published notebooks under one published root.

    Parameters
    ----------
    store
        The bucket.
    root
        The published root (``published``); notebook keys are relative to it.
    owner_index
        Which segment of a notebook key names its owner (None: keys name no owner).
    hidden
        Prefixes never listed nor read through a notebook key (the workspaces).
    """

    def __init__(
        self, store: Store, root: str, *, owner_index: int | None = None, hidden: tuple[str, ...] = ()
    ) -> None:
        self.store = store
        self.root = root
        self.owner_index = owner_index
        self.hidden = hidden

    def key(self, notebook_key: str) -> str:
        """The S3 key of the published notebook ``notebook_key``
        (``alice/notebooks/analysis/mine.ipynb``), whoever published it.

        Raises
        ------
        InvalidPathError
            When the key would leave the published root (``..``, encoded or not), or reach a
            workspace.
        """
        try:
            key = path_to_key(self.root, notebook_key)
        except InvalidPathError as e:
            raise InvalidPathError(
                f"notebook key {notebook_key!r} is refused: it must stay under the published root "
                f"{self.root!r}: {e}"
            ) from e
        if any(is_under(key, prefix) for prefix in self.hidden):
            raise InvalidPathError(f"notebook key {notebook_key!r} names a workspace, not a publication")
        return key

    def read(self, notebook_key: str, version_id: str | None = None) -> StoredObject:
        """One version (the latest by default) of the published notebook ``notebook_key``."""
        return self.store.get(self.key(notebook_key), version_id or None)

    def page(self, *, limit: int, cursor: str | None = None) -> CatalogPage:
        """One page of the notebooks under the root, in key order, the latest version of each.

        A page costs one listing request and one HEAD per notebook (a few at a time). A
        notebook deleted between the two is left out; one whose HEAD fails otherwise is
        listed as the listing saw it, without a version id.
        """
        page = self.store.list_keys(f"{self.root}/" if self.root else "", limit=limit, cursor=cursor or None)
        listed = [
            (item, notebook_key)
            for item in page.keys
            if not any(is_under(item.key, prefix) for prefix in self.hidden)
            and (notebook_key := notebook_key_of(item.key, self.root)) is not None
        ]
        heads = self.store.head_many([(item.key, None) for item, _ in listed])
        found = [
            self._latest(item, notebook_key, head)
            for (item, notebook_key), head in zip(listed, heads, strict=True)
        ]
        return CatalogPage(tuple(entry for entry in found if entry is not None), page.next_cursor)

    def _latest(
        self, item: StoredKey, notebook_key: str, info: ObjectInfo | BookstoreError
    ) -> CatalogEntry | None:
        owner = owner_of(notebook_key, self.owner_index)
        if isinstance(info, NotFoundError):
            return None
        if isinstance(info, BookstoreError):
            log.debug("Bookstore: no latest version of %r for the catalog: %s", item.key, info)
            return CatalogEntry(item.key, notebook_key, owner, None, item.last_modified, item.size)
        # The HEAD's answer throughout: a publication since the listing is then shown whole.
        return CatalogEntry(
            key=item.key,
            notebook_key=notebook_key,
            owner=owner,
            version_id=info.version_id,
            last_modified=info.last_modified,
            size=info.size,
            published_by=metadata.publisher(info.metadata),
        )
