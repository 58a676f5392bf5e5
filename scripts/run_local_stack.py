"""``make run``: the whole bookstore stack on this machine, in the foreground.

- S3: SeaweedFS on 127.0.0.1:8333 (``BOOKSTORE_S3_PORT``), data in ``.stack/s3``, a
  versioned bucket ``notebooks`` created on first start, credentials generated once and
  kept in ``.stack/credentials.json``.
- JupyterLab on 127.0.0.1:8888 (``BOOKSTORE_JUPYTER_PORT``) with ``BookstoreContentsArchiver``
  archiving to that bucket, serving ``.stack/notebooks`` (a sample parameterised notebook,
  ``analysis/mine.ipynb``, is put there on first start).
- Airflow 3, each component a process of its own as ``airflow standalone`` runs them (SQLite,
  LocalExecutor): the api-server on 127.0.0.1:8080 (``BOOKSTORE_AIRFLOW_PORT``), the
  scheduler, the dag-processor, the triggerer, and their log server on 127.0.0.1:8793 and
  8794 (``BOOKSTORE_AIRFLOW_LOG_PORT``, ``BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT``), with this
  repository's ``dags/`` and ``plugins/`` and the ``bookstore_default`` connection wired to
  the local S3.

With ``BOOKSTORE_HUB=1``, JupyterHub takes JupyterLab's place, with two demo users, alice and
bob, each with a JupyterLab of their own and an S3 key of their own that may write only
under their own prefixes (see ``scripts/stack_hub.py``); Airflow and the stack's tooling keep
the administrator's key.

With ``BOOKSTORE_BACKEND=gcs``, a Google Cloud Storage API server takes SeaweedFS's place:
fake-gcs-server on 127.0.0.1:4443 (``BOOKSTORE_GCS_PORT``), with the versioned bucket
``notebooks`` (created at every start), no credentials (the server has no authentication,
so bookstore signs nothing), Jupyter configured with ``c.Bookstore.backend = "gcs"`` and
``bookstore_default`` a ``google_cloud_platform`` connection. Its versioning works only with
its memory backend, so **what it stores lives as long as the run**: a second run starts
with an empty bucket (Jupyter's notebooks on disk stay, and saves not yet archived when the
first run stopped are sent again from the archive's spool). The hub is S3-only.

Everything listens on 127.0.0.1 only; the state lives in ``.stack/`` (``BOOKSTORE_STACK_DIR``).
Start-up refuses ports in use and processes of an earlier run still running; a server that
dies is reported with the end of its log and the rest are stopped; Ctrl-C stops everything
(see ``devtools/supervisor.py``). A second run keeps the data of the first.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUCKET = "notebooks"
USER = "kylek"
#: How often Airflow's dag-processor looks for new files in dags/ ([dag_processor]
#: refresh_interval; Airflow's default is 300).
DAG_FOLDER_REFRESH_SECONDS = 10
#: The backends the stack can run on (``BOOKSTORE_BACKEND``), the first the default.
BACKENDS = ("s3", "gcs")
#: The Google Cloud project fake-gcs-server creates the stack's bucket in.
GCS_PROJECT = "bookstore-local"
#: Set in the environment of every process of a run, to the stack folder: finds the processes
#: an earlier run left behind, orphans included (children inherit their parent's environment).
RUN_MARK = "BOOKSTORE_STACK_RUN"
#: The port variables and their defaults (the log servers' are Airflow's own defaults).
PORTS = {
    "BOOKSTORE_JUPYTER_PORT": 8888,
    "BOOKSTORE_AIRFLOW_PORT": 8080,
    "BOOKSTORE_AIRFLOW_LOG_PORT": 8793,
    "BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT": 8794,
}
#: Each backend's storage server's port variable and its default (fake-gcs-server's own).
STORE_PORTS = {
    "s3": {"BOOKSTORE_S3_PORT": 8333},
    "gcs": {"BOOKSTORE_GCS_PORT": 4443},
}

sys.path.insert(0, str(REPO))
from bookstore.backends import URI_SCHEMES  # noqa: E402
from devtools.fake_gcs import FakeGCS  # noqa: E402
from devtools.seaweedfs import SeaweedFS, UserIdentity  # noqa: E402
from devtools.service import ServerProcess  # noqa: E402
from devtools.supervisor import (  # noqa: E402
    Child,
    Supervisor,
    free_port,
    marked_processes,
    port_is_free,
    port_problems,
    supervise,
)
from scripts import stack_hub  # noqa: E402


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def stack_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("BOOKSTORE_STACK_DIR", REPO / ".stack")).resolve()


def read_backend(environ: Mapping[str, str]) -> str:
    """The backend ``BOOKSTORE_BACKEND`` names (S3 by default); SystemExit for one the stack
    cannot run, or the hub on GCS."""
    backend = environ.get("BOOKSTORE_BACKEND", "").strip().lower() or BACKENDS[0]
    if backend not in BACKENDS:
        raise SystemExit(
            f"error: BOOKSTORE_BACKEND={environ['BOOKSTORE_BACKEND']!r}: the local stack runs on "
            + " or ".join(BACKENDS)
        )
    if backend == "gcs" and stack_hub.enabled(environ):
        raise SystemExit(
            "error: BOOKSTORE_HUB=1 runs on S3 only: each demo user's own key, which the store "
            "confines to that user's prefixes, is a SeaweedFS identity, and fake-gcs-server has no "
            "IAM to do the same. Run `BOOKSTORE_HUB=1 make run` (S3), or "
            "`BOOKSTORE_BACKEND=gcs make run` without the hub."
        )
    return backend


def read_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """Each port variable's value (or default); SystemExit naming a variable that is no port.

    The backend's storage server's port (:func:`read_backend`), and with the hub its
    internal ports too."""
    ports = {}
    wanted = {
        **STORE_PORTS[read_backend(environ)],
        **PORTS,
        **(stack_hub.PORTS if stack_hub.enabled(environ) else {}),
    }
    for name, default in wanted.items():
        value = environ.get(name, str(default))
        if not value.isdigit() or not 0 < int(value) < 65536:
            raise SystemExit(f"error: {name}={value!r} is not a TCP port (1-65535)")
        ports[name] = int(value)
    return ports


def preflight(stack: Path, ports: Mapping[str, int]) -> str | None:
    """Why the stack must not start now: others on its ports, an earlier run still running."""
    problems = port_problems(ports)
    leftovers = marked_processes(RUN_MARK, str(stack))
    if leftovers:
        pids = " ".join(str(p.pid) for p in leftovers)
        problems.append(f"an earlier run of this stack ({stack}) is still running: stop it with: kill {pids}")
    if not problems:
        return None
    advice = "Stop those processes"
    taken = next((name for name, port in ports.items() if not port_is_free(port)), None)
    if taken:
        advice += f", or choose other ports (e.g. {taken}={free_port()} make run)"
    return (
        "bookstore's stack did not start, to leave what runs there alone:\n"
        + "\n".join(f"  - {problem}" for problem in problems)
        + f"\n{advice}."
    )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read, from its first byte on."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through os.open
    with os.fdopen(descriptor, "w") as f:
        f.write(text)


def credentials(stack: Path) -> dict[str, str]:
    """Generated once, reused by every later run (the data in S3 belongs to them)."""
    path = stack / "credentials.json"
    creds: dict[str, str] = dict(json.loads(path.read_text())) if path.exists() else {}
    generated = {
        "access_key": lambda: "bookstore-" + secrets.token_hex(4),
        "secret_key": lambda: secrets.token_urlsafe(24),
        "jupyter_token": lambda: secrets.token_hex(24),
        # The hub's demo users' shared password (a stack of an earlier version has none yet).
        "hub_password": lambda: secrets.token_urlsafe(9),
    }
    # Each hub user's own S3 key (stack_hub.identities).
    for name in stack_hub.USERS:
        generated[f"s3_access_key_{name}"] = lambda name=name: f"{name}-" + secrets.token_hex(4)
        generated[f"s3_secret_key_{name}"] = lambda: secrets.token_urlsafe(24)
    missing = {name: make() for name, make in generated.items() if name not in creds}
    if missing:
        creds.update(missing)
        write_private(path, json.dumps(creds, indent=2))
    return creds


def sample_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# A parameterised report\n\nThe cell tagged `parameters` holds defaults; a scheduled "
            "run replaces them (papermill injects the run's values after it)."
        ),
        nbformat.v4.new_code_cell("run_date = None\nx = 2", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('print(f"report for {run_date}: {x} * 2 = {x * 2}")\nresult = x * 2'),
    ]
    return nb


def store_config(backend: str, endpoint_url: str, bucket: str = BUCKET) -> str:
    """The lines of Jupyter's config that choose the backend and its bucket on the local server."""
    if backend == "gcs":
        return (
            'c.Bookstore.backend = "gcs"\n'
            f'c.Bookstore.GCS.bucket = "{bucket}"\n'
            "# fake-gcs-server: no authentication, so with an endpoint and no credentials_file\n"
            "# bookstore sends its requests unsigned.\n"
            f'c.Bookstore.GCS.endpoint_url = "{endpoint_url}"\n'
            f'c.Bookstore.GCS.project = "{GCS_PROJECT}"\n'
        )
    return (
        'c.Bookstore.backend = "s3"\n'
        f'c.Bookstore.S3.bucket = "{bucket}"\n'
        f'c.Bookstore.S3.endpoint_url = "{endpoint_url}"\n'
        'c.Bookstore.S3.region_name = "us-east-1"\n'
    )


def write_jupyter_config(
    stack: Path,
    endpoint_url: str,
    bucket: str = BUCKET,
    *,
    backend: str = "s3",
    config: Path | None = None,
    workspace_prefix: str = f"/workspace/{USER}/notebooks",
    published_prefix: str = f"/published/{USER}/notebooks",
    username: str | None = USER,
    airflow_url: str | None = None,
) -> Path:
    """Jupyter's config, which the bookstore CLI reads too (credentials stay in the environment).

    ``username`` names the owner of static prefixes, whom publications are recorded as
    published by (None for prefixes that name ``{username}``)."""
    config = config or stack / "jupyter" / "jupyter_server_config.py"
    config.write_text(
        "from bookstore import BookstoreContentsArchiver\n"
        "c = get_config()\n"
        "c.ServerApp.contents_manager_class = BookstoreContentsArchiver\n"
        f'c.Bookstore.workspace_prefix = "{workspace_prefix}"\n'
        f'c.Bookstore.published_prefix = "{published_prefix}"\n'
        + (f'c.Bookstore.username = "{username}"\n' if username else "")
        + store_config(backend, endpoint_url, bucket)
        + (f'c.Bookstore.airflow_url = "{airflow_url}"\n' if airflow_url else "")
    )
    return config


def write_cli_env(
    stack: Path,
    config: Path,
    creds: Mapping[str, str] | None,
    *,
    path: Path | None = None,
    variables: Mapping[str, str] | None = None,
) -> Path:
    """``.stack/bookstore.env``: what the bookstore CLI needs, for ``source`` in any terminal:
    its settings, its S3 credentials (``creds``; None for GCS's local server, which takes none),
    and the virtualenv's ``bin`` on ``PATH`` (once) so that ``bookstore`` is found.

    ``path`` and ``variables`` (instead of the single-user server's) for a hub user."""
    variables = {
        **(
            variables
            or {
                "BOOKSTORE_CONFIG": str(config),
                # The CLI takes notebook paths relative to Jupyter's root folder, as the REST
                # API does, whatever folder the terminal is in.
                "BOOKSTORE_ROOT_DIR": str(stack / "notebooks"),
            }
        ),
        **(s3_credentials(creds) if creds else {}),
    }
    path = path or stack / "bookstore.env"
    bin_dir = shlex.quote(str(BIN))
    on_path = f'case ":$PATH:" in *:{bin_dir}:*) ;; *) export PATH={bin_dir}:"$PATH" ;; esac\n'
    write_private(
        path, "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items()) + on_path
    )
    return path


def s3_credentials(creds: Mapping[str, str]) -> dict[str, str]:
    """The environment variables that hand the stack's S3 key to boto3."""
    return {"AWS_ACCESS_KEY_ID": creds["access_key"], "AWS_SECRET_ACCESS_KEY": creds["secret_key"]}


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def first_airflow_start(airflow_home: Path) -> bool:
    """Whether Airflow's database is still to be created (the long first migration)."""
    return not (airflow_home / "airflow.db").exists()


def airflow_connection(
    backend: str, endpoint_url: str, creds: Mapping[str, str], bucket: str = BUCKET
) -> dict[str, Any]:
    """``bookstore_default``, to the stack's bucket: an ``aws`` connection with the S3 key, or
    for GCS a ``google_cloud_platform`` one with the server's endpoint and no key (requests to
    an endpoint without a key go unsigned, as fake-gcs-server wants)."""
    if backend == "gcs":
        return {
            "conn_type": "google_cloud_platform",
            "extra": {"endpoint_url": endpoint_url, "project": GCS_PROJECT, "bucket": bucket},
        }
    return {
        "conn_type": "aws",
        "login": creds["access_key"],
        "password": creds["secret_key"],
        "extra": {"endpoint_url": endpoint_url, "region_name": "us-east-1", "bucket": bucket},
    }


def airflow_env(
    stack: Path,
    ports: Mapping[str, int],
    endpoint_url: str,
    creds: Mapping[str, str],
    *,
    backend: str = "s3",
    bucket: str = BUCKET,
) -> dict[str, str]:
    """The environment of every Airflow process: its whole configuration, in one place."""
    home = stack / "airflow"
    cpus = usable_cpus()
    connection = airflow_connection(backend, endpoint_url, creds, bucket)
    airflow_port = ports["BOOKSTORE_AIRFLOW_PORT"]
    return dict(
        os.environ,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # For [core] hostname_callable, imported by every Airflow process.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "scripts"), os.environ.get("PYTHONPATH")])),
        AIRFLOW_HOME=str(home),
        # This stack's own database, whatever the user's environment says.
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # The LocalExecutor forks `parallelism` workers at start (32 by default, ~1.5 GB):
        # as many as there are CPUs to run tasks on.
        AIRFLOW__CORE__PARALLELISM=str(cpus),
        AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=str(min(2, cpus)),
        # A DAG file added to dags/ shows within seconds, not after Airflow's 5 minutes; a
        # changed one is parsed again as soon as its modification time says so.
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=str(DAG_FOLDER_REFRESH_SECONDS),
        # One user: one API worker (each is a whole Airflow process).
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(airflow_port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{airflow_port}",
        # Logs are served by scripts/stack_airflow.py on 127.0.0.1, and fetched from there.
        AIRFLOW__CORE__HOSTNAME_CALLABLE="stack_airflow.loopback_hostname",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(ports["BOOKSTORE_AIRFLOW_LOG_PORT"]),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(ports["BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT"]),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW_CONN_BOOKSTORE_DEFAULT=json.dumps(connection),
    )


#: Airflow's long-running components, as ``airflow standalone`` starts them, minus the log
#: server the scheduler and the triggerer would each start on every interface.
AIRFLOW_COMPONENTS = {
    "Airflow scheduler": ["scheduler", "--skip-serve-logs"],
    "Airflow dag-processor": ["dag-processor"],
    "Airflow triggerer": ["triggerer", "--skip-serve-logs"],
    "Airflow api-server": ["api-server"],
}


def http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answers; authentication is not our concern here
    except OSError:
        return False


def airflow_healthy(url: str) -> bool:
    """Whether Airflow's health endpoint says every component (scheduler, ...) is healthy."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            health = json.load(answer)
    except (OSError, ValueError):
        return False
    statuses = [part.get("status") for part in health.values() if isinstance(part, dict)]
    return bool(statuses) and all(status == "healthy" for status in statuses)


def start_storage(sup: Supervisor, name: str, program: str, server: ServerProcess, timeout: float) -> None:
    """Start the storage server under ``sup`` as ``name``, adopted even when a signal
    interrupted its start; the stack fails if it does not start, or if not it but some other
    program answers on its port (:meth:`~devtools.service.ServerProcess.start` waits for its
    own processes to listen on it)."""
    child = None
    try:
        server.start(timeout=timeout)
    except RuntimeError as e:
        sup.fail(f"{name} ({program}) did not start: {e}")
    finally:
        if server.process is not None:  # also when a signal interrupted the start
            child = sup.adopt(name, server.process, server.log_file)
    assert child is not None  # started, or sup.fail raised


def start_s3(
    sup: Supervisor, stack: Path, port: int, creds: Mapping[str, str], users: Sequence[UserIdentity] = ()
) -> SeaweedFS:
    """SeaweedFS, listening and holding the versioned bucket (and the sample notebook on disk),
    with the administrator's identity and ``users``'."""
    step(f"starting S3 (SeaweedFS) on 127.0.0.1:{port}, data in {stack / 's3'}")
    s3 = SeaweedFS(
        stack / "s3",
        access_key=creds["access_key"],
        secret_key=creds["secret_key"],
        users=users,
        s3_port=port,
        log_file=stack / "logs" / "s3.log",
    )
    start_storage(sup, "S3", "SeaweedFS", s3, timeout=120)
    client = s3.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        s3.create_bucket(BUCKET)
    else:
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


def start_gcs(sup: Supervisor, stack: Path, port: int) -> FakeGCS:
    """fake-gcs-server, listening and holding the versioned bucket, which it keeps in memory:
    created again at every start."""
    step(f"starting GCS (fake-gcs-server, in memory) on 127.0.0.1:{port}")
    gcs = FakeGCS(port=port, project=GCS_PROJECT, folder=stack / "logs")
    start_storage(sup, "GCS", "fake-gcs-server", gcs, timeout=60)
    gcs.create_bucket(BUCKET)
    return gcs


def seed(folder: Path) -> None:
    """Put the sample notebook in a notebook folder that has none yet."""
    sample = folder / "analysis" / "mine.ipynb"
    if not sample.exists():
        sample.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(sample_notebook(), sample)


def quiet_lab(config_dir: Path) -> None:
    """Answer JupyterLab's question about fetching Jupyter news (no, and no update checks) in
    this stack's own settings, not the user's: a toast over the notebook on first start is
    not what someone trying bookstore came for. A setting changed in JupyterLab is kept."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    path = settings / "notification.jupyterlab-settings"
    if not path.exists():
        settings.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def start_jupyter(
    sup: Supervisor,
    stack: Path,
    port: int,
    config: Path,
    creds: Mapping[str, str] | None,
    backend: str = "s3",
) -> Callable[[], bool]:
    """Start JupyterLab with the storage server's S3 key (``creds``; None for GCS's local
    server, which takes none); returns whether it is ready (to be waited on while Airflow
    starts)."""
    quiet_lab(stack / "jupyter" / "config")
    step(
        f"starting JupyterLab on 127.0.0.1:{port}, archiving to "
        f"{URI_SCHEMES[backend]}://{BUCKET}/workspace/{USER}/notebooks"
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(stack / "jupyter" / "config"),
        JUPYTER_DATA_DIR=str(stack / "jupyter" / "data"),
        JUPYTER_RUNTIME_DIR=str(stack / "jupyter" / "runtime"),
        # Credentials through the environment, not the config file Jupyter may log.
        **(s3_credentials(creds) if creds else {}),
    )
    jupyter = sup.start(
        "JupyterLab",
        [
            str(BIN / "jupyter"),
            "lab",
            f"--config={config}",
            f"--ServerApp.root_dir={stack / 'notebooks'}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={creds['jupyter_token']}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        log=stack / "logs" / "jupyter.log",
        # Stopped before the others: as it stops, its archiver sends pending saves to the store.
        wave=1,
    )
    return lambda: sup.listening(jupyter, port) and http_answers(f"http://127.0.0.1:{port}/api/status")


def prepare_hub(
    stack: Path, ports: Mapping[str, int], endpoint_url: str, creds: Mapping[str, str], bucket: str = BUCKET
) -> Path:
    """Write the hub's configuration, the users' Jupyter configuration and CLI env files, and
    seed each user's notebooks; returns the hub's ``jupyterhub_config.py``."""
    hub = stack / "hub"
    (hub / "jupyter").mkdir(parents=True, exist_ok=True)
    jupyter_config = write_jupyter_config(
        stack,
        endpoint_url,
        bucket,
        config=hub / "jupyter" / "jupyter_server_config.py",
        workspace_prefix=stack_hub.WORKSPACE_PREFIX,
        published_prefix=stack_hub.PUBLISHED_PREFIX,
        username=None,
        airflow_url=f"http://127.0.0.1:{ports['BOOKSTORE_AIRFLOW_PORT']}",
    )
    users = stack_hub.identities(creds, bucket)
    user_keys = hub / "s3-user-keys.json"
    write_private(user_keys, stack_hub.user_keys_text(users))
    for user in users:
        seed(stack_hub.user_home(hub, user.name))
        write_cli_env(
            stack,
            jupyter_config,
            {"access_key": user.access_key, "secret_key": user.secret_key},
            path=hub / f"{user.name}.env",
            variables=stack_hub.cli_variables(hub, jupyter_config, user.name),
        )
    config = hub / "jupyterhub_config.py"
    write_private(  # it holds the demo password
        config,
        stack_hub.hub_config(
            hub,
            proxy_port=ports["BOOKSTORE_JUPYTER_PORT"],
            hub_port=ports["BOOKSTORE_HUB_API_PORT"],
            proxy_api_port=ports["BOOKSTORE_HUB_PROXY_API_PORT"],
            password=creds["hub_password"],
            jupyter_config=jupyter_config,
            keep=[*stack_hub.ENV_KEEP, RUN_MARK, "SPT_NOENV"],
            user_keys=user_keys,
            allow_root=os.geteuid() == 0,
        ),
    )
    return config


def start_hub(sup: Supervisor, stack: Path, ports: Mapping[str, int], config: Path) -> Callable[[], bool]:
    """Start JupyterHub (and through it its proxy); returns whether it answers."""
    port = ports["BOOKSTORE_JUPYTER_PORT"]
    step(
        f"starting JupyterHub on 127.0.0.1:{port} (hub API on {ports['BOOKSTORE_HUB_API_PORT']}, "
        f"proxy API on {ports['BOOKSTORE_HUB_PROXY_API_PORT']}), users {' and '.join(stack_hub.USERS)}, "
        f"archiving to s3://{BUCKET}/{stack_hub.WORKSPACE_PREFIX}"
    )
    if not stack_hub.PROXY.exists():
        sup.fail(f"JupyterHub's proxy is not installed ({stack_hub.PROXY}): run `make hubproxy`")
    # The users' servers get their own S3 keys from the hub's configuration; the hub itself
    # holds no S3 credential.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in list(env):  # a hub started from a hub's terminal must not think it is a server
        if name.startswith(("JUPYTERHUB_", "AWS_")):
            del env[name]
    hub = sup.start(
        "JupyterHub",
        [str(BIN / "jupyterhub"), "-f", str(config)],
        env=env,
        log=stack / "logs" / "jupyterhub.log",
        # Stopped before the others: it stops the users' servers, whose archivers send
        # pending saves to S3 as they stop.
        wave=1,
    )
    return lambda: sup.listening(hub, port) and http_answers(f"http://127.0.0.1:{port}/hub/api/")


def start_airflow(sup: Supervisor, stack: Path, ports: Mapping[str, int], env: Mapping[str, str]) -> Child:
    """Migrate Airflow's database, then start its components; returns the api-server."""
    step(f"starting Airflow 3 on 127.0.0.1:{ports['BOOKSTORE_AIRFLOW_PORT']}")
    logs = stack / "logs"
    if first_airflow_start(stack / "airflow"):
        print("    first start: creating Airflow's database (about a minute)", flush=True)
    # Alone and first: it also writes airflow.cfg, which the components would race to create.
    sup.run_once(
        "Airflow database migration",
        [str(BIN / "airflow"), "db", "migrate"],
        env=env,
        log=logs / "airflow-db-migrate.log",
        timeout=900,
    )
    log_ports = [ports["BOOKSTORE_AIRFLOW_LOG_PORT"], ports["BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT"]]
    log_server = sup.start(
        "Airflow log server",
        [sys.executable, str(REPO / "scripts" / "stack_airflow.py"), *map(str, log_ports)],
        env=env,
        log=logs / "airflow-log-server.log",
    )
    components = {
        name: sup.start(
            name, [str(BIN / "airflow"), *command], env=env, log=logs / f"airflow-{command[0]}.log"
        )
        for name, command in AIRFLOW_COMPONENTS.items()
    }
    sup.wait_until(
        lambda: all(sup.listening(log_server, port) for port in log_ports),
        120,
        "Airflow's log server did not listen",
        log_server.log,
    )
    return components["Airflow api-server"]


def run(sup: Supervisor, stack: Path, ports: Mapping[str, int], backend: str = "s3") -> None:
    """Start the stack under ``sup`` on ``backend``'s local server, say how to use it, and
    watch it until stopped."""
    problem = preflight(stack, ports)
    if problem:
        sup.fail(problem)
    os.environ[RUN_MARK] = str(stack)  # inherited by every child, SeaweedFS's included
    # Airflow's processes rename themselves with setproctitle, which by default overwrites
    # /proc/<pid>/environ, mark included.
    os.environ["SPT_NOENV"] = "1"
    logs = stack / "logs"
    for folder in (logs, stack / "notebooks", stack / "jupyter", stack / "airflow"):
        folder.mkdir(parents=True, exist_ok=True)
    creds = credentials(stack)
    hub = "BOOKSTORE_HUB_API_PORT" in ports

    if backend == "gcs":
        endpoint_url = start_gcs(sup, stack, ports["BOOKSTORE_GCS_PORT"]).endpoint_url
        store_creds = None  # fake-gcs-server takes no credentials
    else:
        users = stack_hub.identities(creds, BUCKET) if hub else []
        endpoint_url = start_s3(sup, stack, ports["BOOKSTORE_S3_PORT"], creds, users).endpoint_url
        store_creds = creds
    config = write_jupyter_config(
        stack,
        endpoint_url,
        backend=backend,
        airflow_url=f"http://127.0.0.1:{ports['BOOKSTORE_AIRFLOW_PORT']}",
    )
    cli_env = write_cli_env(stack, config, store_creds)
    jupyter_port = ports["BOOKSTORE_JUPYTER_PORT"]
    if hub:
        ready = start_hub(sup, stack, ports, prepare_hub(stack, ports, endpoint_url, creds))
        what, log = "JupyterHub did not answer", logs / "jupyterhub.log"
    else:
        seed(stack / "notebooks")
        ready = start_jupyter(sup, stack, jupyter_port, config, store_creds, backend)
        what, log = "JupyterLab did not answer", logs / "jupyter.log"
    # The notebook the bookstore_on_publish example DAG runs at each publication.
    on_publish = f"{stack_hub.USERS[0] if hub else USER}/notebooks/analysis/mine.ipynb"
    env = airflow_env(stack, ports, endpoint_url, creds, backend=backend)
    env["BOOKSTORE_ON_PUBLISH_NOTEBOOK_KEY"] = on_publish
    api = start_airflow(sup, stack, ports, env)
    sup.wait_until(ready, 120, what, log)
    airflow_port = ports["BOOKSTORE_AIRFLOW_PORT"]
    sup.wait_until(
        lambda: (
            sup.listening(api, airflow_port)
            and airflow_healthy(f"http://127.0.0.1:{airflow_port}/api/v2/monitor/health")
        ),
        600,
        "Airflow did not report all its components healthy",
        api.log,
    )
    # Written by the api-server as it starts.
    passwords = stack / "airflow" / "simple_auth_manager_passwords.json.generated"
    deadline = time.monotonic() + 60
    while not passwords.exists() and time.monotonic() < deadline:
        sup.check()
        time.sleep(0.5)
    login: Any = json.loads(passwords.read_text()) if passwords.exists() else {}
    password = login.get("admin", f"(see {passwords})")

    if hub:
        users = " and ".join(stack_hub.USERS)
        first = stack_hub.USERS[0]
        front = f"""\
  JupyterHub  http://127.0.0.1:{jupyter_port}/hub/login
              sign in as {users}, password {creds["hub_password"]} (the same for both);
              each has a JupyterLab of their own, notebooks in {stack / "hub" / "users"}/<name>,
              saves archived under workspace/<name>/notebooks, publications under
              published/<name>/notebooks; Published notebooks in the side bar lists everyone's;
              each user's server holds an S3 key of their own, which S3 lets write only there
  CLI         as {first} (bob likewise): source {stack / "hub" / f"{first}.env"}
              (BOOKSTORE_ROOT_DIR={stack_hub.user_home(stack / "hub", first)}, JUPYTERHUB_USER={first})
              bookstore versions analysis/mine.ipynb; bookstore catalog
"""
    else:
        front = f"""\
  JupyterLab  http://127.0.0.1:{jupyter_port}/lab?token={creds["jupyter_token"]}
              open analysis/mine.ipynb, save it, then publish it:
              curl -X PUT -H "Authorization: token {creds["jupyter_token"]}" \\
                   http://127.0.0.1:{jupyter_port}/api/bookstore/publish/analysis/mine.ipynb -d '{{}}'
  CLI         source {cli_env}
              bookstore versions analysis/mine.ipynb
"""
    print(
        f"""
bookstore is running. Ctrl-C stops everything.

{front}\
  Airflow     http://127.0.0.1:{airflow_port}   user admin, password {password}
              DAGs: bookstore_on_publish (runs {on_publish} at each publication:
              see its runs in the notebook's Version history, Runs tab),
              bookstore_daily_report, bookstore_pinned_version; and one DAG per schedule
              made in JupyterLab (Schedule… beside Publish), from dags/bookstore_schedules.py
{storage_summary(backend, stack, endpoint_url, creds)}\
  Logs        {logs}
""",
        flush=True,
    )
    sup.watch()


def storage_summary(backend: str, stack: Path, endpoint_url: str, creds: Mapping[str, str]) -> str:
    """The summary's lines about the storage server."""
    if backend == "gcs":
        return f"""\
  GCS         {endpoint_url}   bucket {BUCKET} (fake-gcs-server, no credentials)
              held in memory: stopping the stack forgets every version, publication, run
              record and schedule; the next start has an empty bucket, the notebooks in
              {stack / "notebooks"} stay, and saves not archived yet are sent again
"""
    return f"""\
  S3          {endpoint_url}   bucket {BUCKET}
              access key {creds["access_key"]}, secret in {stack / "credentials.json"}
"""


def main() -> int:
    stack = stack_dir(os.environ)
    backend = read_backend(os.environ)
    ports = read_ports(os.environ)
    return supervise(lambda sup: run(sup, stack, ports, backend))


if __name__ == "__main__":
    sys.exit(main())
