"""The per-notebook REST handlers: status, publish, versions, notebook, parameters, restore, diff,
runs (and
the route of the API's OpenAPI document, :mod:`bookstore.jupyter.openapi`).

The team's endpoints (catalog, published, copy) are in :mod:`bookstore.jupyter.team`; what
both share (the base handler, the error table, sign-in and authorization) in
:mod:`bookstore.jupyter.base`.
"""

from __future__ import annotations

import functools
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from ..compare import compare, published_side, run_side, stored_side
from ..errors import InvalidRequestError
from ..keys import validate_path
from ..library import page_as_json, parse_limit, parse_stage, restore_candidates
from ..notebooks import read as read_notebook
from ..parameters import inspect as inspect_parameters
from ..runs import DEFAULT_PAGE_SIZE as RUNS_PAGE_SIZE
from ..runs import MAX_PAGE_SIZE as MAX_RUNS_PAGE_SIZE
from ..runs import RunRecord, airflow_links
from ..scheduling import runs_page
from .base import BookstoreHandler, endpoint, features, may_publish, may_write_contents, saved_notebook
from .openapi import OpenAPIHandler
from .schedules import post_run_request


class StatusHandler(BookstoreHandler):
    """``GET /api/bookstore``: version, features, bucket, versioning, archive queue."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        bookstore = self.settings["bookstore_settings"]
        queue = self.queue
        answer: dict[str, Any] = {
            "version": __version__,
            "features": features(),
            "archiving": queue is not None,
            **bookstore.describe(),
        }
        if queue is not None:
            answer["versioning"] = queue.versioning
            answer["versioning_fix"] = queue.versioning_fix
            answer["archive"] = queue.status()
        self.finish_json(answer)


class PublishHandler(BookstoreHandler):
    """``PUT /api/bookstore/publish/<path>``: publish the saved notebook, or a workspace version."""

    @endpoint
    @may_publish
    async def put(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        body = self.body(("version_id", "force"))
        version_id = self.string_field(body, "version_id")
        force = self.bool_field(body, "force")
        library = self.library
        by = self.requester()
        if version_id is not None:
            published = await self.blocking(
                functools.partial(library.publish_version, path, version_id, force=force, published_by=by)
            )
        else:
            saved = await saved_notebook(self.contents_manager, path)
            published = await self.blocking(
                functools.partial(
                    library.publish_saved, path, saved, self.queue, force=force, published_by=by
                )
            )
        # 200: nothing new was published (the content is the latest published version).
        self.finish_json(published.as_json(), status=200 if published.unchanged else 201)


class VersionsHandler(BookstoreHandler):
    """``GET /api/bookstore/versions/<path>?stage=&limit=&cursor=``: one page, newest first."""

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        stage = parse_stage(self.get_query_argument("stage", None))
        limit = parse_limit(self.get_query_argument("limit", None))
        cursor = self.get_query_argument("cursor", None)
        library = self.library
        page = await self.blocking(lambda: library.versions(path, stage, limit=limit, cursor=cursor))
        self.finish_json(page_as_json(library.key(path, stage), stage, page))


class NotebookHandler(BookstoreHandler):
    """``GET /api/bookstore/notebook/<path>?stage=&version_id=``: the notebook JSON of one version."""

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        stage = parse_stage(self.get_query_argument("stage", None))
        version_id = self.get_query_argument("version_id", None) or None
        stored = await self.blocking(self.library.read, path, stage, version_id)
        self.finish_notebook(stored)


class ParametersHandler(BookstoreHandler):
    """``GET /api/bookstore/parameters/<path>?stage=&version_id=``: what the notebook declares as
    parameters (its cell tagged ``parameters``, read as papermill reads it), in the notebook as
    saved in Jupyter, or in a stored version when ``stage`` or ``version_id`` is given."""

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        stage_arg = self.get_query_argument("stage", None) or None
        version_id = self.get_query_argument("version_id", None) or None
        if stage_arg is None and version_id is None:
            saved = await saved_notebook(self.contents_manager, path, "inspect")
            content = await self.blocking(read_notebook, saved, f"the saved notebook {path!r}")
        else:
            stage = parse_stage(stage_arg)
            stored = await self.blocking(self.library.read, path, stage, version_id)
            content = await self.blocking(read_notebook, stored.body, f"{stage} version of {path!r}")
        declared = await self.blocking(inspect_parameters, content)
        self.finish_json({"path": path, **declared.as_json()})


class RestoreHandler(BookstoreHandler):
    """``POST /api/bookstore/restore/<path>``: write one version into the Jupyter contents."""

    @endpoint
    @may_write_contents
    async def post(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        body = self.body(("stage", "version_id", "target_path", "overwrite"))
        stage = parse_stage(self.string_field(body, "stage"))
        version_id = self.string_field(body, "version_id", required=True)
        target = self.string_field(body, "target_path")
        if target is not None:
            target = validate_path(target)
        overwrite = self.bool_field(body, "overwrite")
        _, content = await self.blocking(self.library.read_notebook, path, stage, version_id)
        model, existed = await self.save_into_contents(
            content, target, restore_candidates(path), overwrite=overwrite
        )
        self.finish_json(model, status=200 if existed else 201)


class DiffHandler(BookstoreHandler):
    """``GET /api/bookstore/diff/<path>?base_stage=&base_version_id=&remote_stage=&remote_version_id=``.

    Compares two versions of a notebook with nbdime: the *base* (a stored version, the
    latest of ``base_stage`` when no id is given, or, with ``base_notebook_key``, anyone's
    published notebook, e.g. a colleague's) with the *remote*, which is the notebook
    as saved in Jupyter unless ``remote_stage`` or ``remote_version_id`` names a stored
    version. Answers ``{"base", "diff", "base_version", "remote_version"}``, the first two
    as nbdime's diff API does.
    """

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        base_run = self.get_query_argument("base_run_id", None) or None
        remote_run = self.get_query_argument("remote_run_id", None) or None
        if base_run is not None or remote_run is not None:
            await self.compare_runs(path, base_run, remote_run)
            return
        base_stage_arg = self.get_query_argument("base_stage", None) or None
        base_key = self.get_query_argument("base_notebook_key", None) or None
        if base_key is not None and base_stage_arg is not None:
            raise InvalidRequestError("give base_stage or base_notebook_key, not both")
        base_stage = parse_stage(base_stage_arg)
        base_id = self.get_query_argument("base_version_id", None) or None
        remote_stage_arg = self.get_query_argument("remote_stage", None) or None
        remote_id = self.get_query_argument("remote_version_id", None) or None
        # Both sides' arguments are checked before S3 is asked anything.
        with_saved = remote_stage_arg is None and remote_id is None
        remote_stage = None if with_saved else parse_stage(remote_stage_arg)
        library = self.library
        if base_key is not None:
            library.catalog.key(base_key)
            base = await self.blocking(published_side, library, base_key, base_id)
        else:
            base = await self.blocking(stored_side, library, path, base_stage, base_id)
        if remote_stage is None:
            saved = await saved_notebook(self.contents_manager, path, "compare")
            content = await self.blocking(read_notebook, saved, f"the saved notebook {path!r}")
            remote = (content, {"stage": None, "path": path, "version_id": None})
        else:
            remote = await self.blocking(stored_side, library, path, remote_stage, remote_id)
        self.finish_json(await self.blocking(compare, base, remote))

    async def compare_runs(self, path: str, base_run: str | None, remote_run: str | None) -> None:
        """Compare two runs' executed notebooks (``base_run_id`` and ``remote_run_id``)."""
        if base_run is None or remote_run is None:
            raise InvalidRequestError("give both base_run_id and remote_run_id to compare two runs")
        others = ("base_stage", "base_version_id", "base_notebook_key", "remote_stage", "remote_version_id")
        if any(self.get_query_argument(name, None) for name in others):
            raise InvalidRequestError("compare two runs or two versions, not both")
        library = self.library
        base = await self.blocking(run_side, library, path, base_run)
        remote = await self.blocking(run_side, library, path, remote_run)
        self.finish_json(await self.blocking(compare, base, remote))


class RunsHandler(BookstoreHandler):
    """``GET /api/bookstore/runs/<path>?limit=&cursor=``: the runs of the notebook's published
    versions, newest first; ``?run_id=``: one run, with its executed notebook (``content``).
    ``POST``: ask Airflow to run it now (see :func:`~bookstore.jupyter.schedules.post_run_request`).

    Runs are read from their records in the bucket: no Airflow credentials are needed. With
    ``c.Bookstore.airflow_url`` set, each run Airflow made links to its task and viewer.
    """

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        library = self.library
        run_id = self.get_query_argument("run_id", None)
        if run_id is not None:
            record, stored = await self.blocking(library.executed, path, run_id)
            content = await self.blocking(
                read_notebook, stored.body, f"the executed notebook of run {run_id!r}"
            )
            self.finish_json({"run": self.run_json(record), "content": content})
            return
        limit = parse_limit(self.get_query_argument("limit", None), RUNS_PAGE_SIZE, MAX_RUNS_PAGE_SIZE)
        cursor = self.get_query_argument("cursor", None) or None
        notebook_key = library.notebook_key(path)
        page = await self.blocking(lambda: runs_page(library, notebook_key, limit=limit, cursor=cursor))
        self.finish_json(
            {
                "path": path,
                "key": library.key(path, "published"),
                "notebook_key": notebook_key,
                "runs": [self.run_json(record) for record in page.runs],
                "next_cursor": page.next_cursor,
            }
        )

    @endpoint
    @may_publish
    async def post(self, path: str | None = None) -> None:
        await post_run_request(self, path)

    def run_json(self, record: RunRecord) -> dict[str, Any]:
        airflow_url = self.settings["bookstore_settings"].airflow_url
        return {**record.as_json(), **airflow_links(record, airflow_url)}


def default_handlers() -> list[tuple[str, type[BookstoreHandler]]]:
    # Everything after the endpoint is the path, so that '//etc' and '..' reach the handler
    # and are refused with a 400 instead of falling through to a 404 page.
    return [
        (r"/api/bookstore/?", StatusHandler),
        (r"/api/bookstore/openapi\.json", OpenAPIHandler),
        (r"/api/bookstore/publish(?:/(?P<path>.*))?", PublishHandler),
        (r"/api/bookstore/versions(?:/(?P<path>.*))?", VersionsHandler),
        (r"/api/bookstore/notebook(?:/(?P<path>.*))?", NotebookHandler),
        (r"/api/bookstore/parameters(?:/(?P<path>.*))?", ParametersHandler),
        (r"/api/bookstore/restore(?:/(?P<path>.*))?", RestoreHandler),
        (r"/api/bookstore/diff(?:/(?P<path>.*))?", DiffHandler),
        (r"/api/bookstore/runs(?:/(?P<path>.*))?", RunsHandler),
    ]
