"""What a "not found" adds when a path names a notebook by (part of) its key.

People paste keys where a command wants a Jupyter path: the whole key
(``published/kylek/notebooks/a.ipynb``) or an Airflow ``notebook_key``
(``kylek/notebooks/a.ipynb``). :func:`with_suggestion` names the command they probably meant.
"""

from __future__ import annotations

from ..errors import BookstoreError, NotFoundError
from ..keys import validate_path
from ..library import WORKSPACE, Library
from .session import Session


def existing_variants(library: Library, path: str, stage: str = WORKSPACE) -> list[str]:
    """Paths with versions in ``stage`` that ``path``, which has none, probably meant.

    People paste keys: the whole key (``published/kylek/notebooks/a.ipynb``) or an Airflow
    ``notebook_key`` (``kylek/notebooks/a.ipynb``, under the published root). Each way of
    reading ``path`` as a key that lands under the stage's prefix is tried.
    """
    prefix = library.prefix(stage)
    parts = prefix.split("/") if prefix else []
    found: list[str] = []
    for depth in range(len(parts)):
        head = "/".join(parts[:depth])
        key = f"{head}/{path}" if head else path
        if not key.startswith(prefix + "/"):
            continue
        candidate = key[len(prefix) + 1 :]
        try:
            validate_path(candidate)
            library.store.head(key)
        except BookstoreError:
            continue
        found.append(candidate)
    return found


def with_suggestion(
    error: NotFoundError, session: Session, name: str, path: str, stage: str
) -> NotFoundError:
    """``error``, with the command the user probably meant when ``path`` names a notebook
    with (part of) its key prefix in front, as an Airflow ``notebook_key`` does."""
    meant = existing_variants(session.library, path, stage)
    if not meant:
        return error
    option = f" --stage {stage}" if stage != WORKSPACE and name != "run" else ""
    return NotFoundError(f"{error}; did you mean `bookstore {name} {meant[0]}{option}`?")
