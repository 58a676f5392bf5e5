"""A real ``jupyter server`` in a child process, driven over HTTP like a browser would."""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import requests

from bookstore.store import Store
from devtools.service import ServerProcess

if TYPE_CHECKING:
    from devtools.fake_gcs import FakeGCS
    from devtools.seaweedfs import SeaweedFS

OTHER_EXTENSIONS = (
    "jupyterlab",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "jupyterlab_jupytext",
    "nbdime",
    "notebook",
    "notebook_shim",
)

SEED_CONFIG = """\
from bookstore import BookstoreContentsArchiver
c = get_config()
c.ServerApp.contents_manager_class = BookstoreContentsArchiver
c.Bookstore.workspace_prefix = "/workspace/kylek/notebooks"
c.Bookstore.published_prefix = "/published/kylek/notebooks"
c.Bookstore.backend = "s3"
c.Bookstore.S3.bucket = "{bucket}"
c.Bookstore.S3.endpoint_url = "{endpoint_url}"
c.Bookstore.S3.region_name = "us-east-1"
c.Bookstore.S3.access_key_id = "{access_key}"
c.Bookstore.S3.secret_access_key = "{secret_key}"
"""


#: The seed's workspace prefix, as keys start with it.
PREFIX = "workspace/kylek/notebooks"
#: Configuration added to the seed's so that a failed upload is retried within a second.
FAST_RETRY = "\nc.BookstoreContentsArchiver.retry_max_delay = 1.0\n"


def seed_config(server: SeaweedFS, bucket: str, **overrides: str) -> str:
    """The seed's Jupyter configuration, verbatim, filled in for ``server`` and ``bucket``."""
    values = {
        "bucket": bucket,
        "endpoint_url": server.endpoint_url,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
    }
    values.update(overrides)
    return SEED_CONFIG.format(**values)


#: The seed's configuration on Google Cloud Storage: its lines up to the backend (the same
#: contents manager and prefixes), then ``c.Bookstore.GCS``.
GCS_CONFIG = (
    SEED_CONFIG[: SEED_CONFIG.index("c.Bookstore.backend")]
    + """\
c.Bookstore.backend = "gcs"
c.Bookstore.GCS.bucket = "{bucket}"
c.Bookstore.GCS.project = "{project}"
c.Bookstore.GCS.endpoint_url = "{endpoint_url}"
"""
)


def gcs_config(server: FakeGCS, bucket: str) -> str:
    """:data:`GCS_CONFIG` filled in for ``bucket`` of the GCS-API server ``server`` (no
    credentials: with an endpoint and no key file, bookstore's requests are anonymous)."""
    return GCS_CONFIG.format(bucket=bucket, project=server.project, endpoint_url=server.endpoint_url)


def notebook(
    source: str = "print('hello')", *, tags: tuple[str, ...] = (), **metadata: Any
) -> dict[str, Any]:
    """A small notebook as JupyterLab sends it (cell sources as single strings), its one cell
    tagged with ``tags`` (``("parameters",)`` for a notebook a run gives parameters to)."""
    nb = nbformat.v4.new_notebook(metadata=metadata)
    nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)} if tags else {}))
    return json.loads(json.dumps(nb))


def with_parameters(source: str, parameters: str = "x = 0", **metadata: Any) -> dict[str, Any]:
    """A notebook whose first cell, tagged ``parameters``, holds ``parameters``, then ``source``."""
    content = notebook(parameters, tags=("parameters",), **metadata)
    content["cells"] += notebook(source)["cells"]
    return content


class JupyterServer(ServerProcess):
    """``jupyter server`` with a config file, a token and its own Jupyter dirs in ``home``."""

    name = "jupyter server"
    log_name = "jupyter.log"
    grace = 15.0
    poll = 0.1
    #: Enough of the log for a start-up error's traceback and message.
    report_lines = 120

    def __init__(
        self,
        home: Path,
        config: str,
        *,
        extra_args: list[str] | None = None,
        other_extensions: bool = False,
    ) -> None:
        super().__init__(home)
        self.home = home
        # Only bookstore unless asked: faster start-up, and no other extension (jupytext
        # wraps the contents manager when enabled) changes what is under test.
        self.extension_args = (
            []
            if other_extensions
            else [f"--ServerApp.jpserver_extensions={name}=False" for name in OTHER_EXTENSIONS]
        )
        self.root_dir = home / "notebooks"
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.config_file = home / "jupyter_server_config.py"
        self.config_file.write_text(config)
        self.token = uuid.uuid4().hex
        self.extra_args = extra_args or []
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTER_PLATFORM_DIRS="1",
        )
        return env

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--config={self.config_file}",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",
            *self.extension_args,
            *self.extra_args,
        ]

    def popen_options(self) -> dict[str, Any]:
        return {"env": self.env()}

    def answers(self) -> bool:
        try:
            return self.session.get(f"{self.url}/api/status", timeout=2).ok
        except requests.ConnectionError:
            return False

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    # -- HTTP ---------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.url}{path}", **kwargs)

    def save(self, path: str, content: dict[str, Any]) -> dict[str, Any]:
        """Save a notebook through the contents API, as JupyterLab does."""
        answer = self.request(
            "PUT", f"/api/contents/{path}", json={"type": "notebook", "format": "json", "content": content}
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()  # type: ignore[no-any-return]

    def status(self) -> dict[str, Any]:
        answer = self.request("GET", "/api/bookstore")
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def wait_archived(self, timeout: float = 60.0) -> dict[str, Any]:
        """Poll the status endpoint until no save is pending."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status["archive"]["pending"] == 0:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"saves still pending after {timeout} s: {status}")
            time.sleep(0.1)


def started_with_a_save(
    jupyter_factory: Any, config: str, path: str = "mine.ipynb", **kwargs: object
) -> JupyterServer:
    """A Jupyter server started with ``config`` (and :func:`jupyter_factory`'s ``kwargs``)
    whose first save of ``path`` (``"before"``) is archived: where a test of S3 misbehaving
    begins."""
    jupyter: JupyterServer = jupyter_factory(config, **kwargs)
    jupyter.save(path, notebook("before"))
    jupyter.wait_archived()
    return jupyter


def bodies(store: Store, key: str) -> list[bytes]:
    """Every archived version of ``key``, oldest first."""
    return [store.get(key, v.version_id).body for v in reversed(list(store.iter_versions(key)))]


def sources(store: Store, key: str) -> list[str]:
    """The first cell's source of every archived version of ``key``, oldest first."""
    return ["".join(json.loads(body)["cells"][0]["source"]) for body in bodies(store, key)]


def raw_request(
    server: JupyterServer, method: str, target: str, body: bytes | None = None, token: str | None = "ok"
) -> tuple[int, Any]:
    """Send ``target`` exactly as written (no client-side normalisation of '..' or '%')."""
    headers = {"Content-Type": "application/json"}
    if token == "ok":
        headers["Authorization"] = f"token {server.token}"
    elif token:
        headers["Authorization"] = f"token {token}"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, target, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
    finally:
        connection.close()
    try:
        return answer.status, json.loads(data)
    except ValueError:
        return answer.status, data
