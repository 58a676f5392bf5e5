"""Airflow 3 on the CeleryExecutor, on one machine, for the tests and benchmarks of scale-out.

The production shape of ``docker-compose.yaml``, with real processes instead of containers:
a PostgreSQL metadata database (:mod:`devtools.postgres`), a Redis broker
(:mod:`devtools.redis_server`), the api-server (which also serves the execution API the
workers' tasks report to), the scheduler, the dag-processor, and several
``airflow celery worker`` processes. Each worker has a folder of its own (working directory,
``AIRFLOW_HOME``, copy of the DAG files, task logs, ``TMPDIR``, Jupyter runtime folder) and a
name of its own, which Airflow records as the host of each task instance it runs (the
``[core] hostname_callable`` :func:`worker_hostname`). The workers share nothing but S3, the
database and the broker, as they would on separate machines.

Everything is configured through ``AIRFLOW__*`` variables, in :meth:`AirflowCluster.env`,
and the components run as :class:`devtools.airflow.AirflowComponents` run them, under one
:class:`devtools.supervisor.Supervisor`: a component that dies is reported with the end of
its log, and stopping reaches every process the components started.

Development tooling, not part of the installed package.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import requests

from .airflow import BIN, AirflowComponents
from .postgres import PostgreSQL
from .redis_server import RedisServer
from .supervisor import (
    Child,
    StackError,
    family_of,
    free_port,
    signal_processes,
)

REPO = Path(__file__).resolve().parent.parent

#: The variable holding a worker's name, read by :func:`worker_hostname`.
WORKER_NAME = "BOOKSTORE_WORKER_NAME"


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the cluster: the worker's own name, else this host's."""
    return os.environ.get(WORKER_NAME) or socket.getfqdn()


@dataclass
class Worker:
    """One ``airflow celery worker`` and its folder."""

    name: str
    folder: Path
    child: Child | None = None

    @property
    def tmp(self) -> Path:
        """The worker's ``TMPDIR``: where a task's temporary files go."""
        return self.folder / "tmp"

    @property
    def logs(self) -> Path:
        """The worker's task logs (``[logging] base_log_folder``)."""
        return self.folder / "logs"

    @property
    def runtime(self) -> Path:
        """The worker's ``JUPYTER_RUNTIME_DIR`` (kernel connection files)."""
        return self.folder / "jupyter-runtime"

    @property
    def dags(self) -> Path:
        return self.folder / "dags"

    def leftovers(self) -> list[Path]:
        """Files and folders tasks left in the worker's temporary and runtime folders.

        The worker process's own ``pymp-*`` folder (Python's multiprocessing, for its pool)
        lives as long as the worker and is not counted.
        """
        found = [path for path in self.tmp.iterdir() if not path.name.startswith("pymp-")]
        return sorted([*found, *self.runtime.iterdir()])

    def task_logs(self) -> list[Path]:
        return sorted(self.logs.rglob("*.log")) if self.logs.exists() else []

    def task_log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.task_logs())


class AirflowCluster(AirflowComponents):
    """PostgreSQL, Redis, and Airflow's components on the CeleryExecutor, with N workers.

    Parameters
    ----------
    folder
        Where everything but the database and the broker keeps its files (their own folders
        are temporary directories, removed on :meth:`stop`).
    dags
        A folder of DAG files; each worker and the dag-processor get a copy taken at start.
    connection
        The ``bookstore_default`` connection, as Airflow's JSON form of a connection.
    workers
        How many Celery workers to start, named ``worker-a``, ``worker-b``, ...
    concurrency
        Tasks each worker runs at once.
    settings
        More ``AIRFLOW__*`` settings, for every component.
    """

    def __init__(
        self,
        folder: Path,
        *,
        dags: Path,
        connection: Mapping[str, Any],
        workers: int = 2,
        concurrency: int = 1,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(folder / "logs", grace=15.0)
        self.folder = folder
        self.dags_source = dags
        self.connection = dict(connection)
        self.concurrency = concurrency
        self.settings = dict(settings or {})
        self.postgres = PostgreSQL()
        self.redis = RedisServer()
        self.api_port = free_port()
        self.jwt_secret = secrets.token_urlsafe(32)
        self.api_secret = secrets.token_urlsafe(32)
        self.workers = {
            name: Worker(name, folder / name)
            for name in (f"worker-{chr(ord('a') + i)}" for i in range(workers))
        }
        self.home = folder / "airflow"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # -- configuration --

    def env(self, worker: Worker | None = None) -> dict[str, str]:
        """The environment of one Airflow process: the whole configuration, in one place."""
        home = worker.folder / "airflow" if worker else self.home
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME"))
        }
        env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            # For [core] hostname_callable, imported by every task.
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.postgres.url(),
            AIRFLOW__CELERY__BROKER_URL=self.redis.url(),
            AIRFLOW__CELERY__RESULT_BACKEND=self.postgres.url("db+postgresql+psycopg2"),
            AIRFLOW__CELERY__WORKER_CONCURRENCY=str(self.concurrency),
            AIRFLOW__CORE__DAGS_FOLDER=str(worker.dags if worker else self.folder / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__HOSTNAME_CALLABLE="devtools.airflow_cluster.worker_hostname",
            # Tasks report to the api-server's execution API with tokens every component
            # signs and checks with one shared secret.
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.api_url}/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=self.jwt_secret,
            AIRFLOW__API__SECRET_KEY=self.api_secret,
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__API__BASE_URL=self.api_url,
            AIRFLOW__API__WORKERS="1",
            # Loopback only, for tests: every API caller is an admin, without signing in.
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            # A worker that vanishes (SIGKILL, a lost machine) stops heartbeating; its task
            # is failed, and retried elsewhere, once this many seconds have passed.
            AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="20",
            AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="5",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="10",
            AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(worker.logs if worker else self.logs / "tasks"),
            AIRFLOW_CONN_BOOKSTORE_DEFAULT=json.dumps(self.connection),
        )
        env.update(self.settings)
        if worker is not None:
            env.update(
                {
                    WORKER_NAME: worker.name,
                    "TMPDIR": str(worker.tmp),
                    "JUPYTER_RUNTIME_DIR": str(worker.runtime),
                }
            )
        return env

    # -- starting --

    def start(self) -> None:
        """Start everything; return once the api-server answers and every worker listens."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.dags_source, self.folder / "dags", dirs_exist_ok=True)
        try:
            self.postgres.start()
            self.redis.start()
        except RuntimeError as e:
            self.stop()
            raise StackError(str(e)) from e
        try:
            self.migrate(self.env())
            for name in ("api-server", "scheduler", "dag-processor"):
                self.start_component(name, self.env())
            for worker in self.workers.values():
                self.start_worker(worker.name)
            self.supervisor.wait_until(
                self.api_answers, 300, "Airflow's api-server did not answer", self.log("api-server")
            )
            for worker in self.workers.values():
                self.wait_for_worker(worker)
        except BaseException:
            self.stop()
            raise

    def start_worker(self, name: str) -> Worker:
        """Start (or start again) the worker ``name`` in its own folder."""
        worker = self.workers[name]
        for folder in (worker.folder, worker.tmp, worker.logs, worker.runtime, worker.folder / "airflow"):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.dags_source, worker.dags, dirs_exist_ok=True)
        command = [
            "celery",
            "worker",
            "--celery-hostname",
            f"{worker.name}@%h",
            "--concurrency",
            str(self.concurrency),
            # No log server: its task logs stay in its folder, where the tests read them.
            "--skip-serve-logs",
        ]
        worker.child = self.start_component(worker.name, self.env(worker), command, cwd=worker.folder)
        return worker

    def wait_for_worker(self, worker: Worker, timeout: float = 240) -> None:
        """Wait until the worker is connected to the broker and ready for tasks."""
        log = self.log(worker.name)
        self.supervisor.wait_until(
            lambda: (
                log.exists()
                and f"{worker.name}@" in log.read_text(errors="replace")
                and "ready." in log.read_text(errors="replace")
            ),
            timeout,
            f"Celery worker {worker.name} did not become ready",
            log,
        )

    def api_answers(self) -> bool:
        try:
            return requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=3).ok
        except requests.RequestException:
            return False

    def stop_worker(self, name: str) -> None:
        """Stop the worker as an operator would (SIGTERM: Celery's warm shutdown)."""
        self.stop_component(name)
        self.workers[name].child = None

    # -- a lost machine --

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker and every process it started, as a machine that is lost would."""
        worker = self.workers[name]
        assert worker.child is not None
        family = worker.child.family()
        signal_processes(family, signal.SIGKILL)
        psutil.wait_procs(family, timeout=10)
        worker.child.process.wait(10)
        self.supervisor.children.remove(worker.child)
        del self.components[name]
        worker.child = None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every process of the cluster: the
        components, the workers and their tasks and kernels (counted once reaped), PostgreSQL
        and Redis."""
        roots = [child.process.pid for child in self.supervisor.children]
        roots += [server.process.pid for server in (self.postgres, self.redis) if server.process]
        total = 0.0
        for process in family_of([psutil.Process(pid) for pid in roots]):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    # -- the REST API --

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call Airflow's REST API (``/api/v2/...``) and return its JSON answer."""
        answer = requests.request(method, f"{self.api_url}/api/v2/{path.lstrip('/')}", timeout=30, **kwargs)
        if not answer.ok:
            raise StackError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json() if answer.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the dag-processor has parsed ``dag_id``."""

        def parsed() -> bool:
            answer = requests.get(f"{self.api_url}/api/v2/dags/{dag_id}", timeout=10)
            return answer.ok

        self.wait(parsed, timeout, f"the DAG {dag_id} was not parsed")

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Start a run of ``dag_id`` now; return its run id."""
        self.wait_for_dag(dag_id)
        run = self.api(
            "POST", f"dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": dict(conf or {})}
        )
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait until the run has finished; return its state."""

        def finished() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in {"success", "failed"} else None

        return str(self.wait(finished, timeout, f"the run {run_id} of {dag_id} did not finish"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
        return list(answer["task_instances"])

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Every try of one task instance, the current one included, oldest first."""
        path = f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        answer = self.api("GET", f"{path}/tries")
        return sorted(answer["task_instances"], key=lambda ti: ti["try_number"])

    # -- stopping --

    def stop(self) -> None:
        """Stop every component and what it started, then the broker and the database."""
        super().stop()
        self.redis.stop()
        self.postgres.stop()
