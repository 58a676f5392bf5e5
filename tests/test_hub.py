"""One configuration for a whole team, on a real JupyterHub.

A real ``jupyterhub`` with ``configurable-http-proxy`` (npm), its simple local-process
spawner and dummy authenticator, and two users, alice and bob, driven through the hub's REST
API and the proxy. Every single-user server reads the same bookstore configuration, whose
prefixes name ``{username}``, and archives to a SeaweedFS of this module's where each user has
an S3 identity of their own, limited to their own prefixes (as in ``BOOKSTORE_HUB=1 make
run``): the hub gives each server its own user's key and no other.

``make test`` installs the proxy into ``.venv/hub``; run ``make hubproxy`` when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS, UserIdentity
from devtools.service import ServerProcess
from devtools.supervisor import free_port, marked_processes, signal_processes
from tests.helpers.jupyter_process import OTHER_EXTENSIONS, JupyterServer, notebook, seed_config

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parent.parent
PROXY = REPO / ".venv" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
MARK = "BOOKSTORE_HUB_TEST"
TEAM_BUCKET = "team-notebooks"
USERS = {
    name: UserIdentity(name, f"{name}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, TEAM_BUCKET)
    for name in ("alice", "bob")
}

TEAM_PREFIXES = {
    '"/workspace/kylek/notebooks"': '"workspace/{username}/notebooks"',
    '"/published/kylek/notebooks"': '"published/{username}/notebooks"',
}

HUB_CONFIG = """\
import sys
c = get_config()
S3_KEYS = {s3_keys!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.bind_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {home!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {home!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {home!r} + "/cookie_secret"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{{"name": "bookstore-test", "api_token": {api_token!r}}}]
c.JupyterHub.load_roles = [
    {{
        "name": "bookstore-test",
        "scopes": ["admin:users", "admin:servers", "tokens"],
        "services": ["bookstore-test"],
    }}
]
c.SimpleLocalProcessSpawner.home_dir_template = {home!r} + "/users/{{username}}"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root", *{server_args!r}]
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.Spawner.environment = {{
    "AWS_ACCESS_KEY_ID": lambda spawner: S3_KEYS[spawner.user.name]["AWS_ACCESS_KEY_ID"],
    "AWS_SECRET_ACCESS_KEY": lambda spawner: S3_KEYS[spawner.user.name]["AWS_SECRET_ACCESS_KEY"],
    "JUPYTER_CONFIG_DIR": {config_dir!r},
    "JUPYTER_DATA_DIR": lambda spawner: {home!r} + "/users/" + spawner.user.name + "/.data",
    "JUPYTER_RUNTIME_DIR": lambda spawner: {home!r} + "/users/" + spawner.user.name + "/.runtime",
    "JUPYTER_PLATFORM_DIRS": "1",
    {mark!r}: {mark_value!r},
}}
"""


def team_config(server: SeaweedFS, bucket: str) -> str:
    """The seed's Jupyter configuration, with prefixes naming ``{username}`` and no
    credentials: each server has its user's in its environment."""
    config = seed_config(server, bucket)
    for static, template in TEAM_PREFIXES.items():
        config = config.replace(static, template)
    lines = config.splitlines(keepends=True)
    return "".join(
        line for line in lines if not line.startswith(("c.Bookstore.S3.access", "c.Bookstore.S3.secret"))
    )


def require_proxy() -> str:
    if PROXY.exists():
        return str(PROXY)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    pytest.fail(
        f"configurable-http-proxy is not installed (looked for {PROXY} and on PATH): run `make hubproxy`, "
        "or `npm install --prefix .venv/hub configurable-http-proxy@4` (needs Node.js and npm)"
    )


class Hub(ServerProcess):
    """A JupyterHub in a child process, with an API token allowed to manage users.

    Its port is the proxy's, where users reach it."""

    name = "jupyterhub"
    log_name = "jupyterhub.log"
    grace = 20.0
    report_lines = 80

    def __init__(self, home: Path, config_dir: Path, proxy: str) -> None:
        super().__init__(home)
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.api_token = uuid.uuid4().hex
        self.mark = uuid.uuid4().hex
        self.proxy_port = self.port
        self.hub_port = free_port(taken={self.proxy_port})
        self.proxy_api_port = free_port(taken={self.proxy_port, self.hub_port})
        (home / "jupyterhub_config.py").write_text(
            HUB_CONFIG.format(
                proxy_port=self.proxy_port,
                hub_port=self.hub_port,
                proxy_api_port=self.proxy_api_port,
                proxy=proxy,
                home=str(home),
                api_token=self.api_token,
                config_dir=str(config_dir),
                server_args=[f"--ServerApp.jpserver_extensions={name}=False" for name in OTHER_EXTENSIONS],
                mark=MARK,
                mark_value=self.mark,
                s3_keys={name: user.environment() for name, user in USERS.items()},
            )
        )
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"token {self.api_token}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "jupyterhub", "-f", str(self.home / "jupyterhub_config.py")]

    def popen_options(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
        env[MARK] = self.mark
        return {"env": env, "cwd": self.home}

    def answers(self) -> bool:
        try:
            return self.api.get(f"{self.url}/hub/api/", timeout=2).ok
        except requests.ConnectionError:
            return False

    def hub_api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.api.request(method, f"{self.url}/hub/api{path}", timeout=30, **kwargs)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def add_user(self, name: str) -> str:
        """Create ``name``, start their server and return an API token of theirs."""
        self.hub_api("POST", f"/users/{name}")
        self.hub_api("POST", f"/users/{name}/server")
        return str(self.hub_api("POST", f"/users/{name}/tokens", json={"note": "bookstore test"})["token"])

    def wait_ready(self, name: str, timeout: float = 90.0) -> None:
        def ready() -> bool:
            server = self.hub_api("GET", f"/users/{name}")["servers"].get("")
            return bool(server and server.get("ready"))

        self.wait_until(ready, timeout, f"{name}'s server")

    def stop(self) -> None:
        super().stop()
        # Single-user servers live in sessions of their own; the hub stops them, and the
        # mark finds any that outlived it.
        leftovers = marked_processes(MARK, self.mark)
        signal_processes(leftovers, signal.SIGKILL)


class User:
    """One hub user, talking to their own server (or another's) through the proxy."""

    def __init__(self, hub: Hub, name: str, token: str) -> None:
        self.hub = hub
        self.name = name
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def request(
        self, method: str, path: str, *, server: str | None = None, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.session.request(method, f"{self.hub.url}/user/{server or self.name}{path}", **kwargs)

    def save(self, path: str, source: str) -> None:
        body = {"type": "notebook", "format": "json", "content": notebook(source)}
        answer = self.request("PUT", f"/api/contents/{path}", json=body)
        assert answer.status_code in (200, 201), answer.text

    def wait_archived(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = self.request("GET", "/api/bookstore").json()
            if status["archive"]["pending"] == 0:
                return
            assert time.monotonic() < deadline, status
            time.sleep(0.1)


# -- fixtures: one hub, two users, one bucket for the module ---------------------------------


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """This module's SeaweedFS: the administrator's identity (the tests' own) and each user's."""
    server = SeaweedFS(tmp_path_factory.mktemp("team-s3"), users=list(USERS.values()))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def module_bucket(s3_server: SeaweedFS) -> str:
    return s3_server.create_bucket(TEAM_BUCKET)


@pytest.fixture(scope="module")
def users(
    tmp_path_factory: pytest.TempPathFactory, s3_server: SeaweedFS, module_bucket: str
) -> Iterator[dict[str, User]]:
    proxy = require_proxy()
    home = tmp_path_factory.mktemp("hub")
    config_dir = home / "jupyter-config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(team_config(s3_server, module_bucket))
    hub = Hub(home, config_dir, proxy)
    try:
        hub.start()
        tokens = {name: hub.add_user(name) for name in ("alice", "bob")}
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(hub.wait_ready, tokens))
        yield {name: User(hub, name, token) for name, token in tokens.items()}
    finally:
        hub.stop()


def bucket_keys(s3: S3Store) -> list[str]:
    """Every key in the bucket, as S3 lists them (every version's key)."""
    listing = s3._client.list_object_versions(Bucket=s3.bucket)
    return sorted({item["Key"] for item in listing.get("Versions", [])})


# -- the tests -------------------------------------------------------------------------------


def test_each_users_saves_land_under_their_own_workspace_only(users: dict[str, User], s3: S3Store) -> None:
    alice, bob = users["alice"], users["bob"]
    alice.save("analysis.ipynb", "x = 'alice'")
    bob.save("analysis.ipynb", "x = 'bob'")
    bob.save("scratch.ipynb", "y = 'bob'")
    alice.wait_archived()
    bob.wait_archived()
    assert bucket_keys(s3) == [
        "workspace/alice/notebooks/analysis.ipynb",
        "workspace/bob/notebooks/analysis.ipynb",
        "workspace/bob/notebooks/scratch.ipynb",
    ]
    status = alice.request("GET", "/api/bookstore").json()
    assert status["workspace_prefix"] == "workspace/alice/notebooks"
    assert (status["username"], status["published_root"]) == ("alice", "published")


def test_alices_publication_is_in_bobs_catalog(users: dict[str, User], s3: S3Store) -> None:
    alice, bob = users["alice"], users["bob"]
    published = alice.request("PUT", "/api/bookstore/publish/analysis.ipynb", json={})
    assert published.status_code == 201, published.text
    answer = published.json()
    assert answer["key"] == "published/alice/notebooks/analysis.ipynb"
    assert s3.head(answer["key"]).metadata["bookstore-published-by"] == "alice"
    catalog = bob.request("GET", "/api/bookstore/catalog")
    assert catalog.status_code == 200, catalog.text
    entries = {entry["notebook_key"]: entry for entry in catalog.json()["notebooks"]}
    entry = entries["alice/notebooks/analysis.ipynb"]
    assert (entry["owner"], entry["published_by"]) == ("alice", "alice")
    assert entry["version_id"] == answer["version_id"]
    # bob opens it read-only, and copies it into his own notebooks.
    opened = bob.request("GET", "/api/bookstore/published/alice/notebooks/analysis.ipynb")
    assert opened.status_code == 200 and "x = 'alice'" in json.dumps(opened.json())
    copied = bob.request("POST", "/api/bookstore/copy/alice/notebooks/analysis.ipynb", json={})
    assert copied.status_code == 201, copied.text
    assert copied.json()["path"] == "analysis-copy.ipynb"  # bob has an analysis.ipynb of his own
    bob.wait_archived()
    assert "workspace/bob/notebooks/analysis-copy.ipynb" in bucket_keys(s3)
    assert not any(key.startswith("workspace/alice/") and "copy" in key for key in bucket_keys(s3))


def test_a_users_token_is_refused_by_anothers_server(users: dict[str, User]) -> None:
    alice, bob = users["alice"], users["bob"]
    for method, path in [
        ("GET", "/api/bookstore"),
        ("GET", "/api/bookstore/catalog"),
        ("GET", "/api/contents/analysis.ipynb"),
        ("PUT", "/api/bookstore/publish/analysis.ipynb"),
    ]:
        answer = bob.request(method, path, server="alice", json={} if method == "PUT" else None)
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:300])
    assert alice.request("GET", "/api/bookstore/catalog").status_code == 200


def test_publishing_from_bobs_server_writes_only_under_his_published_prefix(
    users: dict[str, User], s3: S3Store
) -> None:
    before = set(bucket_keys(s3))
    published = users["bob"].request("PUT", "/api/bookstore/publish/scratch.ipynb", json={})
    assert published.status_code == 201, published.text
    assert set(bucket_keys(s3)) - before == {"published/bob/notebooks/scratch.ipynb"}
    # A path cannot steer a publication into someone else's prefix.
    for hostile in ["../../alice/notebooks/x.ipynb", "..%2F..%2Falice%2Fnotebooks%2Fx.ipynb"]:
        refused = users["bob"].request("PUT", f"/api/bookstore/publish/{hostile}", json={})
        assert refused.status_code in (400, 404), refused.text
    assert set(bucket_keys(s3)) - before == {"published/bob/notebooks/scratch.ipynb"}


def server_environment(hub: Hub, name: str) -> dict[str, str]:
    """The environment of ``name``'s single-user server, as its terminals inherit it."""
    servers = [
        process
        for process in marked_processes(MARK, hub.mark)
        if process.environ().get("JUPYTERHUB_USER") == name and "jupyterhub.singleuser" in process.cmdline()
    ]
    assert len(servers) == 1, servers
    return dict(servers[0].environ())


def test_each_server_holds_only_its_users_s3_key_which_s3_refuses_elsewhere(
    users: dict[str, User], s3_server: SeaweedFS, s3: S3Store
) -> None:
    bob = users["bob"]
    env = server_environment(bob.hub, "bob")
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        USERS["bob"].access_key,
        USERS["bob"].secret_key,
    )
    others = {
        s3_server.secret_key,
        USERS["alice"].secret_key,
        s3_server.access_key,
        USERS["alice"].access_key,
    }
    assert not others & set(env.values())
    # What bob's terminal can do with it: S3 itself refuses his writes under alice's prefixes.
    client = s3_server.client(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]
    )
    before = set(bucket_keys(s3))
    for key in ["published/alice/notebooks/analysis.ipynb", "workspace/alice/notebooks/analysis.ipynb"]:
        with pytest.raises(ClientError) as refused:
            client.put_object(
                Bucket=TEAM_BUCKET, Key=key, Body=b"{}", Metadata={"bookstore-published-by": "alice"}
            )
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert set(bucket_keys(s3)) == before
    assert client.put_object(Bucket=TEAM_BUCKET, Key="workspace/bob/notebooks/own.ipynb", Body=b"{}")[
        "VersionId"
    ]


def test_an_unsafe_user_name_stops_start_up(tmp_path: Path, s3_server: SeaweedFS, module_bucket: str) -> None:
    class EvilServer(JupyterServer):
        def env(self) -> dict[str, str]:
            return {**super().env(), "JUPYTERHUB_USER": "../evil"}

    server = EvilServer(tmp_path / "evil", team_config(s3_server, module_bucket))
    try:
        with pytest.raises(RuntimeError, match="exited early") as failed:
            server.start(timeout=60)
    finally:
        server.kill()
    log = str(failed.value)
    assert "Bookstore cannot start" in log
    assert "'../evil'" in log and "$JUPYTERHUB_USER" in log and "c.Bookstore.username" in log
