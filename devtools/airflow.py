"""A running Airflow 3 for tests: its components as ``make run`` starts them, each one
stoppable and startable on its own (a triggerer restarted between a publish and its run).

Configured by :func:`scripts.run_local_stack.airflow_env` (SQLite, LocalExecutor,
SimpleAuthManager with an ``admin`` user, logs served on loopback), with a DAGs folder, a
connection and any other settings of the caller's. Development tooling, not part of the
installed package.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests

from devtools.supervisor import free_port, tail, terminate
from scripts import run_local_stack

T = TypeVar("T")

#: Components by name, with their command line after ``airflow``.
COMPONENTS = {
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
    "api-server": ["api-server"],
}


def wait_for(check: Callable[[], T | None], timeout: float, what: str, poll: float = 1.0) -> T:
    """The first true value of ``check()``, asked every ``poll`` seconds for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


class AirflowServices:
    """Airflow's components in ``folder``, on free ports.

    Parameters
    ----------
    folder
        Airflow's home and the components' logs.
    s3_endpoint, access_key, secret_key
        The S3 the stack's ``bookstore_default`` connection points at.
    settings
        More environment: ``AIRFLOW_CONN_BOOKSTORE_DEFAULT`` for another bucket,
        ``AIRFLOW__CORE__DAGS_FOLDER``, ...
    """

    def __init__(
        self, folder: Path, s3_endpoint: str, access_key: str, secret_key: str, **settings: str
    ) -> None:
        self.folder = folder
        (folder / "airflow").mkdir(parents=True, exist_ok=True)
        ports: dict[str, int] = {}
        for name in run_local_stack.PORTS:
            ports[name] = free_port(taken=set(ports.values()))
        self.ports = ports
        creds = {"access_key": access_key, "secret_key": secret_key}
        env = run_local_stack.airflow_env(folder, ports, s3_endpoint, creds)
        env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__BOOKSTORE__")}
        env.update(settings)
        self.env = env
        self.url = f"http://127.0.0.1:{ports['BOOKSTORE_AIRFLOW_PORT']}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._token: str | None = None

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run one ``airflow`` command to its end."""
        return subprocess.run(
            [str(run_local_stack.BIN / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log(self, name: str) -> Path:
        return self.folder / f"airflow-{name}.log"

    def start(self, *names: str) -> None:
        """Migrate the database (the first time), then start the named components (all by default)."""
        if not (self.folder / "airflow" / "airflow.db").exists():
            migrated = self.airflow("db", "migrate")
            if migrated.returncode != 0:
                raise RuntimeError(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        for name in names or tuple(COMPONENTS):
            with open(self.log(name), "ab") as handle:
                self.processes[name] = subprocess.Popen(
                    [str(run_local_stack.BIN / "airflow"), *COMPONENTS[name]],
                    env=self.env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its workers in its group, stopped with it
                )
        if "api-server" in (names or COMPONENTS):
            wait_for(self.healthy, 300, "Airflow to report every component healthy")

    def stop(self, *names: str) -> None:
        """Stop the named components (all by default) and all their processes."""
        for name in names or tuple(self.processes):
            process = self.processes.pop(name, None)
            if process is not None:
                terminate(process, grace=30)

    def check(self) -> None:
        """Fail, with its log, if a component has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"Airflow {name} exited ({process.returncode}):\n{tail(self.log(name), 40)}"
                )

    def healthy(self) -> bool:
        self.check()
        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        running = {"scheduler", "dag_processor", "triggerer"} & {n.replace("-", "_") for n in self.processes}
        return all(health.get(part, {}).get("status") == "healthy" for part in running | {"metadatabase"})

    @property
    def token(self) -> str:
        """An API token of the ``admin`` user."""
        if self._token is None:
            passwords = self.folder / "airflow" / "simple_auth_manager_passwords.json.generated"
            wait_for(passwords.exists, 60, "the admin password")
            login = {"username": "admin", "password": json.loads(passwords.read_text())["admin"]}
            answer = requests.post(f"{self.url}/auth/token", json=login, timeout=60)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call Airflow's REST API (``/api/v2`` + ``path``) as admin; the JSON answer."""
        answer = requests.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.api("GET", path, params=params)


def connection_json(endpoint_url: str, access_key: str, secret_key: str, bucket: str, **extra: str) -> str:
    """A ``bookstore_default`` connection to ``bucket``, as ``AIRFLOW_CONN_...`` takes it."""
    return json.dumps(
        {
            "conn_type": "aws",
            "login": access_key,
            "password": secret_key,
            "extra": {"endpoint_url": endpoint_url, "region_name": "us-east-1", "bucket": bucket, **extra},
        }
    )
