"""The ``bookstore`` command run in-process (click's CliRunner), as tests run it."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bookstore import s3_client
from bookstore.cli import cli as bookstore_command
from tests.helpers.jupyter_process import notebook

# Only the c.Bookstore lines (these, then the server's c.Bookstore.S3 lines): starts faster
# than the full seed file, which imports the Jupyter archiver (tests/test_cli.py runs the
# seed file itself once).
CONFIG = """\
c = get_config()
c.Bookstore.workspace_prefix = "/workspace/kylek/notebooks"
c.Bookstore.published_prefix = "/published/kylek/notebooks"
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment minus anything AWS or bookstore, so only what a test sets applies."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOOKSTORE_")) and k != "PYTHONPATH"
    }
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def invoke(*args: str, env: dict[str, str], cwd: Path) -> Result:
    """``bookstore ARGS`` in this process, with exactly the environment ``env`` and in ``cwd``."""
    overrides: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    overrides.update(env)
    # A command is a process of its own: its boto3 session finds the credentials of *its*
    # environment, not those an earlier command of this test process found.
    s3_client._shared_session = None
    # Exceptions other than the command's exit propagate, with their traceback, to the test.
    runner = CliRunner(catch_exceptions=False)
    with contextlib.chdir(cwd):
        return runner.invoke(bookstore_command, list(args), env=overrides, prog_name="bookstore")


class Cli:
    """Runs ``bookstore`` with a config file and a root dir of its own."""

    def __init__(self, tmp_path: Path, config: str) -> None:
        self.tmp_path = tmp_path
        self.root = tmp_path / "notebooks"
        self.root.mkdir()
        self.config = tmp_path / "jupyter_server_config.py"
        self.config.write_text(config)

    def __call__(
        self, *args: str, config: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Result:
        if config:
            args += ("--config", str(self.config))
        return invoke(*args, env=env if env is not None else clean_env(self.tmp_path), cwd=cwd or self.root)

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.exit_code == 0, done.stderr
        return json.loads(done.stdout)

    def write(self, path: str, source: str) -> bytes:
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        body = (json.dumps(notebook(source), indent=1) + "\n").encode()
        file.write_bytes(body)
        return body
