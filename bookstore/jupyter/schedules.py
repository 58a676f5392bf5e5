"""REST handlers of schedules, and of asking Airflow to run a notebook now.

``GET /api/bookstore/schedules`` lists the team's schedules; ``GET``, ``PUT`` and ``DELETE``
``/api/bookstore/schedules/<path>`` read and change the schedules of one of this server's
own notebooks (``<path>`` as for publishing). What they call lives in
:mod:`bookstore.scheduling` and :mod:`bookstore.schedules`; nothing here talks to Airflow:
Airflow reads the documents from the bucket.
"""

from __future__ import annotations

import functools

from ..errors import InvalidRequestError
from ..schedules import FIELDS
from ..scheduling import (
    history_answer,
    listing_answer,
    notebook_answer,
    request_run,
    save_schedule,
    schedule_answer,
)
from .base import BookstoreHandler, endpoint, may_publish


async def team_schedules(handler: BookstoreHandler) -> None:
    """Every schedule in the bucket (or one notebook's: ``?notebook_key=``), malformed
    documents marked."""
    notebook_key = handler.get_query_argument("notebook_key", None) or None
    if notebook_key is not None:
        handler.notebook_key(notebook_key)
    handler.finish_json(await handler.blocking(listing_answer, handler.library.schedules, notebook_key))


class TeamSchedulesHandler(BookstoreHandler):
    """``GET /api/bookstore/schedules?notebook_key=``: the team's schedules."""

    @endpoint
    async def get(self) -> None:
        await team_schedules(self)


class SchedulesHandler(BookstoreHandler):
    """``/api/bookstore/schedules/<path>``: the schedules of this server's notebook at ``<path>``.

    - ``GET``: ``{"notebook_key", "schedules": [...]}``; with ``?name=<name>&history=true``,
      every stored version of that schedule, newest first.
    - ``PUT`` (``name`` and the schedule's fields in the body): 201 created, 200 changed,
      answering the document with its ``dag_id`` and next run times.
    - ``DELETE ?name=<name>``: 204.
    """

    @endpoint
    async def get(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        library = self.library
        notebook_key = library.notebook_key(path)
        name = self.get_query_argument("name", None)
        if self.get_query_argument("history", "") in ("1", "true"):
            if not name:
                raise InvalidRequestError(
                    "name the schedule whose history to show: ?name=<name>&history=true"
                )
            self.finish_json(await self.blocking(history_answer, library.schedules, notebook_key, name))
            return
        self.finish_json(await self.blocking(notebook_answer, library.schedules, notebook_key, name))

    @endpoint
    @may_publish
    async def put(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        body = self.body(FIELDS)
        save = functools.partial(
            save_schedule, self.library, self.library.schedules, path, body, by=self.requester()
        )
        schedule, created = await self.blocking(save)
        self.finish_json(schedule_answer(schedule, created), status=201 if created else 200)

    @endpoint
    @may_publish
    async def delete(self, path: str | None = None) -> None:
        path = self.notebook_path(path)
        name = self.get_query_argument("name", None)
        if not name:
            raise InvalidRequestError("name the schedule to remove: ?name=<name>")
        library = self.library
        await self.blocking(library.schedules.delete, library.notebook_key(path), name)
        self.set_status(204)
        self.finish()


async def post_run_request(handler: BookstoreHandler, path: str | None) -> None:
    """``POST /api/bookstore/runs/<path>``, body ``{"version_id"?, "parameters"?,
    "force_parameters"?}``: ask Airflow to run the published notebook now; 202 with the
    queued run's record (its ``request_id``), which ``GET /api/bookstore/runs/<path>`` lists."""
    path = handler.notebook_path(path)
    body = handler.body(("version_id", "parameters", "force_parameters"))
    library = handler.library
    ask = functools.partial(request_run, library, library.schedules, path, body, by=handler.requester())
    record = await handler.blocking(ask)
    handler.finish_json(record.as_json(), status=202)


def schedule_handlers() -> list[tuple[str, type[BookstoreHandler]]]:
    return [
        (r"/api/bookstore/schedules", TeamSchedulesHandler),
        (r"/api/bookstore/schedules(?:/(?P<path>.*))?", SchedulesHandler),
    ]
