"""The OpenAPI document of the REST API, shipped as ``openapi.yaml`` next to this module and
served at ``GET /api/bookstore/openapi.json``.

The document is written by hand, in YAML (a person adds an endpoint by adding a block, see
its header); ``tests/test_openapi.py`` keeps it and the route tables in step, and the JupyterLab
extension's REST types are generated from it (``npm run generate-api-types`` in ``labextension/``).
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from .base import BookstoreHandler

DOCUMENT = "openapi.yaml"


@functools.cache
def _load() -> dict[str, Any]:
    import yaml

    text = resources.files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def document(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, with this package's version and the server's ``base_url``
    (``/user/alice/`` on a JupyterHub) as its server."""
    answer = copy.deepcopy(_load())
    answer["info"]["version"] = __version__
    answer["servers"] = [{"url": base_url.rstrip("/") or "/"}]
    return answer


class OpenAPIHandler(BookstoreHandler):
    """``GET /api/bookstore/openapi.json``: the OpenAPI document of this REST API."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.finish_json(document(self.base_url))
