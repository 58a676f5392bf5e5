"""Smoke test of ``make run``'s stack: save, publish, schedule, find the output in S3.

Starts ``scripts/run_local_stack.py`` on free ports in a temporary folder, then goes through
the README's walk-through with the real services' HTTP APIs only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from devtools.seaweedfs import free_port

REPO = Path(__file__).resolve().parent.parent


class Stack:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {name: free_port() for name in ("S3", "JUPYTER", "AIRFLOW")}
        self.output = folder / "run.out"

    def start(self, timeout: float = 600) -> None:
        env = dict(os.environ, BOOKSTORE_STACK_DIR=str(self.folder / "stack"))
        env.update({f"BOOKSTORE_{name}_PORT": str(port) for name, port in self.ports.items()})
        handle = open(self.output, "wb")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "run_local_stack.py")],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        deadline = time.monotonic() + timeout
        while "bookstore is running" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(1)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(90)

    @property
    def credentials(self) -> dict[str, str]:
        return dict(json.loads((self.folder / "stack" / "credentials.json").read_text()))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.start()
    yield running
    if running.process.poll() is None:
        running.stop()


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def test_save_publish_schedule_and_find_the_output(stack: Stack) -> None:
    creds = stack.credentials
    jupyter = requests.Session()
    jupyter.headers["Authorization"] = f"token {creds['jupyter_token']}"
    base = f"http://127.0.0.1:{stack.ports['JUPYTER']}"
    assert f"token={creds['jupyter_token']}" in stack.text()
    assert creds["secret_key"] not in stack.text()

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
    airflow = f"http://127.0.0.1:{stack.ports['AIRFLOW']}"
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

    # The executed notebook is in S3, with its lineage.
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{stack.ports['S3']}",
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

    assert stack.stop() == 0
    assert "stopped S3" in stack.text()
