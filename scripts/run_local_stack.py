"""``make run``: the whole bookstore stack on this machine, in the foreground.

- S3: SeaweedFS on 127.0.0.1:8333 (``BOOKSTORE_S3_PORT``), data in ``.stack/s3``, a
  versioned bucket ``notebooks`` created on first start, credentials generated once and
  kept in ``.stack/credentials.json``.
- JupyterLab on 127.0.0.1:8888 (``BOOKSTORE_JUPYTER_PORT``) with ``BookstoreContentsArchiver``
  archiving to that bucket, serving ``.stack/notebooks`` (a sample parameterised notebook,
  ``analysis/mine.ipynb``, is put there on first start).
- Airflow 3 (``airflow standalone``: api-server, scheduler, dag-processor, triggerer, SQLite)
  on 127.0.0.1:8080 (``BOOKSTORE_AIRFLOW_PORT``) with this repository's ``dags/`` and
  ``plugins/`` and the ``bookstore_default`` connection wired to the local S3.

Ctrl-C stops everything. A second run keeps the data of the first.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parent.parent
STACK = Path(os.environ.get("BOOKSTORE_STACK_DIR", REPO / ".stack")).resolve()
BIN = Path(sys.executable).parent
BUCKET = "notebooks"
USER = "kylek"

sys.path.insert(0, str(REPO))
from devtools.seaweedfs import SeaweedFS, terminate  # noqa: E402


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def credentials() -> dict[str, str]:
    """Generated once, reused by every later run (the data in S3 belongs to them)."""
    path = STACK / "credentials.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds = {
        "access_key": "bookstore-" + secrets.token_hex(4),
        "secret_key": secrets.token_urlsafe(24),
        "jupyter_token": secrets.token_hex(24),
    }
    path.write_text(json.dumps(creds, indent=2))
    path.chmod(0o600)
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


def wait_http(url: str, what: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; authentication is not our concern here
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit(f"{what} did not answer on {url} within {timeout:.0f} s; see {log}")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        command,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    handle.close()
    return process


def stop(process: subprocess.Popen[bytes], what: str) -> None:
    terminate(process, grace=20.0)
    print(f"    stopped {what}", flush=True)


def main() -> None:
    s3_port = port("BOOKSTORE_S3_PORT", 8333)
    jupyter_port = port("BOOKSTORE_JUPYTER_PORT", 8888)
    airflow_port = port("BOOKSTORE_AIRFLOW_PORT", 8080)
    logs = STACK / "logs"
    for folder in (STACK, logs, STACK / "notebooks" / "analysis", STACK / "jupyter", STACK / "airflow"):
        folder.mkdir(parents=True, exist_ok=True)
    creds = credentials()
    children: list[tuple[subprocess.Popen[bytes], str]] = []

    step(f"starting S3 (SeaweedFS) on 127.0.0.1:{s3_port}, data in {STACK / 's3'}")
    s3 = SeaweedFS(
        STACK / "s3",
        access_key=creds["access_key"],
        secret_key=creds["secret_key"],
        s3_port=s3_port,
        log_file=logs / "s3.log",
    )
    try:
        s3.start(timeout=120)
        client = s3.client()
        if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            s3.create_bucket(BUCKET)
        else:
            client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

        sample = STACK / "notebooks" / "analysis" / "mine.ipynb"
        if not sample.exists():
            nbformat.write(sample_notebook(), sample)

        step(
            f"starting JupyterLab on 127.0.0.1:{jupyter_port}, archiving to s3://{BUCKET}/workspace/{USER}/notebooks"
        )
        config = STACK / "jupyter" / "jupyter_server_config.py"
        config.write_text(
            "from bookstore import BookstoreContentsArchiver\n"
            "c = get_config()\n"
            "c.ServerApp.contents_manager_class = BookstoreContentsArchiver\n"
            f'c.Bookstore.workspace_prefix = "/workspace/{USER}/notebooks"\n'
            f'c.Bookstore.published_prefix = "/published/{USER}/notebooks"\n'
            'c.Bookstore.backend = "s3"\n'
            f'c.Bookstore.S3.bucket = "{BUCKET}"\n'
            f'c.Bookstore.S3.endpoint_url = "{s3.endpoint_url}"\n'
            'c.Bookstore.S3.region_name = "us-east-1"\n'
        )
        # For the bookstore CLI in another terminal: `source .stack/bookstore.env`.
        cli_env = STACK / "bookstore.env"
        cli_env.write_text(
            f"export BOOKSTORE_CONFIG='{config}'\n"
            f"export AWS_ACCESS_KEY_ID='{creds['access_key']}'\n"
            f"export AWS_SECRET_ACCESS_KEY='{creds['secret_key']}'\n"
        )
        cli_env.chmod(0o600)
        jupyter_env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(STACK / "jupyter" / "config"),
            JUPYTER_DATA_DIR=str(STACK / "jupyter" / "data"),
            JUPYTER_RUNTIME_DIR=str(STACK / "jupyter" / "runtime"),
            # Credentials through the environment, not the config file Jupyter may log.
            AWS_ACCESS_KEY_ID=creds["access_key"],
            AWS_SECRET_ACCESS_KEY=creds["secret_key"],
        )
        jupyter_log = logs / "jupyter.log"
        jupyter = start(
            [
                str(BIN / "jupyter"),
                "lab",
                f"--config={config}",
                f"--ServerApp.root_dir={STACK / 'notebooks'}",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={jupyter_port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.open_browser=False",
                f"--IdentityProvider.token={creds['jupyter_token']}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            jupyter_env,
            jupyter_log,
        )
        children.append((jupyter, "JupyterLab"))

        step(
            f"starting Airflow 3 on 127.0.0.1:{airflow_port} "
            "(the first start migrates its database: about a minute)"
        )
        airflow_home = STACK / "airflow"
        connection = {
            "conn_type": "aws",
            "login": creds["access_key"],
            "password": creds["secret_key"],
            "extra": {"endpoint_url": s3.endpoint_url, "region_name": "us-east-1", "bucket": BUCKET},
        }
        airflow_env = dict(
            os.environ,
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            AIRFLOW_HOME=str(airflow_home),
            AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(airflow_port),
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{airflow_port}",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
            AIRFLOW_CONN_BOOKSTORE_DEFAULT=json.dumps(connection),
        )
        airflow_log = logs / "airflow.log"
        airflow = start([str(BIN / "airflow"), "standalone"], airflow_env, airflow_log)
        children.append((airflow, "Airflow"))

        wait_http(f"http://127.0.0.1:{jupyter_port}/api/status", "JupyterLab", jupyter, 120, jupyter_log)
        wait_http(
            f"http://127.0.0.1:{airflow_port}/api/v2/monitor/health", "Airflow", airflow, 600, airflow_log
        )
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        deadline = time.monotonic() + 60
        while not passwords.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        login: Any = json.loads(passwords.read_text()) if passwords.exists() else {}
        password = login.get("admin", f"(see {passwords})")

        print(
            f"""
bookstore is running. Ctrl-C stops everything.

  JupyterLab  http://127.0.0.1:{jupyter_port}/lab?token={creds["jupyter_token"]}
              open analysis/mine.ipynb, save it, then publish it:
              curl -X PUT -H "Authorization: token {creds["jupyter_token"]}" \\
                   http://127.0.0.1:{jupyter_port}/api/bookstore/publish/analysis/mine.ipynb -d '{{}}'
  Airflow     http://127.0.0.1:{airflow_port}   user admin, password {password}
              DAGs: bookstore_daily_report, bookstore_pinned_version
  CLI         source {cli_env}
              bookstore versions analysis/mine.ipynb
  S3          {s3.endpoint_url}   bucket {BUCKET}
              access key {creds["access_key"]}, secret in {STACK / "credentials.json"}
  Logs        {logs}
""",
            flush=True,
        )
        while all(process.poll() is None for process, _ in children):
            time.sleep(1)
        for process, what in children:
            if process.poll() is not None:
                print(f"{what} exited with {process.returncode}; see {logs}", flush=True)
    except KeyboardInterrupt:
        print("\n==> stopping", flush=True)
    finally:
        for process, what in reversed(children):
            stop(process, what)
        s3.stop()
        print("    stopped S3", flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    main()
