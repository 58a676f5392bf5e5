"""The local side of the ``bookstore`` command: the config file, and notebooks on disk.

Paths on the command line are Jupyter paths, relative to the root dir (``--root-dir``,
``$BOOKSTORE_ROOT_DIR`` or the current folder); a path that leaves it is refused here, before
anything is read or written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from traitlets import TraitError
from traitlets.config import Config
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

from ..config import Bookstore
from ..errors import AlreadyExistsError, BookstoreError, InvalidPathError, MisconfiguredError, NotFoundError
from ..keys import validate_path

# -- configuration -------------------------------------------------------------------------


def load_config(path: str | None) -> Config:
    """The traitlets config in ``path`` (a Jupyter ``.py`` or ``.json`` config file), or none."""
    if not path:
        return Config()
    file = Path(path).expanduser()
    if not file.is_file():
        raise MisconfiguredError(f"config file {path!r} does not exist")
    loader_class = JSONFileConfigLoader if file.suffix == ".json" else PyFileConfigLoader
    loader = loader_class(file.name, path=str(file.parent.absolute()))
    try:
        return loader.load_config()
    except BookstoreError:
        raise
    except Exception as e:  # a config file is user code: any error is theirs to fix
        raise MisconfiguredError(f"cannot load config file {path!r}: {type(e).__name__}: {e}") from e


def load_settings(path: str | None) -> Bookstore:
    """The ``c.Bookstore`` settings of the config file at ``path`` (and the environment)."""
    config = load_config(path)
    try:
        return Bookstore(config=config)
    except TraitError as e:
        raise MisconfiguredError(f"invalid setting in {path or 'the environment'}: {e}") from e


# -- local notebooks -----------------------------------------------------------------------


def local_root(given: str | None) -> Path:
    """The folder local notebook paths are relative to: ``given``, else the current folder."""
    return Path(given or os.getcwd()).absolute()


def local_notebook(root: Path, path: str) -> tuple[str, Path]:
    """The Jupyter path and the file of ``path`` (relative to ``root``, or absolute inside it)."""
    full = Path(os.path.normpath(root / path))
    try:
        relative = full.relative_to(root)
    except ValueError as e:
        raise InvalidPathError(f"{path!r} is outside the root dir {str(root)!r}; pass --root-dir") from e
    return validate_path(relative.as_posix()), full


def read_local(root: Path, path: str, hint: str = "check the path and --root-dir") -> tuple[str, Path, bytes]:
    """The Jupyter path, file and bytes of the local notebook ``path`` (see :func:`local_notebook`)."""
    jupyter_path, file = local_notebook(root, path)
    try:
        return jupyter_path, file, file.read_bytes()
    except FileNotFoundError as e:
        raise NotFoundError(f"{str(file)!r} does not exist; {hint}") from e


def write_new(file: Path, body: bytes) -> None:
    """Write ``body`` to ``file``, failing with :class:`FileExistsError` if it exists."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "xb") as f:
        f.write(body)


def write_replacing(file: Path, body: bytes) -> None:
    """Write ``body`` to ``file`` in one step (a reader never sees half a notebook)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(temp, file)
    except BaseException:
        os.unlink(temp)
        raise


def write_target(root: Path, target: str, body: bytes, *, overwrite: bool) -> tuple[str, Path]:
    """Write ``body`` to the local notebook ``target``, replacing it only with ``overwrite``.

    Returns the Jupyter path and the file written.
    """
    path, file = local_notebook(root, target)
    if overwrite:
        write_replacing(file, body)
        return path, file
    try:
        write_new(file, body)
    except FileExistsError as e:
        raise AlreadyExistsError(f"{path!r} already exists: pass --overwrite to replace it") from e
    return path, file


def write_first_free(root: Path, candidates: Iterable[str], body: bytes) -> tuple[str, Path]:
    """Write ``body`` to the first of the local notebooks ``candidates`` that does not exist.

    Returns the Jupyter path and the file written.
    """
    for candidate in candidates:
        path, file = local_notebook(root, candidate)
        try:
            write_new(file, body)
        except FileExistsError:
            continue
        return path, file
    raise AlreadyExistsError("every candidate file name already exists: pass --target")
