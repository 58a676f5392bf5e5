"""The Airflow provider against real Airflow 3 (SQLite), papermill, ipykernel and SeaweedFS.

Airflow reads its configuration when it is first imported, so this module imports
Airflow (and ``bookstore.airflow``) only inside fixtures and tests, after the session
fixture :func:`airflow_home` has pointed it at a temporary home.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bookstore.s3 import S3Store
from devtools.airflow import connection_json as airflow_connection
from devtools.seaweedfs import SeaweedFS
from tests.helpers.airflow_dags import write_dag, xcoms
from tests.helpers.buckets import new_bucket_name
from tests.helpers.notebooks import (
    KEY,
    Area,
    cell_text,
    executed,
    injected_parameters,
    metadata_parameters,
    parameterized_notebook,
    untagged_notebook,
)

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parent.parent
LINK_NAME = "Executed notebook"


@pytest.fixture(scope="module")
def bucket(s3_server: SeaweedFS) -> str:
    """One bucket for the module; each test works in an :class:`Area` of its own."""
    return s3_server.create_bucket(new_bucket_name())


def connection_json(server: SeaweedFS, bucket: str, **extra: str) -> str:
    """A ``bookstore`` connection to ``bucket`` of ``server``, as the contract's JSON."""
    return airflow_connection(server.endpoint_url, server.access_key, server.secret_key, bucket, **extra)


@pytest.fixture
def connection(
    airflow_home: Path, s3_server: SeaweedFS, bucket: str, area: Area, monkeypatch: pytest.MonkeyPatch
) -> str:
    """``bookstore_default`` on the module's bucket, with this test's prefixes."""
    value = connection_json(s3_server, bucket, published_prefix=area.published, runs_prefix=area.runs)
    monkeypatch.setenv("AIRFLOW_CONN_BOOKSTORE_DEFAULT", value)
    return value


@pytest.fixture
def published_twice(store: S3Store, area: Area) -> tuple[str, str]:
    first = store.put(area.key, parameterized_notebook("first"))
    second = store.put(area.key, parameterized_notebook("second"))
    assert first and second
    return first, second


def example_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags[dag_id]


@pytest.fixture
def task_log(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """What the in-process task logged: Airflow's own log lines reach the console, and
    standard-library loggers (papermill, bookstore) also reach pytest's log capture."""

    def read() -> str:
        out, err = capfd.readouterr()
        return out + err + caplog.text

    return read


def keys_under(server: SeaweedFS, bucket: str, prefix: str) -> list[str]:
    answer = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


# -- discovery --------------------------------------------------------------------------


def test_airflow_discovers_the_provider(airflow_home: Path) -> None:
    from airflow.configuration import conf
    from airflow.providers_manager import ProvidersManager

    import bookstore

    manager = ProvidersManager()
    provider = manager.providers["notebook-bookstore"]
    assert provider.version == bookstore.__version__
    hook = manager.hooks["bookstore"]
    assert hook is not None and hook.hook_class_name == "bookstore.airflow.hooks.BookstoreHook"
    assert "bookstore.airflow.links.ExecutedNotebookLink" in manager.extra_links_class_names
    assert manager.field_behaviours["bookstore"]["relabeling"]["login"] == "Access key id"
    # The provider's configuration section is known to Airflow, default included.
    assert conf.get("bookstore", "notebook_url_template") == "{object_url}"


def test_the_plugin_loads_once_with_its_macros(airflow_home: Path) -> None:
    from airflow import plugins_manager

    bookstore_plugins = [info for info in plugins_manager.get_plugin_info() if info["name"] == "bookstore"]
    # Registered by the entry point; plugins/bookstore_plugin.py must not add a duplicate,
    # which Airflow would report as an import error.
    assert len(bookstore_plugins) == 1
    assert "bookstore.airflow.plugin:BookstorePlugin" in str(bookstore_plugins[0]["source"])
    assert set(bookstore_plugins[0]["macros"]) == {
        "bookstore.airflow.plugin.latest_version_id",
        "bookstore.airflow.plugin.published_key",
    }
    assert not plugins_manager.get_import_errors()
    # A plugin-registered link would replace the operator's own on the API server.
    assert not [link for link in plugins_manager.get_operator_extra_links() if link.name == LINK_NAME]


def test_example_dags_import_cleanly(connection: str, bucket: str, area: Area) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))

    assert bag.import_errors == {}
    assert {
        "bookstore_daily_report",
        "bookstore_pinned_version",
        "bookstore_on_publish",
        "bookstore_fan_out",
    } <= set(bag.dag_ids)
    pinned = bag.dags["bookstore_pinned_version"]
    assert pinned.params["version_id"] is None
    assert pinned.get_task("run_notebook").version_id == "{{ params.version_id or '' }}"
    # Scheduled on the published notebook, named by bucket and key, watched for publications.
    on_publish = bag.dags["bookstore_on_publish"]
    [asset] = on_publish.timetable.asset_condition.objects
    assert asset.uri == f"s3://{bucket}/{area.published}/kylek/notebooks/analysis/mine.ipynb"
    [watcher] = asset.watchers
    assert type(watcher.trigger).__name__ == "PublishedVersionTrigger"
    [outlet] = on_publish.get_task("run_notebook").outlets
    assert outlet.uri.startswith(f"s3://{bucket}/")
    # The fan-out maps the notebook over the parameter sets of its trigger form.
    fan_out = bag.dags["bookstore_fan_out"]
    mapped = fan_out.get_task("run_notebook")
    assert type(mapped).__name__ == "MappedOperator"
    assert mapped.upstream_task_ids == {"parameter_sets"}
    assert len(fan_out.params["parameter_sets"]) > 1


def test_assets_refuse_a_connection_without_bucket_and_a_hostile_key(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore.airflow.assets import published_notebook_asset
    from bookstore.errors import InvalidPathError, MisconfiguredError

    monkeypatch.setenv("AIRFLOW_CONN_BOOKSTORE_DEFAULT", json.dumps({"conn_type": "aws", "extra": {}}))
    with pytest.raises(MisconfiguredError, match="names no bucket"):
        published_notebook_asset("a/b.ipynb")
    monkeypatch.setenv(
        "AIRFLOW_CONN_BOOKSTORE_DEFAULT", json.dumps({"conn_type": "aws", "extra": {"bucket": "b"}})
    )
    with pytest.raises(InvalidPathError, match="refused"):
        published_notebook_asset("../../workspace/a.ipynb")


def test_example_dag_files_import_no_heavy_modules(connection: str) -> None:
    """Parsing a DAG file must stay cheap: no papermill, kernels or S3 client at import."""
    code = (
        "import sys, runpy\n"
        "for name in ('bookstore_daily_report', 'bookstore_pinned_version', 'bookstore_on_publish',\n"
        "             'bookstore_fan_out'):\n"
        f"    runpy.run_path({str(REPO / 'dags')!r} + '/' + name + '.py')\n"
        "heavy = [m for m in ('papermill', 'boto3', 'nbclient', 'jupyter_client') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY=\n" in done.stdout, done.stdout[-2000:]


# -- runs ---------------------------------------------------------------------------------


def test_daily_example_runs_the_latest_version_with_the_run_date(
    connection: str,
    published_twice: tuple[str, str],
    store: S3Store,
    bucket: str,
    area: Area,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    _, second = published_twice
    # The raw-S3 kind of link, formatted with a template of the user's own.
    monkeypatch.setenv("AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK", "s3")
    monkeypatch.setenv(
        "AIRFLOW__BOOKSTORE__NOTEBOOK_URL_TEMPLATE",
        "https://viewer.example.org/{bucket}/{key}?v={version_id}",
    )
    dag = example_dag("bookstore_daily_report")

    dag_run = dag.test(logical_date=datetime(2026, 3, 4, tzinfo=UTC))

    assert dag_run.state == "success"
    result = xcoms(dag_run, "report")["return_value"]
    assert result["source_key"] == area.key
    assert result["source_version_id"] == second
    assert result["parameters"] == {"run_date": "2026-03-04", "x": 21}
    assert (
        result["output_key"] == f"{area.runs}/bookstore_daily_report/{dag_run.run_id}/report/try-1/mine.ipynb"
    )
    output = store.get(result["output_key"], result["output_version_id"])
    assert "ran second with x = 21 run_date = 2026-03-04" in cell_text(executed(output.body))
    metadata = dict(output.info.metadata)
    assert metadata["bookstore-source-version-id"] == second
    assert metadata_parameters(metadata) == {"run_date": "2026-03-04", "x": 21}
    assert metadata["bookstore-airflow-dag-id"] == "bookstore_daily_report"
    assert metadata["bookstore-airflow-run-id"] == dag_run.run_id
    assert metadata["bookstore-airflow-task-id"] == "report"
    assert metadata["bookstore-airflow-try-number"] == "1"
    # Cell output is logged, which Airflow routes to the task log (the `airflow dags test`
    # test below reads it from the real task output).
    assert "ran second with x = 21 run_date = 2026-03-04" in caplog.text
    # The extra link, as the API server reads it for the UI.
    ti = dag_run.get_task_instance("report")
    task = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).get_task("report")
    link = task.get_extra_links(ti, LINK_NAME)
    assert link.startswith(f"https://viewer.example.org/{bucket}/{area.runs}/bookstore_daily_report/")
    assert link.endswith(f"/report/try-1/mine.ipynb?v={result['output_version_id']}")


def test_pinned_example_runs_the_version_from_the_trigger_form(
    connection: str, published_twice: tuple[str, str], store: S3Store
) -> None:
    first, _ = published_twice
    dag = example_dag("bookstore_pinned_version")

    dag_run = dag.test(run_conf={"version_id": first, "parameters": {"x": 5}})

    assert dag_run.state == "success"
    result = xcoms(dag_run, "run_notebook")["return_value"]
    assert result["source_version_id"] == first
    assert result["parameters"] == {"x": 5}
    output = executed(store.get(result["output_key"], result["output_version_id"]).body)
    assert "ran first with x = 5" in cell_text(output)
    assert injected_parameters(output) == {"x": 5}


def test_macro_resolves_the_latest_version_inside_a_template(
    airflow_home: Path, connection: str, area: Area, published_twice: tuple[str, str]
) -> None:
    _, second = published_twice
    dag = write_dag(
        airflow_home,
        "bookstore_test_macro",
        notebook_key=KEY,
        version_id="{{ macros.bookstore.latest_version_id('" + KEY + "') }}",
        parameters={"x": "{{ macros.bookstore.published_key('" + KEY + "') }}"},
        output_key=f"{area.runs}/macro/out.ipynb",
    )

    dag_run = dag.test()

    assert dag_run.state == "success"
    result = xcoms(dag_run, "run")["return_value"]
    assert result["source_version_id"] == second
    assert result["parameters"] == {"x": area.key}
    assert result["output_key"] == f"{area.runs}/macro/out.ipynb"


def test_unknown_version_fails_at_once_naming_it(
    airflow_home: Path,
    connection: str,
    published_twice: tuple[str, str],
    s3_server: SeaweedFS,
    bucket: str,
    area: Area,
    task_log: Callable[[], str],
) -> None:
    dag = write_dag(
        airflow_home, "bookstore_test_unknown_version", retries=3, notebook_key=KEY, version_id="v-404-gone"
    )

    dag_run = dag.test()

    assert dag_run.state == "failed"
    ti = dag_run.get_task_instance("run")
    assert (ti.state, ti.try_number) == ("failed", 1)  # no retry was spent
    log = task_log()
    assert "AirflowFailException" in log
    assert f"version 'v-404-gone' of '{area.key}' does not exist" in log
    assert keys_under(s3_server, bucket, area.runs) == []


def test_a_key_leaving_the_published_prefix_is_refused(
    airflow_home: Path,
    connection: str,
    store: S3Store,
    s3_server: SeaweedFS,
    bucket: str,
    area: Area,
    task_log: Callable[[], str],
) -> None:
    store.put(f"{area.namespace}/workspace/kylek/secret.ipynb", parameterized_notebook("secret"))
    dag = write_dag(
        airflow_home, "bookstore_test_escape", retries=3, notebook_key="../workspace/kylek/secret.ipynb"
    )

    dag_run = dag.test()

    ti = dag_run.get_task_instance("run")
    assert (ti.state, ti.try_number) == ("failed", 1)
    assert "'../workspace/kylek/secret.ipynb' is refused" in task_log()
    assert keys_under(s3_server, bucket, area.runs) == []


def test_parameters_the_notebook_does_not_declare_fail_the_task_at_once(
    airflow_home: Path,
    connection: str,
    store: S3Store,
    s3_server: SeaweedFS,
    bucket: str,
    area: Area,
    task_log: Callable[[], str],
) -> None:
    store.put(area.key, untagged_notebook("EU"))
    dag = write_dag(
        airflow_home, "bookstore_test_untagged", retries=3, notebook_key=KEY, parameters={"region": "APAC"}
    )
    forced = write_dag(
        airflow_home,
        "bookstore_test_untagged_forced",
        notebook_key=KEY,
        parameters={"region": "APAC"},
        force_parameters=True,
    )

    refused_run = dag.test()
    forced_run = forced.test()

    ti = refused_run.get_task_instance("run")
    assert (ti.state, ti.try_number) == ("failed", 1)  # no retry: the notebook must change first
    log = task_log()
    assert "AirflowFailException" in log
    assert "has no cell tagged 'parameters'" in log and "Cell 2 assigns region" in log
    assert "sales report for" not in log.split("bookstore_test_untagged_forced")[0]
    executed_keys = [k for k in keys_under(s3_server, bucket, area.runs) if "/@records/" not in k]
    assert executed_keys == [
        f"{area.runs}/bookstore_test_untagged_forced/{forced_run.run_id}/run/try-1/mine.ipynb"
    ]
    result = xcoms(forced_run, "run")["return_value"]
    assert result["parameters_forced"] is True
    assert "sales report for EU" in cell_text(executed(store.get(result["output_key"]).body))


def test_a_failing_notebook_uploads_its_output_on_every_try(
    airflow_home: Path,
    connection: str,
    store: S3Store,
    s3_server: SeaweedFS,
    area: Area,
    task_log: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.org/")
    version = store.put(area.key, parameterized_notebook("failing", raises="no data for today"))
    dag = write_dag(airflow_home, "bookstore_test_failing", retries=1, notebook_key=KEY, parameters={"x": 9})

    dag_run = dag.test()

    assert dag_run.state == "failed"
    assert dag_run.get_task_instance("run").try_number == 2  # a failing notebook may be retried
    assert "ValueError: no data for today" in task_log()
    # Each try has its own output; the XComs are those of the last try.
    run_folder = f"{area.runs}/bookstore_test_failing/{dag_run.run_id}/run"
    assert sorted(keys_under(s3_server, store.bucket, run_folder + "/")) == [
        f"{run_folder}/try-1/mine.ipynb",
        f"{run_folder}/try-2/mine.ipynb",
    ]
    task_xcoms = xcoms(dag_run, "run")
    output = task_xcoms["bookstore_output"]
    assert output["key"] == f"{run_folder}/try-2/mine.ipynb"
    # By default the link opens the plugin's viewer on Airflow's API server, for the last try.
    link = task_xcoms["_link_bookstore_executed_notebook"]
    assert link.startswith(
        f"https://airflow.example.org/bookstore/executed/{area.runs}/bookstore_test_failing/"
    )
    assert link.endswith(f"/run/try-2/mine.ipynb?version_id={output['version_id']}&conn_id=bookstore_default")
    assert "return_value" not in task_xcoms
    stored = store.get(output["key"], output["version_id"])
    assert stored.info.metadata["bookstore-status"] == "failed"
    assert stored.info.metadata["bookstore-source-version-id"] == version
    text = cell_text(executed(stored.body))
    assert "ran failing with x = 9" in text and "ValueError: no data for today" in text


def test_airflow_dags_test_command_runs_a_pinned_version(
    airflow_home: Path,
    connection: str,
    published_twice: tuple[str, str],
    store: S3Store,
    s3_server: SeaweedFS,
    area: Area,
) -> None:
    first, _ = published_twice

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "dags",
            "test",
            "bookstore_pinned_version",
            "--conf",
            json.dumps({"version_id": first, "parameters": {"x": 11}}),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "ran first with x = 11" in done.stdout + done.stderr
    outputs = keys_under(s3_server, store.bucket, f"{area.runs}/bookstore_pinned_version/")
    assert len(outputs) == 1
    info = store.head(outputs[0])
    assert info.metadata["bookstore-source-version-id"] == first
    assert metadata_parameters(dict(info.metadata)) == {"x": 11}


def test_hook_reads_the_connection_and_tests_it(
    airflow_home: Path, s3_server: SeaweedFS, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore.airflow.hooks import BookstoreHook

    monkeypatch.setenv("AIRFLOW_CONN_BOOKSTORE_DEFAULT", connection_json(s3_server, bucket))
    hook = BookstoreHook()

    assert hook.store.bucket == bucket
    assert hook.store is hook.get_conn()  # one client per hook
    assert (hook.published_prefix, hook.runs_prefix) == ("published", "runs")
    assert hook.test_connection() == (True, f"bucket {bucket!r} is reachable and versioned")


def test_hook_prefixes_and_credential_chain(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bookstore.airflow.hooks import BookstoreHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_TEAM_BOOKSTORE",
        json.dumps(
            {
                "conn_type": "aws",
                "extra": {
                    "extra__aws__bucket": "team",
                    "published_prefix": "/pub/team/",
                    "runs_prefix": "team/runs",
                    "region_name": "",
                },
            }
        ),
    )
    hook = BookstoreHook("team_bookstore")

    assert (hook.published_prefix, hook.runs_prefix) == ("pub/team", "team/runs")
    assert hook.connection.login is None  # boto3's default chain supplies credentials
    assert hook.store.bucket == "team"
    assert hook.store.credential_source == "boto3's credential chain (no access key configured)"
    assert hook.extra_value("region_name") is None


def test_hook_reads_each_backends_settings_from_its_kind_of_connection(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore.airflow.assets import published_notebook_asset
    from bookstore.airflow.hooks import BookstoreHook
    from bookstore.errors import MisconfiguredError

    key = {"type": "service_account", "client_email": "runner@p.iam.gserviceaccount.com"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_GCS_BOOKSTORE",
        json.dumps(
            {
                "conn_type": "google_cloud_platform",
                "extra": {"bucket": "team", "project": "p", "keyfile_dict": key, "runs_prefix": "r"},
            }
        ),
    )
    hook = BookstoreHook("gcs_bookstore")
    assert hook.backend == "gcs"
    assert hook.store_settings() == {
        "bucket": "team",
        "endpoint_url": None,
        "project": "p",
        "credentials_file": None,
        "credentials_json": json.dumps(key),
    }
    assert hook.runs_prefix == "r"
    assert published_notebook_asset("a/b.ipynb", "gcs_bookstore").uri == "gs://team/published/a/b.ipynb"

    monkeypatch.setenv(
        "AIRFLOW_CONN_IMPERSONATING",
        json.dumps(
            {
                "conn_type": "google_cloud_platform",
                "extra": {"bucket": "team", "impersonation_chain": "runner@p.iam.gserviceaccount.com"},
            }
        ),
    )
    with pytest.raises(MisconfiguredError, match="sets impersonation_chain, which bookstore does not read"):
        BookstoreHook("impersonating").store_settings()

    monkeypatch.setenv(
        "AIRFLOW_CONN_S3_BOOKSTORE",
        json.dumps({"conn_type": "aws", "login": "id", "password": "secret", "extra": {"bucket": "nb"}}),
    )
    s3 = BookstoreHook("s3_bookstore")
    assert s3.backend == "s3"
    assert s3.store.credential_source == "the access key configured"
    assert s3.store_settings() == {
        "bucket": "nb",
        "endpoint_url": None,
        "region_name": None,
        "access_key_id": "id",
        "secret_access_key": "secret",
    }

    monkeypatch.setenv(
        "AIRFLOW_CONN_FTP_BOOKSTORE",
        json.dumps({"conn_type": "aws", "extra": {"bucket": "nb", "backend": "ftp"}}),
    )
    with pytest.raises(MisconfiguredError, match="'ftp' is not a known backend"):
        BookstoreHook("ftp_bookstore").store_settings()


def test_operator_init_does_no_io_and_templates_its_fields(airflow_home: Path) -> None:
    from bookstore.airflow.operators import PublishedNotebookOperator

    # A connection that does not exist and a key that is not valid yet: __init__ must not care.
    op = PublishedNotebookOperator(
        task_id="t", notebook_key="{{ params.key }}", bookstore_conn_id="does_not_exist"
    )

    assert tuple(op.template_fields) == ("notebook_key", "version_id", "parameters", "output_key")
    assert "hook" not in op.__dict__
    with pytest.raises(TypeError):
        PublishedNotebookOperator("t", "key")  # type: ignore[misc]


def test_link_template_fields(airflow_home: Path) -> None:
    from bookstore.airflow import DEFAULT_NOTEBOOK_URL_TEMPLATE
    from bookstore.airflow.links import notebook_url

    output = {"bucket": "nb", "key": "runs/d/manual__1:2+3/t/try-1/a b.ipynb", "version_id": "v1"}
    raw = "https://s3.us-east-1.amazonaws.com/nb/runs/d/manual__1%3A2%2B3/t/try-1/a%20b.ipynb?versionId=v1"

    assert notebook_url(output, "{endpoint_url}/{bucket}/{key}?versionId={version_id}") == raw
    # The default is the object's raw URL on its backend: S3's when the output names none.
    assert notebook_url(output, DEFAULT_NOTEBOOK_URL_TEMPLATE) == raw
    assert notebook_url({**output, "backend": "gcs", "version_id": "17"}, DEFAULT_NOTEBOOK_URL_TEMPLATE) == (
        "https://storage.googleapis.com/storage/v1/b/nb/o/runs%2Fd%2Fmanual__1%3A2%2B3%2Ft%2Ftry-1%2Fa%20b.ipynb"
        "?alt=media&generation=17"
    )
    assert notebook_url(output, "https://console.example.org/s3/object/{bucket}?prefix={quoted_key}") == (
        "https://console.example.org/s3/object/nb?prefix=runs%2Fd%2Fmanual__1%3A2%2B3%2Ft%2Ftry-1%2Fa%20b.ipynb"
    )


def test_viewer_link_quotes_the_key_and_names_the_connection(
    airflow_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bookstore.airflow.links import S3, VIEWER, link_kind, viewer_url

    key = "runs/d/manual__1:2+3/t/try-1/a b.ipynb"

    assert viewer_url(key, "v1", "bookstore_default", "http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/bookstore/executed/runs/d/manual__1%3A2%2B3/t/try-1/a%20b.ipynb"
        "?version_id=v1&conn_id=bookstore_default"
    )
    # Without [api] base_url, relative to Airflow's UI, which opens same-origin links itself.
    assert viewer_url(key, None, "other conn") == (
        "/bookstore/executed/runs/d/manual__1%3A2%2B3/t/try-1/a%20b.ipynb?conn_id=other+conn"
    )
    assert link_kind() == VIEWER
    monkeypatch.setenv("AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK", " S3 ")
    assert link_kind() == S3
    monkeypatch.setenv("AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK", "console")
    assert link_kind() == VIEWER
    assert "executed_notebook_link is 'console', not one of viewer, s3" in caplog.text


def test_publications_gathered_into_one_run_all_run_and_none_twice(
    connection: str, store: S3Store, area: Area
) -> None:
    """Airflow puts the publications that arrive while its scheduler is busy into one DAG run:
    the task runs each of them, oldest first. A publication announced again (a triggerer
    stopped between announcing it and recording that) is not run a second time.

    The task's context is built here: a scheduler that is busy at the right moment is what
    cannot be arranged on purpose (tests/test_publish_to_run.py has the real thing)."""
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowSkipException

    from bookstore.airflow.operators import PublishedNotebookOperator

    operator = PublishedNotebookOperator(task_id="run", notebook_key=KEY, parameters={"x": 1})
    first = store.put(area.key, parameterized_notebook("first"))
    second = store.put(area.key, parameterized_notebook("second"))

    def context(run_id: str, *versions: str) -> Any:
        events = [
            SimpleNamespace(
                timestamp=datetime(2026, 11, 28, 3, n, tzinfo=UTC),
                extra={
                    "from_trigger": True,
                    "payload": {"bucket": store.bucket, "key": area.key, "version_id": v},
                },
            )
            for n, v in enumerate(versions)
        ]
        ti = SimpleNamespace(
            dag_id="on_publish",
            run_id=run_id,
            task_id="run",
            map_index=-1,
            try_number=1,
            xcom_push=lambda **_: None,
        )
        return {"ti": ti, "triggering_asset_events": {"asset": events[::-1]}, "outlet_events": {}}

    both = operator.execute(context("asset_triggered__1", first, second))
    again = context("asset_triggered__2", second)

    assert both["source_version_id"] == second
    assert [earlier["source_version_id"] for earlier in both["earlier_versions"]] == [first]
    assert "/version-" in both["earlier_versions"][0]["output_key"]
    assert "ran first with x = 1" in cell_text(
        executed(store.get(both["earlier_versions"][0]["output_key"]).body)
    )
    with pytest.raises(AirflowSkipException, match="already ran from its publication"):
        operator.execute(again)
    library = operator.hook.library
    runs = library.runs.page(library.notebook_key(KEY)).runs
    assert sorted(r.source_version_id for r in runs if r.published_event) == sorted([first, second])


# -- the publication watcher ----------------------------------------------------------------


@pytest.fixture
def key() -> str:
    """A published key no other test uses."""
    return f"published/kylek/notebooks/{uuid.uuid4().hex[:8]}/mine.ipynb"


def publish_version(store: S3Store, key: str, label: str) -> str:
    version = store.put(key, parameterized_notebook(label), {"bookstore-published-by": "alice"})
    assert version
    return version


def test_versions_newer_than_the_cursor_come_oldest_first(
    airflow_home: Path, s3_server: SeaweedFS, bucket: str, key: str
) -> None:
    """Which versions the publication watcher announces, in which order, where it starts."""
    from bookstore.airflow.triggers import unannounced_versions

    store = s3_server.store(bucket)
    assert unannounced_versions(store, key, None) == ([], {"version_id": None, "last_modified": None})
    first = publish_version(store, key, "first")

    new, latest = unannounced_versions(store, key, None)  # first look: where to start
    assert new == [] and latest["version_id"] == first

    second, third = publish_version(store, key, "second"), publish_version(store, key, "third")
    new, latest = unannounced_versions(store, key, latest)
    assert [version for version, _ in new] == [second, third] and latest["version_id"] == third
    # Nothing published yet when the watcher started: the first publication is new.
    new, _ = unannounced_versions(store, key, {"version_id": None, "last_modified": None})
    assert [version for version, _ in new] == [first, second, third]
    # The cursor's version deleted since: what is older than it is not announced again
    # (S3 times are in whole seconds: the older versions are a second and more older).
    time.sleep(1.5)
    fourth = publish_version(store, key, "fourth")
    _, latest = unannounced_versions(store, key, latest)
    gone = {"version_id": "deleted-version", "last_modified": latest["last_modified"]}
    assert [version for version, _ in unannounced_versions(store, key, gone)[0]] == [fourth]


class Memory:
    """An asset state store kept in memory, as the triggerer's is kept in its database."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def aget(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    async def aset(self, name: str, value: Any) -> None:
        self.values[name] = value


async def events(trigger: Any, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stream: AsyncIterator[Any] = trigger.run()

    async def collect() -> None:
        async for event in stream:
            found.append(event.payload)
            if len(found) == count:
                return

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        pass
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return found


def test_the_watcher_announces_each_publication_once_across_restarts(
    airflow_home: Path, s3_server: SeaweedFS, bucket: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher driven directly (a triggerer runs it in ``tests/test_publish_to_run.py``)."""
    from bookstore.airflow.triggers import CURSOR, PublishedVersionTrigger

    monkeypatch.setenv(
        "AIRFLOW_CONN_BOOKSTORE_DEFAULT",
        connection_json(s3_server, bucket),
    )
    store = s3_server.store(bucket)
    before = publish_version(store, key, "before")
    state = Memory()
    notebook_key = key.removeprefix("published/")

    def watcher() -> Any:
        trigger = PublishedVersionTrigger(notebook_key=notebook_key, poll_interval=0.2)
        trigger.asset_state_store = state  # type: ignore[assignment]
        return trigger

    # First start: it starts from what is published, announcing nothing.
    assert asyncio.run(events(watcher(), 1, timeout=3)) == []
    assert state.values[CURSOR]["version_id"] == before
    # Stopped; two publications meanwhile; started again and stopped right after announcing
    # the first of them, before the poll that records it: the next start announces it again.
    second, third = publish_version(store, key, "second"), publish_version(store, key, "third")
    assert [event["version_id"] for event in asyncio.run(events(watcher(), 1))] == [second]
    assert state.values[CURSOR]["version_id"] == before
    # Started again: both, in order, one poll apart, each recorded once announced.
    announced = asyncio.run(events(watcher(), 3, timeout=7))
    assert [event["version_id"] for event in announced] == [second, third]
    assert state.values[CURSOR]["version_id"] == third
    assert announced[0] == {
        "notebook_key": notebook_key,
        "bucket": bucket,
        "key": key,
        "version_id": second,
        "published_at": announced[0]["published_at"],
        "published_by": "alice",
        "source_version_id": None,
    }
    assert asyncio.run(events(watcher(), 1, timeout=3)) == []
