"""``make run``'s stack: starting, failing, stopping, and the walk-through on top of it.

The fast tests run ``scripts/run_local_stack.py`` only as far as its refusals, or drive the
same supervisor (``devtools/supervisor.py``) with small stand-in children. One test
starts the real stack, twice: it goes through the walk-through (docs/getting-started.md)
with the real services' HTTP APIs, stops the stack as an impatient user does, and starts it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import nbformat
import psutil
import pytest
import requests
from botocore.config import Config

from devtools.fake_gcs import FakeGCS
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import alive, free_port, port_is_free, wait_for
from scripts import run_local_stack, stack_hub

# make run's script runs in child processes, once (the last test) with the whole stack.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "run_local_stack.py"


def free_ports(backend: str = "s3") -> dict[str, int]:
    """A free port for each of the stack's port variables on ``backend``."""
    ports: dict[str, int] = {}
    for name in {**run_local_stack.STORE_PORTS[backend], **run_local_stack.PORTS}:
        ports[name] = free_port(taken=set(ports.values()))
    return ports


def stack_env(folder: Path, ports: dict[str, int]) -> dict[str, str]:
    env = dict(os.environ, BOOKSTORE_STACK_DIR=str(folder / "stack"))
    env.update({name: str(port) for name, port in ports.items()})
    return env


def refused(folder: Path, ports: dict[str, int], **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``make run``'s script with ``ports`` (and more ``env``), which must refuse to start:
    it exits with status 1, its output answered."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=dict(stack_env(folder, ports), **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done
    return done


def command(process: psutil.Process) -> str:
    """Its command line, or "" for a process that has ended meanwhile."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def gone(pids: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    """Those of ``pids`` still alive after ``timeout`` s (orphans need init to reap them)."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


# -- refusing to start -------------------------------------------------------------------------


def test_a_port_in_use_is_named_with_its_holder_and_nothing_starts(tmp_path: Path) -> None:
    ports = free_ports()
    with socket.socket() as squatter:  # another server on JupyterLab's port
        squatter.bind(("127.0.0.1", ports["BOOKSTORE_JUPYTER_PORT"]))
        squatter.listen()
        done = refused(tmp_path, ports)
    assert (
        f"port {ports['BOOKSTORE_JUPYTER_PORT']} (BOOKSTORE_JUPYTER_PORT) is in use by pid {os.getpid()}"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert "starting" not in done.stdout and "running" not in done.stdout
    assert not (tmp_path / "stack" / "logs").exists()  # nothing was started


def test_the_hubs_internal_ports_are_checked_like_the_others(tmp_path: Path) -> None:
    ports = free_ports()
    for name in stack_hub.PORTS:
        ports[name] = free_port(taken=set(ports.values()))
    with socket.socket() as squatter:  # another server on the hub's API port
        squatter.bind(("127.0.0.1", ports["BOOKSTORE_HUB_API_PORT"]))
        squatter.listen()
        done = refused(tmp_path, ports, BOOKSTORE_HUB="1")
    assert f"port {ports['BOOKSTORE_HUB_API_PORT']} (BOOKSTORE_HUB_API_PORT) is in use" in done.stderr
    assert not (tmp_path / "stack" / "logs").exists()  # nothing was started


def test_two_port_variables_on_one_port_are_refused(tmp_path: Path) -> None:
    ports = free_ports()
    ports["BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT"] = ports["BOOKSTORE_AIRFLOW_LOG_PORT"]
    done = refused(tmp_path, ports)
    assert "BOOKSTORE_AIRFLOW_LOG_PORT and BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT are both" in done.stderr


def test_on_gcs_its_own_port_is_checked_and_the_hub_refused(tmp_path: Path) -> None:
    ports = free_ports("gcs")
    with socket.socket() as squatter:  # another server on fake-gcs-server's port
        squatter.bind(("127.0.0.1", ports["BOOKSTORE_GCS_PORT"]))
        squatter.listen()
        done = refused(tmp_path, ports, BOOKSTORE_BACKEND="gcs")
    assert f"port {ports['BOOKSTORE_GCS_PORT']} (BOOKSTORE_GCS_PORT) is in use" in done.stderr
    assert "BOOKSTORE_S3_PORT" not in done.stderr  # SeaweedFS's port is not wanted there

    # The hub's demo users get S3 keys SeaweedFS confines to their prefixes: no GCS equivalent.
    done = refused(tmp_path, ports, BOOKSTORE_BACKEND="gcs", BOOKSTORE_HUB="1")
    assert "BOOKSTORE_HUB=1 runs on S3 only" in done.stderr and "Traceback" not in done.stderr
    done = refused(tmp_path, ports, BOOKSTORE_BACKEND="azure")
    assert "BOOKSTORE_BACKEND='azure': the local stack runs on s3 or gcs" in done.stderr
    assert not (tmp_path / "stack" / "logs").exists()  # nothing was started


def test_processes_of_an_earlier_run_are_named(tmp_path: Path) -> None:
    """A server an earlier run left behind holds the stack's data (SeaweedFS's lock) even on
    other ports: the next run names it instead of starting beside it."""
    stack = tmp_path / "stack"
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"],
        env=dict(os.environ, **{run_local_stack.RUN_MARK: str(stack)}),
    )
    try:
        done = refused(tmp_path, free_ports())
    finally:
        leftover.kill()
        leftover.wait()
    assert f"an earlier run of this stack ({stack}) is still running" in done.stderr
    assert f"kill {leftover.pid}" in done.stderr


# -- supervising, with stand-in children ---------------------------------------------------------

# Drives devtools/supervisor.py as run_local_stack.py does, with small children:
# "stubborn" ignores SIGTERM and starts a grandchild in a session of its own that ignores it
# too (as Jupyter's kernels run), "polite" stops on SIGTERM, and in the "dies" scenario
# "fragile" fails once told to (a file appears), as a server does that loses its port.
DRIVER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from devtools.supervisor import Supervisor, supervise

    folder, scenario = Path(sys.argv[1]), sys.argv[2]
    IGNORE = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    STUBBORN = IGNORE + (
        "import subprocess, sys; "
        f"subprocess.Popen([sys.executable, '-c', {IGNORE + 'time.sleep(300)'!r}], start_new_session=True); "
        "time.sleep(300)"
    )
    FRAGILE = (
        "import os, sys, time\\n"
        f"while not os.path.exists({str(folder / 'die')!r}): time.sleep(0.05)\\n"
        "print('listen tcp 127.0.0.1:4242: bind: address already in use', flush=True)\\n"
        "sys.exit(3)"
    )

    def run(sup):
        def start(name, code):
            return sup.start(name, [sys.executable, "-c", code], env=os.environ, log=folder / f"{name}.log")

        stubborn = start("stubborn", STUBBORN)
        start("polite", "import time; time.sleep(300)")
        if scenario == "dies":
            start("fragile", FRAGILE)
        sup.wait_until(lambda: len(stubborn.family()) == 2, 30, "no grandchild")
        print("running", flush=True)
        sup.watch()

    sys.exit(supervise(run, Supervisor(grace=1.0, settle=1.0, progress=0.3)))
    """
)


class Driver:
    def __init__(self, folder: Path, scenario: str) -> None:
        script = folder / "driver.py"
        script.write_text(DRIVER)
        self.output = folder / "driver.out"
        with open(self.output, "wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, str(script), str(folder), scenario],
                cwd=REPO,
                env=dict(os.environ, PYTHONPATH=str(REPO)),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own, as `make run` in a terminal
            )
        self.descendants: list[psutil.Process] = []

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_running(self) -> None:
        deadline = time.monotonic() + 60
        while "running" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.1)
        self.descendants = psutil.Process(self.process.pid).children(recursive=True)

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    started: list[Driver] = []

    def start(scenario: str) -> Driver:
        started.append(Driver(tmp_path, scenario))
        return started[-1]

    yield start
    for running in started:  # whatever a failed test left running
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
        for process in running.descendants:
            if alive(process):
                process.kill()


def test_repeated_stop_signals_are_absorbed_and_every_descendant_is_stopped(driver: Any) -> None:
    stack = driver("stop")
    stack.wait_running()
    assert len(stack.descendants) == 3  # stubborn, its own child in another session, polite
    began = time.monotonic()
    # Ctrl-C, an impatient second Ctrl-C during the clean-up, and make passing a SIGTERM on.
    stack.signal_group(signal.SIGINT)
    time.sleep(0.3)
    stack.signal_group(signal.SIGINT)
    stack.signal_group(signal.SIGTERM)
    assert stack.process.wait(30) == 0, stack.text()
    took = time.monotonic() - began

    output = stack.text()
    assert "Traceback" not in output
    assert "already stopping" in output
    # What is stopped is said as it happens: each child as it ends, those still stopping
    # meanwhile, and the one that had to be killed.
    assert (
        "==> stopping (each server gets 1 s before it is killed)\n    stopping stubborn, polite\n" in output
    )
    assert re.search(r"stopped polite \(\d+\.\d s\)\n", output), output
    assert "still stopping stubborn" in output
    assert (
        output.index("stopped polite")
        < output.index("still stopping stubborn")
        < output.index("stopped stubborn (killed: still running 1 s after SIGTERM)")
    ), output
    assert not gone(stack.descendants)
    assert 1 <= took < 15  # SIGKILL after the grace period, not at once, not never


def test_a_child_that_dies_is_reported_at_once_with_its_log_and_the_rest_stopped(
    driver: Any, tmp_path: Path
) -> None:
    stack = driver("dies")
    stack.wait_running()
    (tmp_path / "die").touch()
    began = time.monotonic()
    assert stack.process.wait(30) == 1, stack.text()
    took = time.monotonic() - began

    output = stack.text()
    assert "fragile exited with status 3; the last lines of" in output
    assert "    listen tcp 127.0.0.1:4242: bind: address already in use" in output  # its log's end
    assert "Traceback" not in output
    assert output.index("fragile exited") < output.index("==> stopping") < output.index("stopped polite")
    assert took < 15  # at once, then up to the grace period for "stubborn"
    assert not gone(stack.descendants)


# -- what the stack writes -------------------------------------------------------------------------


def test_the_env_file_points_the_cli_at_the_stack_from_any_folder(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    stack = tmp_path / "stack"
    (stack / "jupyter").mkdir(parents=True)
    (stack / "notebooks" / "analysis").mkdir(parents=True)
    nbformat.write(run_local_stack.sample_notebook(), stack / "notebooks" / "analysis" / "mine.ipynb")
    config = run_local_stack.write_jupyter_config(stack, s3_server.endpoint_url, bucket)
    creds = {"access_key": s3_server.access_key, "secret_key": s3_server.secret_key}
    env_file = run_local_stack.write_cli_env(stack, config, creds)
    # kylek's static prefixes, and kylek recorded as the publisher (not the OS login).
    assert 'c.Bookstore.username = "kylek"' in config.read_text()
    assert env_file.stat().st_mode & 0o777 == 0o600  # it holds the S3 secret

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    commands = (
        f"source {shlex.quote(str(env_file))} && cd {shlex.quote(str(elsewhere))} && "
        "bookstore publish analysis/mine.ipynb && bookstore diff analysis/mine.ipynb --stage published"
    )
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOOKSTORE_", "VIRTUAL_ENV"))}
    bare.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    # A fresh terminal: no virtualenv on PATH, so no `bookstore` command but the env file's.
    path = [
        entry for entry in bare.get("PATH", "").split(os.pathsep) if not (Path(entry) / "bookstore").exists()
    ]
    bare["PATH"] = os.pathsep.join(path)
    done = subprocess.run(
        ["bash", "-c", commands], env=bare, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "published analysis/mine.ipynb" in done.stdout
    assert "no differences" in done.stdout
    published = s3_server.store(bucket).head("published/kylek/notebooks/analysis/mine.ipynb")
    assert published.metadata["bookstore-published-by"] == "kylek"

    # Sourced again (a second terminal tab, a re-run of the banner's line): PATH gets it once.
    twice = f"source {shlex.quote(str(env_file))}; source {shlex.quote(str(env_file))}; echo $PATH"
    path_after = subprocess.run(
        ["bash", "-c", twice], env=bare, capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert path_after.split(os.pathsep).count(str(Path(sys.executable).parent)) == 1


def test_on_gcs_the_cli_and_airflows_connection_reach_the_bucket_unsigned(
    tmp_path: Path, gcs_server: FakeGCS, gcs_bucket: str
) -> None:
    """What ``BOOKSTORE_BACKEND=gcs make run`` writes: Jupyter's config (which the CLI reads),
    the CLI's env file and Airflow's connection, all on fake-gcs-server with no credentials,
    whatever Google credentials the environment names."""
    stack = tmp_path / "stack"
    (stack / "jupyter").mkdir(parents=True)
    run_local_stack.seed(stack / "notebooks")
    config = run_local_stack.write_jupyter_config(stack, gcs_server.endpoint_url, gcs_bucket, backend="gcs")
    env_file = run_local_stack.write_cli_env(stack, config, None)
    assert "AWS_" not in env_file.read_text()
    # Application Default Credentials are not looked for: this key file does not exist.
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOOKSTORE_", "GOOGLE_"))}
    bare.update(GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / "no-such-key.json"))
    commands = (
        f"source {shlex.quote(str(env_file))} && bookstore publish analysis/mine.ipynb && "
        "bookstore versions analysis/mine.ipynb --stage published"
    )
    done = subprocess.run(
        ["bash", "-c", commands], env=bare, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "published analysis/mine.ipynb" in done.stdout
    published = gcs_server.store(gcs_bucket).head("published/kylek/notebooks/analysis/mine.ipynb")
    assert published.metadata["bookstore-published-by"] == "kylek"
    assert published.version_id in done.stdout  # a generation, listed by the CLI

    # Airflow's bookstore_default: a Google Cloud connection to the same bucket, read by the hook
    # in a process with Airflow's whole environment, as the stack's Airflow reads it.
    env = run_local_stack.airflow_env(
        stack, free_ports("gcs"), gcs_server.endpoint_url, {}, backend="gcs", bucket=gcs_bucket
    )
    assert json.loads(env["AIRFLOW_CONN_BOOKSTORE_DEFAULT"])["conn_type"] == "google_cloud_platform"
    hook = (
        "from bookstore.airflow.hooks import BookstoreHook\n"
        "hook = BookstoreHook()\n"
        "info = hook.store.head('published/kylek/notebooks/analysis/mine.ipynb')\n"
        "print(hook.backend, hook.store.versioning_status(), info.version_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook],
        env=dict(env, GOOGLE_APPLICATION_CREDENTIALS=bare["GOOGLE_APPLICATION_CREDENTIALS"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["gcs", "Enabled", published.version_id]


def test_airflow_is_sized_to_the_machine_and_its_logs_served_on_loopback(tmp_path: Path) -> None:
    ports = free_ports()
    env = run_local_stack.airflow_env(
        tmp_path, ports, "http://127.0.0.1:1", {"access_key": "a", "secret_key": "s"}
    )
    cpus = run_local_stack.usable_cpus()
    assert cpus <= (os.cpu_count() or cpus)
    assert env["AIRFLOW__CORE__PARALLELISM"] == str(cpus)  # LocalExecutor workers: 32 by default
    assert env["AIRFLOW__API__WORKERS"] == "1"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == str(ports["BOOKSTORE_AIRFLOW_LOG_PORT"])
    assert env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] == str(
        ports["BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT"]
    )
    # The host Airflow records for fetching a task's log is where the log server listens.
    module, _, function = env["AIRFLOW__CORE__HOSTNAME_CALLABLE"].rpartition(".")
    hostname = subprocess.run(
        [sys.executable, "-c", f"import {module}; print({module}.{function}())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert hostname == "127.0.0.1"


DAG_FILE = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("{dag_id}", schedule=None, tags=["{tag}"]):
    EmptyOperator(task_id="nothing")
"""


def test_the_dag_processor_picks_up_new_and_changed_dag_files_without_a_restart(
    tmp_path: Path, s3_server: SeaweedFS
) -> None:
    """Airflow configured as ``make run`` configures it: a DAG file added to the DAGs folder,
    and a change to it, appear in Airflow while it runs (Airflow's defaults look for new
    files every 5 minutes). The bounds only end the test, yet stay well under those 5 minutes."""
    from devtools.airflow import AirflowServices

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "first.py").write_text(DAG_FILE.format(dag_id="stack_first", tag="one"))
    services = AirflowServices(
        tmp_path / "airflow",
        s3_server.endpoint_url,
        s3_server.access_key,
        s3_server.secret_key,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
    )

    def tags(dag_id: str) -> set[str] | None:
        dag = services.get("/dags", dag_id_pattern=dag_id)["dags"]
        return {tag["name"] for tag in dag[0]["tags"]} if dag else None

    try:
        services.start("dag-processor", "api-server")
        services.wait(lambda: tags("stack_first"), 120, "the first DAG did not appear")

        (dags / "added.py").write_text(DAG_FILE.format(dag_id="stack_added", tag="one"))
        services.wait(lambda: tags("stack_added"), 90, "a DAG file added while Airflow ran did not appear")

        (dags / "added.py").write_text(DAG_FILE.format(dag_id="stack_added", tag="two"))
        services.wait(lambda: tags("stack_added") == {"two"}, 90, "a changed DAG file was not parsed again")
    finally:
        services.stop()


def test_the_hubs_configuration_gives_alice_and_bob_their_own_prefixes_on_the_given_ports(
    tmp_path: Path,
) -> None:
    from traitlets.config import Config as TraitletsConfig
    from traitlets.config.loader import PyFileConfigLoader

    env = {"BOOKSTORE_HUB": "1", "BOOKSTORE_HUB_API_PORT": "18181", "BOOKSTORE_JUPYTER_PORT": "18888"}
    ports = run_local_stack.read_ports(env)
    assert ports["BOOKSTORE_HUB_PROXY_API_PORT"] == 8001 and ports["BOOKSTORE_HUB_API_PORT"] == 18181
    assert "BOOKSTORE_HUB_API_PORT" not in run_local_stack.read_ports({})  # not without the hub
    creds = run_local_stack.credentials(tmp_path)
    config = run_local_stack.prepare_hub(tmp_path, ports, "http://127.0.0.1:1", creds)
    assert config.stat().st_mode & 0o777 == 0o600  # it holds the demo password

    def load(path: Path) -> TraitletsConfig:
        return PyFileConfigLoader(path.name, str(path.parent)).load_config()

    hub = load(config)
    assert hub.JupyterHub.bind_url == "http://127.0.0.1:18888"  # where users go: the proxy
    assert hub.JupyterHub.hub_bind_url == "http://127.0.0.1:18181"
    assert hub.ConfigurableHTTPProxy.api_url == f"http://127.0.0.1:{ports['BOOKSTORE_HUB_PROXY_API_PORT']}"
    assert Path(hub.ConfigurableHTTPProxy.command[0]) == stack_hub.PROXY
    assert hub.SharedPasswordAuthenticator.user_password == creds["hub_password"]
    assert hub.Authenticator.allowed_users == {"alice", "bob"} and not hub.Authenticator.admin_users
    assert hub.Spawner.ip == "127.0.0.1" and hub.Spawner.default_url == "/lab"
    assert run_local_stack.RUN_MARK in hub.Spawner.env_keep
    # Each server gets its own user's S3 key, never the administrator's (nor the hub's own).
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(hub.Spawner.env_keep)
    users = {user.name: user for user in stack_hub.identities(creds, run_local_stack.BUCKET)}
    for name, user in users.items():
        spawner = SimpleNamespace(user=SimpleNamespace(name=name))
        env = {
            var: value(spawner) for var, value in hub.Spawner.environment.items() if var.startswith("AWS_")
        }
        assert env == {"AWS_ACCESS_KEY_ID": user.access_key, "AWS_SECRET_ACCESS_KEY": user.secret_key}
        assert user.access_key != creds["access_key"]
        # ... which S3 lets write only under that user's prefixes.
        assert f"Write:{run_local_stack.BUCKET}/published/{name}/*" in user.actions()
        assert not any(a.startswith("Write:") and f"/{name}/" not in a for a in user.actions())
    text = config.read_text()
    for secret in [creds["secret_key"], *(user.secret_key for user in users.values())]:
        assert secret not in text  # secrets only in files only their owner reads
    assert (tmp_path / "hub" / "s3-user-keys.json").stat().st_mode & 0o777 == 0o600

    # One bookstore configuration for both users, each serving their own seeded folder.
    jupyter_config = Path(hub.Spawner.args[0].removeprefix("--config="))
    bookstore = load(jupyter_config).Bookstore
    assert bookstore.workspace_prefix == "workspace/{username}/notebooks"
    assert bookstore.published_prefix == "published/{username}/notebooks"
    assert bookstore.S3.bucket == run_local_stack.BUCKET
    for name in ("alice", "bob"):
        home = Path(hub.SimpleLocalProcessSpawner.home_dir_template.format(username=name))
        assert home == tmp_path / "hub" / "users" / name
        assert (home / "analysis" / "mine.ipynb").exists()
        env_file = (tmp_path / "hub" / f"{name}.env").read_text()
        assert f"BOOKSTORE_ROOT_DIR={home}" in env_file and f"JUPYTERHUB_USER={name}" in env_file
        assert f"AWS_ACCESS_KEY_ID={users[name].access_key}" in env_file
        assert creds["secret_key"] not in env_file

    # JupyterHub itself loads it, with every setting known to it.
    done = subprocess.run(
        [sys.executable, "-m", "jupyterhub", "-f", str(config), "--show-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "shared-password" in done.stdout and "18181" in done.stdout
    assert "not recognized" not in done.stderr and "Config option" not in done.stderr, done.stderr


def test_the_database_migration_is_announced_only_when_there_is_none(tmp_path: Path) -> None:
    assert run_local_stack.first_airflow_start(tmp_path)
    (tmp_path / "airflow.db").write_bytes(b"")
    assert not run_local_stack.first_airflow_start(tmp_path)


# -- the real stack -------------------------------------------------------------------------------


class Stack:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = free_ports()
        self.runs = 0

    def start(self, timeout: float = 600) -> None:
        self.runs += 1
        self.output = self.folder / f"run-{self.runs}.out"
        with open(self.output, "wb") as handle:
            self.process = subprocess.Popen(
                [sys.executable, str(SCRIPT)],
                env=stack_env(self.folder, self.ports),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "bookstore is running" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(1)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def processes(self) -> list[psutil.Process]:
        """Every process of the stack (Jupyter's kernels included)."""
        return psutil.Process(self.process.pid).children(recursive=True)

    def listening(self) -> set[tuple[str, int]]:
        found = set()
        for process in self.processes():
            with contextlib.suppress(psutil.Error):  # ended meanwhile
                for c in process.net_connections(kind="tcp"):
                    if c.status == psutil.CONN_LISTEN:
                        found.add((c.laddr.ip, c.laddr.port))
        return found

    @property
    def credentials(self) -> dict[str, str]:
        return dict(json.loads((self.folder / "stack" / "credentials.json").read_text()))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.start()
    yield running
    if running.process.poll() is None:
        os.killpg(running.process.pid, signal.SIGINT)
        running.process.wait(120)


@pytest.mark.airflow
@pytest.mark.timeout(1500)
def test_save_publish_schedule_stop_and_start_again(stack: Stack) -> None:
    creds = stack.credentials
    assert "first start: creating Airflow's database" in stack.text()
    assert f"token={creds['jupyter_token']}" in stack.text()
    assert creds["secret_key"] not in stack.text()

    # Only on loopback, only on the ports it was given (and SeaweedFS's internal ones).
    listening = stack.listening()
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening
    assert {("127.0.0.1", port) for port in stack.ports.values()} <= listening
    workers = [p for p in stack.processes() if "LocalExecutor" in command(p)]
    assert len(workers) == run_local_stack.usable_cpus()

    jupyter = requests.Session()
    jupyter.headers["Authorization"] = f"token {creds['jupyter_token']}"
    base = f"http://127.0.0.1:{stack.ports['BOOKSTORE_JUPYTER_PORT']}"

    # Save the sample notebook (as JupyterLab does), then publish it.
    answer = jupyter.get(f"{base}/api/contents/analysis/mine.ipynb")
    assert answer.status_code == 200, answer.text
    model = answer.json()
    saved = jupyter.put(
        f"{base}/api/contents/analysis/mine.ipynb", json={"type": "notebook", "content": model["content"]}
    )
    assert saved.status_code == 200, saved.text
    published = jupyter.put(f"{base}/api/bookstore/publish/analysis/mine.ipynb", json={})
    assert published.status_code in (200, 201), published.text
    version_id = published.json()["version_id"]

    # Trigger the pinned-version DAG through Airflow's REST API.
    airflow = f"http://127.0.0.1:{stack.ports['BOOKSTORE_AIRFLOW_PORT']}"
    password = stack.text().split("user admin, password ")[1].split()[0]
    login = {"username": "admin", "password": password}
    token = wait_for(
        lambda: (r := requests.post(f"{airflow}/auth/token", json=login)).ok and r.json(),
        120,
        "an Airflow API token",
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token['access_token']}"
    dag = f"{airflow}/api/v2/dags/bookstore_pinned_version"
    wait_for(lambda: api.get(dag).ok, 120, "the DAG to be parsed")
    assert api.patch(dag, json={"is_paused": False}).ok
    run = api.post(
        f"{dag}/dagRuns",
        json={
            "logical_date": None,
            "conf": {
                "notebook_key": "kylek/notebooks/analysis/mine.ipynb",
                "version_id": version_id,
                "parameters": {"x": 7},
            },
        },
    )
    assert run.ok, run.text
    run_id = run.json()["dag_run_id"]
    state = wait_for(
        lambda: (s := api.get(f"{dag}/dagRuns/{run_id}").json()["state"]) in ("success", "failed") and s,
        300,
        "the DAG run",
    )
    assert state == "success"
    xcom = api.get(f"{dag}/dagRuns/{run_id}/taskInstances/run_notebook/xcomEntries/return_value").json()
    result = xcom["value"]
    assert result["source_version_id"] == version_id
    assert result["parameters"] == {"x": 7}
    # Airflow's log server answers on loopback (refusing a request without its token).
    for name in ("BOOKSTORE_AIRFLOW_LOG_PORT", "BOOKSTORE_AIRFLOW_TRIGGER_LOG_PORT"):
        assert requests.get(f"http://127.0.0.1:{stack.ports[name]}/log/x.log").status_code == 403

    # The executed notebook is in S3, with its lineage.
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{stack.ports['BOOKSTORE_S3_PORT']}",
        aws_access_key_id=creds["access_key"],
        aws_secret_access_key=creds["secret_key"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    output = s3.get_object(
        Bucket="notebooks", Key=result["output_key"], VersionId=result["output_version_id"]
    )
    executed = json.loads(output["Body"].read())
    printed = "".join(
        "".join(o.get("text", "")) for cell in executed["cells"] for o in cell.get("outputs", [])
    )
    assert "7 * 2 = 14" in printed
    assert version_id in json.dumps(output["Metadata"])

    # A kernel runs in a session of its own: stopping must reach it all the same.
    kernel = jupyter.post(f"{base}/api/kernels", json={"name": "python3"})
    assert kernel.status_code == 201, kernel.text
    processes = wait_for(
        lambda: (found := stack.processes()) and any("ipykernel" in command(p) for p in found) and found,
        60,
        "the kernel",
    )

    # An impatient stop: Ctrl-C, Ctrl-C again, and the SIGTERM make passes on.
    os.killpg(stack.process.pid, signal.SIGINT)
    time.sleep(0.5)
    os.killpg(stack.process.pid, signal.SIGINT)
    os.killpg(stack.process.pid, signal.SIGTERM)
    assert stack.process.wait(120) == 0, stack.text()
    assert "Traceback" not in stack.text()
    assert "stopped S3" in stack.text()
    assert not gone(processes), processes
    assert all(port_is_free(port) for port in stack.ports.values())

    # The next start finds everything free, and its database in place.
    stack.start()
    assert "first start" not in stack.text()
    assert "bookstore is running" in stack.text()
    processes = stack.processes()

    # S3 dies: said at once, with its log, and the rest stopped.
    weed = next(p for p in processes if "weed server" in command(p))
    weed.kill()
    assert stack.process.wait(120) == 1, stack.text()
    assert "S3 was killed by SIGKILL; the last lines of" in stack.text()
    assert not gone(processes), processes
    assert all(port_is_free(port) for port in stack.ports.values())
