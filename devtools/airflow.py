"""A running Airflow 3 for tests: its components as ``make run`` starts them, each one
stoppable and startable on its own (a triggerer restarted between a publish and its run).

:class:`AirflowComponents` runs Airflow's components under one
:class:`~devtools.supervisor.Supervisor`, for :class:`AirflowServices` (SQLite, the
LocalExecutor) and :class:`devtools.airflow_cluster.AirflowCluster` (PostgreSQL, Celery).
:class:`AirflowServices` is configured by :func:`scripts.run_local_stack.airflow_env`
(SimpleAuthManager with an ``admin`` user, logs served on loopback), with a DAGs folder, a
connection and any other settings of the caller's. Development tooling, not part of the
installed package.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import requests

from devtools.supervisor import Child, StackError, Supervisor, free_port, tail, wait_for
from scripts import run_local_stack

__all__ = ["COMPONENTS", "AirflowComponents", "AirflowServices", "connection_json", "wait_for"]

T = TypeVar("T")
BIN = Path(sys.executable).parent

#: Components by name, with their command line after ``airflow`` (as ``make run`` starts them).
COMPONENTS = {
    name.removeprefix("Airflow "): command for name, command in run_local_stack.AIRFLOW_COMPONENTS.items()
}


class AirflowComponents:
    """Airflow's components as children of one :class:`~devtools.supervisor.Supervisor`, each
    logging to ``logs/<name>.log``: a component that dies is reported with the end of its log,
    and stopping one reaches every process it started.

    Parameters
    ----------
    logs
        The components' logs.
    grace
        Seconds a component gets to stop after SIGTERM before it is killed.
    """

    def __init__(self, logs: Path, *, grace: float = 15.0) -> None:
        self.logs = logs
        self.supervisor = Supervisor(grace=grace, settle=5.0)
        #: The running components, by name.
        self.components: dict[str, Child] = {}

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def migrate(self, env: Mapping[str, str], timeout: float = 600) -> None:
        """Create or upgrade Airflow's database: alone and first, as it also writes the
        ``airflow.cfg`` the components would race to create."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.supervisor.run_once(
            "airflow db migrate",
            [str(BIN / "airflow"), "db", "migrate"],
            env=env,
            log=self.log("db-migrate"),
            timeout=timeout,
        )

    def start_component(
        self, name: str, env: Mapping[str, str], command: list[str] | None = None, cwd: Path | None = None
    ) -> Child:
        """Start ``airflow <command>`` (by default the component ``name`` of :data:`COMPONENTS`)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        child = self.supervisor.start(
            name, [str(BIN / "airflow"), *(command or COMPONENTS[name])], env=env, log=self.log(name), cwd=cwd
        )
        self.components[name] = child
        return child

    def stop_component(self, name: str) -> None:
        """Stop the component ``name`` (SIGTERM: a warm shutdown) and all it started."""
        child = self.components.pop(name, None)
        if child is not None:
            self.supervisor.stop(child)

    def check(self) -> None:
        """Raise :class:`~devtools.supervisor.ChildExited`, with its log, if a component has exited."""
        self.supervisor.check()

    def wait(self, ready: Callable[[], T | None], timeout: float, what: str, poll: float = 0.5) -> T:
        """Wait for ``ready()`` to return something true, failing at once if a component
        dies, and after ``timeout`` s with the end of the components' logs."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            value = ready()
            if value:
                return value
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"  {path.name}:\n{tail(path, 8)}" for path in sorted(self.logs.glob("*.log"))
                )
                raise StackError(f"{what} within {timeout:.0f} s; the components' logs end with:\n{logs}")
            time.sleep(poll)

    def stop(self) -> None:
        """Stop every component and all they started."""
        self.supervisor.stop_all()
        self.components.clear()


class AirflowServices(AirflowComponents):
    """Airflow's components (:data:`COMPONENTS`) in ``folder``, on SQLite, on free ports.

    Parameters
    ----------
    folder
        Airflow's home (``folder/airflow``) and the components' logs (``folder/logs``).
    s3_endpoint, access_key, secret_key
        The S3 the stack's ``bookstore_default`` connection points at.
    settings
        More environment: ``AIRFLOW_CONN_BOOKSTORE_DEFAULT`` for another bucket,
        ``AIRFLOW__CORE__DAGS_FOLDER``, ...
    """

    def __init__(
        self, folder: Path, s3_endpoint: str, access_key: str, secret_key: str, **settings: str
    ) -> None:
        super().__init__(folder / "logs", grace=30.0)
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
        self._token: str | None = None

    def start(self, *names: str) -> None:
        """Migrate the database (the first time), then start the named components (all by
        default); with the api-server, return once every running component is healthy."""
        if run_local_stack.first_airflow_start(self.folder / "airflow"):
            self.migrate(self.env)
        for name in names or tuple(COMPONENTS):
            self.start_component(name, self.env)
        if "api-server" in (names or COMPONENTS):
            self.wait(self.healthy, 300, "Airflow did not report every component healthy", poll=1.0)

    def stop(self, *names: str) -> None:
        """Stop the named components (all by default) and all their processes."""
        if not names:
            super().stop()
        for name in names:
            self.stop_component(name)

    def healthy(self) -> bool:
        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        running = {"scheduler", "dag_processor", "triggerer"} & {n.replace("-", "_") for n in self.components}
        return all(health.get(part, {}).get("status") == "healthy" for part in running | {"metadatabase"})

    @property
    def token(self) -> str:
        """An API token of the ``admin`` user."""
        if self._token is None:
            passwords = self.folder / "airflow" / "simple_auth_manager_passwords.json.generated"
            self.wait(passwords.exists, 60, "the api-server did not write the admin password")
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
