"""``BOOKSTORE_HUB=1 make run``: the stack's JupyterHub, with two demo users, alice and bob.

In place of the single JupyterLab, :mod:`run_local_stack` starts JupyterHub on
``BOOKSTORE_JUPYTER_PORT`` (its proxy, ``configurable-http-proxy`` from ``.venv/hub``, listens
there), the hub's own API on ``BOOKSTORE_HUB_API_PORT`` and the proxy's API on
``BOOKSTORE_HUB_PROXY_API_PORT``, all on 127.0.0.1. Users sign in with a shared demo password
(JupyterHub's ``shared-password`` authenticator, the successor of the dummy authenticator's
password); only ``USERS`` may. Each one's server is JupyterLab started by the simple
local-process spawner, with one bookstore configuration for both (prefixes naming
``{username}``), serving ``.stack/hub/users/<name>``.

Each user signs in to S3 with a key of their own (:func:`identities`), which SeaweedFS lets
write only under that user's prefixes (:class:`devtools.seaweedfs.UserIdentity`): a server,
and any terminal in it, holds its user's key and nobody else's, so the store itself refuses
bob's writes under ``published/alice/``. The administrator's key stays with Airflow and
the stack's own tooling.

This module writes the files; :mod:`run_local_stack` starts and watches the processes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from devtools.seaweedfs import UserIdentity

REPO = Path(__file__).resolve().parent.parent
PROXY = REPO / ".venv" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
USERS = ("alice", "bob")
WORKSPACE_PREFIX = "workspace/{username}/notebooks"
PUBLISHED_PREFIX = "published/{username}/notebooks"
#: The hub's internal ports (the proxy, which users reach, is on BOOKSTORE_JUPYTER_PORT).
PORTS = {
    "BOOKSTORE_HUB_API_PORT": 8081,
    "BOOKSTORE_HUB_PROXY_API_PORT": 8001,
}
#: What single-user servers inherit from the hub's environment (JupyterHub passes nothing
#: else): the tools, and the stack's mark and process-title setting. Not S3's credentials:
#: each server gets its user's own (``c.Spawner.environment``).
ENV_KEEP = [
    "PATH",
    "LANG",
    "LC_ALL",
    "JUPYTERHUB_SINGLEUSER_APP",
]


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether ``BOOKSTORE_HUB`` asks for the hub (1, true, yes, on)."""
    return environ.get("BOOKSTORE_HUB", "").strip().lower() in {"1", "true", "yes", "on"}


def identities(creds: Mapping[str, str], bucket: str) -> list[UserIdentity]:
    """Each user's own S3 identity in ``bucket``, from the stack's credentials."""
    return [
        UserIdentity(name, creds[f"s3_access_key_{name}"], creds[f"s3_secret_key_{name}"], bucket)
        for name in USERS
    ]


def user_keys_text(users: list[UserIdentity]) -> str:
    """The users' S3 variables, by user, as the hub's configuration reads them (a file only
    its owner may read: the configuration itself holds no secret)."""
    return json.dumps({user.name: user.environment() for user in users}, indent=2)


def user_home(hub: Path, name: str) -> Path:
    """The folder ``name``'s server serves: their notebooks."""
    return hub / "users" / name


def hub_config(
    hub: Path,
    *,
    proxy_port: int,
    hub_port: int,
    proxy_api_port: int,
    password: str,
    jupyter_config: Path,
    keep: list[str],
    user_keys: Path,
    proxy: Path = PROXY,
    python: str = sys.executable,
    allow_root: bool = False,
) -> str:
    """The text of ``jupyterhub_config.py`` for the stack's hub, its state in ``hub``."""
    args = [f"--config={jupyter_config}", *(["--allow-root"] if allow_root else [])]
    dirs = hub / "jupyter"
    return f"""\
# Written by scripts/stack_hub.py at each `BOOKSTORE_HUB=1 make run`: edits are overwritten.
import json

c = get_config()  # noqa: F821
# Each user's own S3 key, which the store lets write only under that user's prefixes.
with open({str(user_keys)!r}) as keys:
    S3_KEYS = json.load(keys)
c.JupyterHub.bind_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(hub / "proxy.pid")!r}
c.JupyterHub.db_url = {"sqlite:///" + str(hub / "jupyterhub.sqlite")!r}
c.JupyterHub.cookie_secret_file = {str(hub / "cookie_secret")!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Demo sign-in: these users, one shared password, nobody admin.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = {set(USERS)!r}
c.Authenticator.admin_users = set()

# Each user's JupyterLab: a local process serving their folder, with bookstore configured
# for the whole team by {jupyter_config.name}.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(hub / "users" / "{username}")!r}
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.env_keep = {keep!r}
c.Spawner.environment = {{
    "AWS_ACCESS_KEY_ID": lambda spawner: S3_KEYS[spawner.user.name]["AWS_ACCESS_KEY_ID"],
    "AWS_SECRET_ACCESS_KEY": lambda spawner: S3_KEYS[spawner.user.name]["AWS_SECRET_ACCESS_KEY"],
    "JUPYTER_CONFIG_DIR": lambda spawner: {str(dirs)!r} + "/" + spawner.user.name + "/config",
    "JUPYTER_DATA_DIR": lambda spawner: {str(dirs)!r} + "/" + spawner.user.name + "/data",
    "JUPYTER_RUNTIME_DIR": lambda spawner: {str(dirs)!r} + "/" + spawner.user.name + "/runtime",
}}
"""


def cli_variables(hub: Path, config: Path, name: str) -> dict[str, str]:
    """What points the bookstore CLI at ``name``'s notebooks (credentials aside)."""
    return {
        "BOOKSTORE_CONFIG": str(config),
        "BOOKSTORE_ROOT_DIR": str(user_home(hub, name)),
        # {username} in the prefixes, as in a terminal of the user's server.
        "JUPYTERHUB_USER": name,
    }
