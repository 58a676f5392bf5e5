"""The ``bookstore`` command, run in-process through click's CliRunner against a real SeaweedFS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import free_port
from tests.helpers.buckets import new_bucket_name
from tests.helpers.cli import CONFIG, Cli, clean_env
from tests.helpers.jupyter_process import notebook, seed_config

WORKSPACE = "workspace/kylek/notebooks"
PUBLISHED = "published/kylek/notebooks"


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    """One bucket for the module (a SeaweedFS takes writes in a limited number of buckets);
    each test uses notebook names of its own."""
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def cli(tmp_path: Path, s3_server: SeaweedFS, bucket: str) -> Cli:
    return Cli(tmp_path, CONFIG + s3_server.bookstore_config(bucket))


def one_line_error(done: Result) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("bookstore: error: ")
    return lines[0]


# -- the life of a notebook ------------------------------------------------------------------


def test_publish_list_show_and_restore_end_to_end(cli: Cli, store: S3Store) -> None:
    first = cli.write("analysis/mine.ipynb", "x = 1")

    done = cli("publish", "analysis/mine.ipynb", "--root-dir", str(cli.root), cwd=cli.tmp_path)
    assert done.exit_code == 0, done.stderr
    text = done.stdout
    assert "published analysis/mine.ipynb" in text
    assert f"{PUBLISHED}/analysis/mine.ipynb" in text

    second = cli.write("analysis/mine.ipynb", "x = 2")
    published = cli.json("publish", "analysis/mine.ipynb")
    assert published["key"] == f"{PUBLISHED}/analysis/mine.ipynb"
    assert store.get(published["key"], published["version_id"]).body == second
    assert store.get(published["source_key"], published["source_version_id"]).body == second

    workspace = cli.json("versions", "analysis/mine.ipynb")["versions"]
    assert len(workspace) == 2
    assert workspace[0]["version_id"] == published["source_version_id"]
    assert store.get(f"{WORKSPACE}/analysis/mine.ipynb", workspace[1]["version_id"]).body == first
    listed = cli.json("versions", "analysis/mine.ipynb", "--stage", "published")
    assert listed["versions"][0]["version_id"] == published["version_id"]
    assert listed["versions"][0]["source_version_id"] == published["source_version_id"]
    assert len(listed["versions"]) == 2
    published_table = cli("versions", "analysis/mine.ipynb", "--stage", "published").stdout
    assert "PUBLISHED FROM" in published_table.splitlines()[1]
    assert published_table.splitlines()[2].endswith(published["source_version_id"])

    table = cli("versions", "analysis/mine.ipynb").stdout
    assert table.splitlines()[1].split() == ["VERSION", "ID", "SAVED", "SIZE", "LATEST"]
    assert workspace[0]["version_id"] in table and workspace[1]["version_id"] in table
    assert table.splitlines()[2].endswith("*")

    shown = cli("show", "analysis/mine.ipynb", "--version-id", workspace[1]["version_id"])
    assert shown.exit_code == 0
    assert "x = 1" in shown.stdout and "[1] code" in shown.stdout
    assert cli("show", "analysis/mine.ipynb", "--json").stdout_bytes == second
    exported = cli.tmp_path / "exported.ipynb"
    assert cli("show", "analysis/mine.ipynb", "--stage", "published", "-o", str(exported)).exit_code == 0
    assert exported.read_bytes() == second

    restored = cli.json("restore", "analysis/mine.ipynb", "--version-id", workspace[1]["version_id"])
    assert restored["path"] == "analysis/mine-restored.ipynb"
    assert (cli.root / "analysis/mine-restored.ipynb").read_bytes() == first
    again = cli("restore", "analysis/mine.ipynb", "--version-id", workspace[1]["version_id"])
    assert "analysis/mine-restored-1.ipynb" in again.stdout

    over_itself = ["restore", "analysis/mine.ipynb", "--version-id", workspace[1]["version_id"]]
    over_itself += ["--target", "analysis/mine.ipynb"]
    refused = cli(*over_itself)
    assert refused.exit_code == 4
    assert "--overwrite" in one_line_error(refused)
    assert (cli.root / "analysis/mine.ipynb").read_bytes() == second
    replaced = cli(*over_itself, "--overwrite")
    assert replaced.exit_code == 0, replaced.stderr
    assert (cli.root / "analysis/mine.ipynb").read_bytes() == first

    pinned = cli.json("publish", "analysis/mine.ipynb", "--version-id", workspace[0]["version_id"])
    assert pinned["source_version_id"] == workspace[0]["version_id"]
    assert store.get(pinned["key"]).body == second


def test_diff_a_version_against_the_local_file_and_another_version(cli: Cli) -> None:
    cli.write("diffs/mine.ipynb", "x = 1")
    first = cli.json("publish", "diffs/mine.ipynb")
    cli.write("diffs/mine.ipynb", "x = 2")
    second = cli.json("publish", "diffs/mine.ipynb")

    # Latest save vs the local file: the same notebook.
    same = cli("diff", "diffs/mine.ipynb")
    assert same.exit_code == 0, same.stderr
    assert same.stdout.rstrip().endswith("no differences")

    # The first publication vs the local file, as nbdime prints it for a terminal.
    text = cli("diff", "diffs/mine.ipynb", "--stage", "published", "--version-id", first["version_id"])
    assert text.exit_code == 0, text.stderr
    printed = text.stdout
    assert f"--- {PUBLISHED}/diffs/mine.ipynb version {first['version_id']}" in printed
    assert "## modified /cells/0/source:\n-  x = 1\n+  x = 2" in printed
    assert "\x1b[" not in printed  # no colour codes when not printing to a terminal

    # Two stored versions, as JSON: nbdime's diff entries, and which versions they compare.
    answer = cli.json(
        "diff",
        "diffs/mine.ipynb",
        "--version-id",
        first["source_version_id"],
        "--remote-stage",
        "published",
        "--remote-version-id",
        second["version_id"],
    )
    assert answer["base_version"]["version_id"] == first["source_version_id"]
    assert answer["remote_version"] == {
        "stage": "published",
        "key": f"{PUBLISHED}/diffs/mine.ipynb",
        "version_id": second["version_id"],
    }
    assert "".join(answer["base"]["cells"][0]["source"]) == "x = 1"
    (cells,) = [entry for entry in answer["diff"] if entry["key"] == "cells"]
    assert [entry["op"] for entry in cells["diff"]] == ["patch"]

    gone = cli("diff", "never-saved.ipynb")
    assert gone.exit_code == 3
    assert "never-saved.ipynb' does not exist in bucket" in one_line_error(gone)
    (cli.root / "diffs" / "mine.ipynb").unlink()
    missing = cli("diff", "diffs/mine.ipynb")
    assert missing.exit_code == 3
    assert "--remote-stage" in one_line_error(missing)


def test_versions_page_by_page(cli: Cli, store: S3Store) -> None:
    key = f"{WORKSPACE}/paged.ipynb"
    ids = [store.put(key, f'{{"v": {i}}}'.encode()) for i in range(5)]

    table = cli("versions", "paged.ipynb", "--limit", "2").stdout
    assert "more: bookstore versions paged.ipynb --stage workspace --cursor " in table
    seen: list[str] = []
    page = cli.json("versions", "paged.ipynb", "--limit", "2")
    while True:
        seen += [v["version_id"] for v in page["versions"]]
        if not page["next_cursor"]:
            break
        page = cli.json("versions", "paged.ipynb", "--limit", "2", "--cursor", page["next_cursor"])
    assert seen == list(reversed(ids))
    everything = cli.json("versions", "paged.ipynb", "--limit", "2", "--all")
    assert [v["version_id"] for v in everything["versions"]] == seen
    assert everything["next_cursor"] is None


def test_the_seed_jupyter_config_file_works_as_written(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = Cli(tmp_path, seed_config(s3_server, bucket))
    cli.write("seeded.ipynb", "seed")
    published = cli.json("publish", "seeded.ipynb")
    assert published["key"] == f"{PUBLISHED}/seeded.ipynb"


def test_configuration_from_the_environment_and_the_aws_chain(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str, store: S3Store
) -> None:
    cli = Cli(tmp_path, "")
    body = cli.write("env.ipynb", "from the environment")
    env = clean_env(
        tmp_path,
        BOOKSTORE_S3_BUCKET=bucket,
        AWS_ENDPOINT_URL=s3_server.endpoint_url,
        AWS_ACCESS_KEY_ID=s3_server.access_key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
        AWS_REGION="us-east-1",
    )
    done = cli("publish", "env.ipynb", "--json", config=False, env=env)
    assert done.exit_code == 0, done.stderr
    # Without a config file the prefixes are the defaults.
    assert json.loads(done.stdout)["key"] == "published/env.ipynb"
    assert store.get("published/env.ipynb").body == body

    env_config = clean_env(tmp_path, BOOKSTORE_CONFIG=str(tmp_path / "from-env.py"))
    (tmp_path / "from-env.py").write_text(CONFIG + s3_server.bookstore_config(bucket))
    listed = cli("versions", "env.ipynb", "--json", config=False, env=env_config)
    assert listed.exit_code == 3  # the file's prefixes apply: nothing under workspace/kylek/...
    assert f"{WORKSPACE}/env.ipynb" in one_line_error(listed)


def test_publishing_unchanged_content_says_so_and_force_publishes_again(cli: Cli, store: S3Store) -> None:
    cli.write("same/mine.ipynb", "x = 1")
    first = cli.json("publish", "same/mine.ipynb")
    again = cli("publish", "same/mine.ipynb")
    forced = cli.json("publish", "same/mine.ipynb", "--force")

    assert again.exit_code == 0, again.stderr
    assert f"already published as version {first['version_id']}" in again.stdout
    assert "--force" in again.stdout
    assert not forced["unchanged"] and forced["version_id"] != first["version_id"]
    key = f"{PUBLISHED}/same/mine.ipynb"
    assert [v.version_id for v in store.iter_versions(key)] == [forced["version_id"], first["version_id"]]


def test_show_prints_outputs_as_well_as_sources(cli: Cli, store: S3Store) -> None:
    content = notebook("print('hi')")
    content["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": ["hello from the cell\n"]},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": "42"}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}},
        {"output_type": "error", "ename": "ValueError", "evalue": "no data", "traceback": []},
    ]
    store.put(f"{WORKSPACE}/shown.ipynb", json.dumps(content).encode())
    shown = cli("show", "shown.ipynb")
    assert shown.exit_code == 0, shown.stderr
    text = shown.stdout
    assert "print('hi')" in text
    for expected in ("hello from the cell", "42", "[image/png]", "ValueError: no data"):
        assert expected in text


def test_the_root_dir_comes_from_the_environment(cli: Cli, tmp_path: Path) -> None:
    cli.write("analysis/env-root.ipynb", "x = 1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(tmp_path, BOOKSTORE_ROOT_DIR=str(cli.root))
    done = cli("publish", "analysis/env-root.ipynb", env=env, cwd=elsewhere)
    assert done.exit_code == 0, done.stderr
    assert "published analysis/env-root.ipynb" in done.stdout


def test_a_path_pasted_with_its_key_prefix_gets_a_suggestion(cli: Cli, store: S3Store) -> None:
    store.put(f"{PUBLISHED}/suggest/mine.ipynb", json.dumps(notebook("x = 1")).encode())
    # The Airflow notebook_key (under the published root) and the whole key.
    for pasted in ("kylek/notebooks/suggest/mine.ipynb", f"{PUBLISHED}/suggest/mine.ipynb"):
        done = cli("versions", pasted, "--stage", "published")
        assert done.exit_code == 3
        error = one_line_error(done)
        assert "did you mean `bookstore versions suggest/mine.ipynb --stage published`?" in error
    nothing = cli("versions", "kylek/notebooks/never/mine.ipynb", "--stage", "published")
    assert "did you mean" not in one_line_error(nothing)


def test_versions_saved_late_show_their_upload_time() -> None:
    from datetime import UTC, datetime, timedelta

    from bookstore.cli.output import versions_table
    from bookstore.store import ObjectVersion

    saved = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
    on_time = ObjectVersion("k", "v2", 10, saved + timedelta(seconds=1), True, saved_at=saved)
    late = ObjectVersion(
        "k", "v1", 10, saved + timedelta(minutes=5), False, saved_at=saved - timedelta(hours=1)
    )
    table = versions_table([on_time], "workspace").splitlines()
    assert table[0].split() == ["VERSION", "ID", "SAVED", "SIZE", "LATEST"]
    assert "2026-11-27 10:00:00 UTC" in table[1]
    table = versions_table([on_time, late], "workspace").splitlines()
    assert table[0].split()[-1] == "UPLOADED"
    assert table[2].startswith("v1") and "09:00:00" in table[2] and table[2].endswith("10:05:00 UTC")
    assert not table[1].endswith("UTC  ") and table[1].rstrip().endswith("*")


def test_the_installed_bookstore_script(cli: Cli) -> None:
    """The console script, as a person runs it: its output, its one-line errors, its exit status."""
    script = Path(sys.executable).parent / "bookstore"
    cli.write("script.ipynb", "x = 1")
    done = subprocess.run(
        [str(script), "publish", "script.ipynb", "--json", "--config", str(cli.config)],
        capture_output=True,
        env=clean_env(cli.tmp_path),
        cwd=cli.root,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["key"] == f"{PUBLISHED}/script.ipynb"
    missing = subprocess.run(
        [str(script), "versions", "never-saved.ipynb", "--config", str(cli.config)],
        capture_output=True,
        env=clean_env(cli.tmp_path),
        check=False,
        timeout=60,
    )
    assert missing.returncode == 3
    (line,) = missing.stderr.decode().splitlines()
    assert line.startswith("bookstore: error: 'never-saved.ipynb' has no workspace versions")


def test_help_lists_every_command_and_the_version(cli: Cli) -> None:
    done = cli("--help", config=False)
    assert done.exit_code == 0
    for name in ("versions", "publish", "show", "diff", "restore", "run"):
        assert name in done.stdout
    assert "exit status" in done.stdout
    from bookstore import __version__

    assert cli("--version", config=False).stdout == f"bookstore {__version__}\n"


def test_importing_the_command_does_not_import_the_heavy_libraries() -> None:
    """``bookstore --help`` answers at once: nbformat's schema validator, boto3, papermill
    and nbdime are imported only by the commands that use them."""
    heavy = ("nbformat", "boto3", "botocore", "papermill", "nbdime")
    script = f"""
import sys
import bookstore.cli
try:
    bookstore.cli.main(["--help"])
except SystemExit as e:
    assert e.code == 0, e.code
print(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: bookstore" in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_ctrl_c_exits_with_130(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from bookstore.library import Library

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of a request

    monkeypatch.setattr(Library, "versions", interrupted)
    done = cli("versions", "x.ipynb")
    assert done.exit_code == 130
    assert done.stdout == ""


# -- failures: one line on stderr, a meaningful exit status ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "expected"),
    [
        (["versions", "never-saved.ipynb"], 3, "no workspace versions"),
        (["show", "never-saved.ipynb", "--stage", "published"], 3, "does not exist"),
        (["versions", "../outside.ipynb"], 2, "'..'"),
        (["versions", "/etc/passwd"], 2, "absolute"),
        (["publish", "../outside.ipynb"], 2, "outside the root dir"),
        (["publish", "missing.ipynb"], 3, "does not exist"),
        (["versions", "x.ipynb", "--limit", "0"], 2, "limit must be between"),
        (["versions", "x.ipynb", "--cursor", "garbage!"], 2, "start again without it"),
    ],
)
def test_failures_are_one_line_with_an_exit_status(
    cli: Cli, args: list[str], status: int, expected: str
) -> None:
    done = cli(*args)
    assert done.exit_code == status, done.stderr
    assert expected in one_line_error(done)
    assert done.stdout == ""


def test_unknown_version_and_unknown_stage(cli: Cli, store: S3Store) -> None:
    store.put(f"{WORKSPACE}/known.ipynb", b"{}")
    done = cli("show", "known.ipynb", "--version-id", "no-such-version")
    assert done.exit_code == 3
    assert "no-such-version" in one_line_error(done)
    stage = cli("versions", "known.ipynb", "--stage", "draft")
    assert stage.exit_code == 2
    assert "'draft' is not one of 'workspace', 'published'" in stage.stderr


def test_configuration_problems_are_reported_without_secrets(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = Cli(tmp_path, "")
    missing = cli("versions", "x.ipynb", "--config", str(tmp_path / "nope.py"), config=False)
    assert missing.exit_code == 6
    assert "does not exist" in one_line_error(missing)

    no_bucket = cli("versions", "x.ipynb", config=False)
    assert no_bucket.exit_code == 6
    assert "BOOKSTORE_S3_BUCKET" in one_line_error(no_bucket)

    cli.config.write_text(CONFIG + s3_server.bookstore_config(bucket, secret_key="not-the-secret-123"))
    refused = cli("versions", "x.ipynb")
    assert refused.exit_code == 6
    assert "credentials" in one_line_error(refused)
    assert "not-the-secret-123" not in refused.output

    down = f"http://127.0.0.1:{free_port()}"
    cli.config.write_text(CONFIG + s3_server.bookstore_config(bucket, endpoint_url=down))
    unreachable = cli("versions", "x.ipynb")
    assert unreachable.exit_code == 5
    assert "cannot reach S3" in one_line_error(unreachable)

    cli.config.write_text("c = get_config()\nc.Bookstore.backend = 'ftp'\n")
    backend = cli("versions", "x.ipynb")
    assert backend.exit_code == 6
    assert "not a known backend" in one_line_error(backend)
