"""Saves jupyter-collaboration makes on its own, told apart from the ones a person asks for.

With jupyter-collaboration (its server extension ``jupyter_server_ydoc``) the browser no
longer saves through the contents REST API: the server holds the shared document and saves
it itself, in ``DocumentRoom._maybe_save_document``, either ``document_save_delay`` seconds
after each change (an autosave, ``save_now=False``) or when a person saves (Ctrl-S, the Save
button: the browser asks over the document's websocket, and the room saves with
``save_now=True``). Both reach the contents manager as the same ``save(model, path)`` call,
in a task started from that method; so the method is wrapped to note which kind of save it
makes in a context variable, which the task inherits and :func:`autosaving` reads.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import inspect
import logging
from typing import Any

log = logging.getLogger(__name__)

_ROOMS = "jupyter_server_ydoc.rooms"
_METHOD = "_maybe_save_document"

_autosave: contextvars.ContextVar[bool] = contextvars.ContextVar("bookstore_autosave", default=False)


def autosaving() -> bool:
    """Whether the save being made now is an autosave of jupyter-collaboration."""
    return _autosave.get()


def watch_autosaves(logger: logging.Logger | logging.LoggerAdapter[Any] = log) -> bool:
    """Let :func:`autosaving` see jupyter-collaboration's autosaves, when it is installed.

    Returns whether it can (idempotent). A release that renamed what is wrapped is warned
    about: its autosaves are then archived as explicit saves, each one a version unless
    identical to the last.
    """
    if importlib.util.find_spec("jupyter_server_ydoc") is None:
        return False
    try:
        rooms = importlib.import_module(_ROOMS)
    except Exception as e:  # a broken install of it must not stop the server
        logger.warning("Bookstore: could not import %s (%s): autosaves are archived as saves", _ROOMS, e)
        return False
    room_class = getattr(rooms, "DocumentRoom", None)
    original = getattr(room_class, _METHOD, None)
    if original is None or not inspect.iscoroutinefunction(original):
        logger.warning(
            "Bookstore: this jupyter-collaboration has no DocumentRoom.%s: its autosaves cannot be "
            "told from explicit saves, and each is archived (unless identical to the last)",
            _METHOD,
        )
        return False
    if getattr(original, "_bookstore_watched", False):
        return True
    signature = inspect.signature(original)
    if "save_now" not in signature.parameters:
        logger.warning(
            "Bookstore: DocumentRoom.%s of this jupyter-collaboration takes no save_now: its "
            "autosaves cannot be told from explicit saves, and each is archived (unless "
            "identical to the last)",
            _METHOD,
        )
        return False

    @functools.wraps(original)
    async def maybe_save_document(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        token = _autosave.set(not bound.arguments["save_now"])
        try:
            return await original(*args, **kwargs)
        finally:
            _autosave.reset(token)

    maybe_save_document._bookstore_watched = True  # type: ignore[attr-defined]
    setattr(room_class, _METHOD, maybe_save_document)
    return True
