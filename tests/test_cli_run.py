"""``bookstore run``: the runner from a terminal, in-process against a real SeaweedFS, with real
papermill kernels."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from bookstore.runs import RunLog
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.cli import clean_env, invoke
from tests.helpers.notebooks import (
    KEY,
    Area,
    cell_text,
    ensure_python3_kernel,
    executed,
    parameterized_notebook,
    untagged_notebook,
)

CONFIG = """\
c = get_config()
c.Bookstore.published_prefix = "/elsewhere/kylek/notebooks"
"""


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    ensure_python3_kernel()
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def config(tmp_path: Path, s3_server: SeaweedFS, bucket: str, area: Area) -> Path:
    file = tmp_path / "jupyter_server_config.py"
    file.write_text(CONFIG + s3_server.bookstore_config(bucket))
    return file


def bookstore(config: Path, *args: str) -> Result:
    """``bookstore ARGS --config CONFIG`` in an environment without AWS or bookstore settings."""
    return invoke(*args, "--config", str(config), env=clean_env(config.parent), cwd=config.parent)


def ok_json(done: Result) -> Any:
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_run_latest_and_pinned_with_parameters(config: Path, store: S3Store, area: Area) -> None:
    first = store.put(area.key, parameterized_notebook("first"))
    second = store.put(area.key, parameterized_notebook("second"))

    # KEY means what the operator's notebook_key means, whatever the Jupyter prefix.
    under = ["--published-prefix", area.published, "--runs-prefix", area.runs]
    latest = bookstore(config, "run", KEY, *under, "-p", "x", "5", "-p", "run_date", "2026-03-04", "--json")
    pinned = bookstore(
        config,
        "run",
        KEY,
        *under,
        "--version-id",
        str(first),
        "-p",
        "x",
        "[1, 2]",
        "--output",
        f"{area.runs}/p.ipynb",
    )

    result = ok_json(latest)
    assert result["source_key"] == area.key
    assert result["source_version_id"] == second
    assert result["parameters"] == {"x": 5, "run_date": "2026-03-04"}
    assert result["output_key"].startswith(f"{area.runs}/manual/")
    assert "ran second with x = 5 run_date = 2026-03-04" in latest.stderr  # cell output, as it runs
    output = store.get(result["output_key"], result["output_version_id"])
    assert "ran second with x = 5 run_date = 2026-03-04" in cell_text(executed(output.body))
    assert pinned.exit_code == 0, pinned.stderr
    assert f"output_key         {area.runs}/p.ipynb" in pinned.stdout
    info = store.head(f"{area.runs}/p.ipynb")
    assert info.metadata["bookstore-source-version-id"] == first
    assert json.loads(info.metadata["bookstore-parameters"]) == {"x": [1, 2]}


def test_run_failures_are_one_line_with_an_exit_status(config: Path, store: S3Store, area: Area) -> None:
    store.put(area.key, parameterized_notebook("failing", raises="no data"))

    under = ["--published-prefix", area.published]
    unknown = bookstore(config, "run", KEY, *under, "--version-id", "v-unknown-42")
    escape = bookstore(config, "run", "../../secret.ipynb", *under)
    failing = bookstore(config, "run", KEY, *under, "--output", f"{area.runs}/failed.ipynb")

    assert unknown.exit_code == 3
    assert "bookstore: error: version 'v-unknown-42' of" in unknown.stderr
    assert escape.exit_code == 2
    assert "must stay under the published prefix" in escape.stderr
    assert failing.exit_code == 1
    assert "ValueError: no data" in failing.stderr
    assert f"the executed notebook is at {area.runs}/failed.ipynb" in failing.stderr
    assert store.head(f"{area.runs}/failed.ipynb").metadata["bookstore-status"] == "failed"


def test_run_takes_the_path_as_every_command_does(config: Path, store: S3Store, area: Area) -> None:
    """PATH is under c.Bookstore.published_prefix, as for `bookstore versions PATH`; the Airflow
    notebook_key form gets a suggestion instead of a bare 'does not exist'."""
    published = "elsewhere/kylek/notebooks/analysis/run-path.ipynb"  # the config's published prefix
    version = store.put(published, parameterized_notebook("by path"))
    by_path = bookstore(config, "run", "analysis/run-path.ipynb", "--runs-prefix", area.runs, "--json")
    result = ok_json(by_path)
    assert result["source_key"] == published
    assert result["source_version_id"] == version

    as_notebook_key = bookstore(config, "run", "kylek/notebooks/analysis/run-path.ipynb")
    assert as_notebook_key.exit_code == 3
    assert "did you mean `bookstore run analysis/run-path.ipynb`?" in as_notebook_key.stderr

    old_option = bookstore(
        config,
        "run",
        "analysis/run-path.ipynb",
        "--version",
        str(version),
        "--runs-prefix",
        area.runs,
        "--json",
    )
    assert ok_json(old_option)["source_version_id"] == version


def test_rerun_repeats_the_version_and_parameters_of_a_past_run(config: Path, store: S3Store) -> None:
    # Under the configured published prefix (root 'elsewhere'), where rerun finds publications.
    key = f"elsewhere/kylek/notebooks/{uuid.uuid4().hex[:8]}/mine.ipynb"
    first = store.put(key, parameterized_notebook("first"))
    path = key.removeprefix("elsewhere/kylek/notebooks/")
    past = ok_json(bookstore(config, "run", path, "--version-id", str(first), "-p", "x", "[1, 2]", "--json"))
    store.put(key, parameterized_notebook("second"))  # published since: not what is repeated

    again = ok_json(bookstore(config, "rerun", past["output_key"], "--json"))

    assert again["source_key"] == key and again["source_version_id"] == first
    assert again["parameters"] == {"x": [1, 2]}
    assert again["output_key"] != past["output_key"]
    text = cell_text(executed(store.get(again["output_key"], again["output_version_id"]).body))
    assert "ran first with x = [1, 2]" in text
    # Said as `bookstore run` says it, for people.
    printed = bookstore(config, "rerun", past["output_key"], "--version-id", past["output_version_id"])
    assert printed.exit_code == 0, printed.stderr
    assert f"source_version_id  {first}" in printed.stdout


def test_rerun_of_something_that_is_no_run_says_so(config: Path, store: S3Store) -> None:
    key = f"runs/not-a-run-{uuid.uuid4().hex[:8]}.ipynb"
    store.put(key, parameterized_notebook("plain"))

    done = bookstore(config, "rerun", key)
    missing = bookstore(config, "rerun", "runs/nothing-here.ipynb")

    assert done.exit_code != 0 and "no executed notebook of bookstore's" in done.stderr
    assert missing.exit_code != 0 and "runs/nothing-here.ipynb" in missing.stderr


def test_runs_lists_a_notebooks_runs_newest_first(config: Path, store: S3Store) -> None:
    key = f"elsewhere/kylek/notebooks/{uuid.uuid4().hex[:8]}/mine.ipynb"
    path = key.removeprefix("elsewhere/kylek/notebooks/")
    assert "no runs of" in bookstore(config, "runs", path).stdout
    store.put(key, parameterized_notebook("listed"))
    first = ok_json(bookstore(config, "run", path, "-p", "x", "1", "--json"))
    second = ok_json(bookstore(config, "run", path, "-p", "x", "2", "--json"))

    listed = ok_json(bookstore(config, "runs", path, "--json"))
    page = ok_json(bookstore(config, "runs", path, "--limit", "1", "--json"))
    printed = bookstore(config, "runs", path, "--limit", "1")

    assert [r["run_id"] for r in listed["runs"]] == [second["run_id"], first["run_id"]]
    assert [r["status"] for r in listed["runs"]] == ["succeeded", "succeeded"]
    assert listed["runs"][1]["parameters"] == {"x": 1} and listed["next_cursor"] is None
    assert len(page["runs"]) == 1 and page["next_cursor"]
    assert printed.exit_code == 0 and second["output_key"] in printed.stdout
    assert f"more: bookstore runs {path} --cursor " in printed.stdout


def test_parameters_the_notebook_does_not_declare_are_refused_before_it_runs(
    config: Path, store: S3Store, area: Area
) -> None:
    """The trial's sales report: ``region`` assigned in a cell with no 'parameters' tag. Run with
    region APAC, papermill would inject it above that cell, which sets it back to EU."""
    store.put(area.key, untagged_notebook("EU"))
    under = ["--published-prefix", area.published, "--runs-prefix", area.runs]

    refused = bookstore(config, "run", KEY, *under, "-p", "region", "APAC")
    runs = [run.as_json() for run in RunLog(store, area.runs).page(KEY).runs]

    assert refused.exit_code == 2, refused.stderr
    assert f"{KEY} (version " in refused.stderr
    assert "has no cell tagged 'parameters'" in refused.stderr
    assert "Cell 2 assigns region: tag it 'parameters'" in refused.stderr
    assert "sales report" not in refused.stderr  # nothing executed
    # No executed notebook; the refusal is recorded as a failed run, so Jupyter shows it.
    stored = [k.key for k in store.list_keys(f"{area.runs}/").keys]
    assert [k for k in stored if not k.startswith(f"{area.runs}/@records/")] == []
    assert [(r["status"], r["output_version_id"]) for r in runs] == [("failed", None)]
    assert "has no cell tagged 'parameters'" in runs[0]["error"]
    assert runs[0]["parameters"] == {"region": "APAC"}


def test_a_forced_run_says_so_in_its_record(config: Path, store: S3Store, area: Area) -> None:
    store.put(area.key, untagged_notebook("EU"))
    under = ["--published-prefix", area.published, "--runs-prefix", area.runs]

    forced = ok_json(
        bookstore(config, "run", KEY, *under, "-p", "region", "APAC", "--force-parameters", "--json")
    )
    record = RunLog(store, area.runs).page(KEY).runs[0].as_json()

    # What the check prevents: the notebook's own assignment won.
    output = executed(store.get(forced["output_key"], forced["output_version_id"]).body)
    assert "sales report for EU" in cell_text(output)
    assert forced["parameters_forced"] is True
    assert output.metadata["bookstore"]["parameters_forced"] is True
    assert (record["status"], record["parameters_forced"]) == ("succeeded", True)


def test_an_unknown_parameter_name_is_refused_with_the_declared_ones(
    config: Path, store: S3Store, area: Area
) -> None:
    store.put(area.key, parameterized_notebook("typo"))
    under = ["--published-prefix", area.published, "--runs-prefix", area.runs]

    refused = bookstore(config, "run", KEY, *under, "-p", "x", "2", "-p", "rundate", "2026-01-01")
    declared = ok_json(bookstore(config, "run", KEY, *under, "-p", "x", "2", "--json"))

    assert refused.exit_code == 2
    assert "'rundate' (did you mean 'run_date'?) is not a parameter of" in refused.stderr
    assert "declares x, run_date" in refused.stderr
    assert declared["parameters_forced"] is False


def test_parameters_shows_what_a_published_notebook_declares(config: Path, store: S3Store) -> None:
    key = f"elsewhere/kylek/notebooks/{uuid.uuid4().hex[:8]}/sales.ipynb"
    path = key.removeprefix("elsewhere/kylek/notebooks/")
    untagged = store.put(key, untagged_notebook("EU"))
    store.put(key, parameterized_notebook("tagged"))

    latest = bookstore(config, "parameters", path)
    older = bookstore(config, "parameters", path, "--version-id", str(untagged))
    as_json = ok_json(bookstore(config, "parameters", path, "--json"))

    assert latest.exit_code == 0, latest.stderr
    assert "(cell 1)" in latest.stdout
    assert latest.stdout.split("\n")[1].split() == ["NAME", "TYPE", "DEFAULT", "HELP"]
    assert "run_date" in latest.stdout and "'unset'" in latest.stdout
    assert older.exit_code == 0, older.stderr
    assert "has no cell tagged 'parameters'" in older.stdout
    assert "Cell 2 assigns region: tag it 'parameters'" in older.stdout
    assert [p["name"] for p in as_json["parameters"]] == ["x", "run_date"]
