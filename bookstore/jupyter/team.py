"""REST handlers of the team's published notebooks: the catalog, reading and copying anyone's
publication by its ``notebook_key`` (relative to the published root).

They share :class:`~bookstore.jupyter.base.BookstoreHandler` and its error table with
the other endpoints; what they call lives in :mod:`bookstore.catalog`.
"""

from __future__ import annotations

import itertools

from ..keys import numbered_names, validate_path
from ..library import describe, parse_limit
from ..notebooks import read_json
from .base import BookstoreHandler, endpoint, may_write_contents


class CatalogHandler(BookstoreHandler):
    """``GET /api/bookstore/catalog?limit=&cursor=``: every user's published notebooks, the
    latest version of each, one page in key order."""

    @endpoint
    async def get(self) -> None:
        limit = parse_limit(self.get_query_argument("limit", None))
        cursor = self.get_query_argument("cursor", None) or None
        catalog = self.library.catalog
        page = await self.blocking(lambda: catalog.page(limit=limit, cursor=cursor))
        self.finish_json({"published_root": catalog.root, **page.as_json()})


class PublishedHandler(BookstoreHandler):
    """``GET /api/bookstore/published/<notebook_key>?version_id=``: the notebook JSON of one
    version (the latest by default) of anyone's published notebook; read-only."""

    @endpoint
    async def get(self, notebook_key: str | None = None) -> None:
        notebook_key = self.notebook_key(notebook_key)
        version_id = self.get_query_argument("version_id", None) or None
        stored = await self.blocking(self.library.catalog.read, notebook_key, version_id)
        self.finish_notebook(stored)


class CopyHandler(BookstoreHandler):
    """``POST /api/bookstore/copy/<notebook_key>``, body ``{"version_id"?, "target_path"?,
    "overwrite"?}``: write a published notebook (anyone's) into this server's contents, where
    saving archives it to this user's workspace.

    The default target is the notebook's file name, or ``<name>-copy.ipynb``,
    ``<name>-copy-1.ipynb``, ... when taken; an existing ``target_path`` is refused (409)
    without ``"overwrite": true``. Answers the contents model: 201, or 200 when it replaced
    a file.
    """

    @endpoint
    @may_write_contents
    async def post(self, notebook_key: str | None = None) -> None:
        notebook_key = self.notebook_key(notebook_key)
        body = self.body(("version_id", "target_path", "overwrite"))
        version_id = self.string_field(body, "version_id")
        target = self.string_field(body, "target_path")
        if target is not None:
            target = validate_path(target)
        overwrite = self.bool_field(body, "overwrite")
        stored = await self.blocking(self.library.catalog.read, notebook_key, version_id)
        content = await self.blocking(read_json, stored.body, describe(stored))
        name = notebook_key.rpartition("/")[2]
        candidates = itertools.chain([name], numbered_names(name, "-copy"))
        model, existed = await self.save_into_contents(content, target, candidates, overwrite=overwrite)
        self.set_header("X-Bookstore-Key", stored.info.key)
        self.set_header("X-Bookstore-Version-Id", stored.info.version_id or "null")
        self.finish_json(model, status=200 if existed else 201)


def team_handlers() -> list[tuple[str, type[BookstoreHandler]]]:
    # Everything after the endpoint is the notebook key, so that '..' reaches the handler
    # and is refused with a 400.
    return [
        (r"/api/bookstore/catalog/?", CatalogHandler),
        (r"/api/bookstore/published(?:/(?P<notebook_key>.*))?", PublishedHandler),
        (r"/api/bookstore/copy(?:/(?P<notebook_key>.*))?", CopyHandler),
    ]
