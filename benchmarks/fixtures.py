"""What the benchmarks share: notebooks of a given size, and servers that always get cleaned up.

:func:`servers` starts a SeaweedFS and the Jupyter servers a benchmark asks for, and kills
them all when the ``with`` block ends, also on errors and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.jupyter_process import SEED_CONFIG, JupyterServer

#: jupyter_server with its default contents manager: the baseline of every save benchmark.
PLAIN_CONFIG = "c = get_config()\n"

#: Where the seed configuration archives ``<path>``: ``WORKSPACE_PREFIX + "/" + path``.
WORKSPACE_PREFIX = "workspace/kylek/notebooks"
#: Where it publishes ``<path>``.
PUBLISHED_PREFIX = "published/kylek/notebooks"


def notebook_of_size(size: int, cell_bytes: int = 10_000) -> dict[str, Any]:
    """A valid nbformat 4.5 notebook whose JSON is about ``size`` bytes.

    Code cells with ~``cell_bytes`` of printed text each, like a notebook with outputs.
    Built as plain JSON in linear time (nbformat's validation of a 100 MB notebook alone
    would take longer than the benchmark).
    """
    line = "x" * 99 + "\n"
    text = line * max(1, cell_bytes // 100)

    def cell(i: int) -> dict[str, Any]:
        return {
            "cell_type": "code",
            "execution_count": i + 1,
            "id": f"cell-{i:08d}",
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": text}],
            "source": f"print({i})",
        }

    def written(cells: int) -> int:  # what Jupyter writes to disk (multi-line strings split)
        return len(nbformat.writes(nbformat.from_dict({**nb, "cells": [cell(i) for i in range(cells)]})))

    nb: dict[str, Any] = json.loads(nbformat.writes(nbformat.v4.new_notebook()))
    empty = written(0)
    per_cell = (written(10) - empty) / 10
    count = max(1, round((size - empty) / per_cell))
    nb["cells"] = [cell(i) for i in range(count)]
    return nb


def size_label(size: int) -> str:
    """``100 KB``, ``1 MB``: decimal units, as the issue states sizes."""
    return f"{size // 1000} KB" if size < 1_000_000 else f"{size // 1_000_000} MB"


@dataclass
class Servers:
    """The servers of one benchmark run; see :func:`servers`."""

    home: Path
    s3: SeaweedFS
    bucket: str
    archiving: JupyterServer | None = None
    plain: JupyterServer | None = None
    _store: S3Store | None = field(default=None, repr=False)

    @property
    def store(self) -> S3Store:
        """An :class:`S3Store` on the benchmark bucket (as bookstore itself reads it)."""
        if self._store is None:
            self._store = self.s3.store(self.bucket, max_pool_connections=32)
        return self._store

    def client(self) -> Any:
        """A raw boto3 S3 client, as a baseline or for setup."""
        return self.s3.client()


@contextmanager
def servers(
    bucket: str,
    *,
    archiving: bool = True,
    plain: bool = False,
    archiving_config: str = "",
) -> Iterator[Servers]:
    """SeaweedFS with a versioned ``bucket``, and an archiving and/or a plain Jupyter server.

    ``archiving_config`` is appended to the seed configuration of the archiving server.
    Everything is killed on the way out, whatever happened.
    """
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bookstore-bench-")))
        s3 = SeaweedFS(home / "s3")
        stack.callback(s3.kill)
        s3.start()
        s3.create_bucket(bucket)
        found = Servers(home=home, s3=s3, bucket=bucket)
        if archiving:
            config = SEED_CONFIG.format(
                bucket=bucket,
                endpoint_url=s3.endpoint_url,
                access_key=s3.access_key,
                secret_key=s3.secret_key,
            )
            found.archiving = JupyterServer(home / "archiving", config + archiving_config)
            stack.callback(found.archiving.kill)
            found.archiving.start()
        if plain:
            found.plain = JupyterServer(home / "plain", PLAIN_CONFIG)
            stack.callback(found.plain.kill)
            found.plain.start()
        yield found


def server_pid(server: JupyterServer) -> int:
    """The process id of a running Jupyter server."""
    if server.process is None:
        raise RuntimeError("the Jupyter server is not running")
    return server.process.pid


def quiet_environment() -> dict[str, str]:
    """The environment with Python's output unbuffered, for subprocess benchmarks."""
    return dict(os.environ, PYTHONUNBUFFERED="1")
