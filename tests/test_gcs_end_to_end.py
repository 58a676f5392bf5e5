"""bookstore on Google Cloud Storage end to end, against a real GCS-API server (fake-gcs-server):
a real ``jupyter server`` archiving and publishing, papermill reading ``bookstore://``, an
Airflow task run from a ``google_cloud_platform`` connection, and JupyterLab's history panel.

What the S3 modules prove of the core (coalescing, faults, schedules, the catalog...) is not
repeated here: one test per thing a backend could break. Version ids are generations
(decimal strings); fake-gcs-server has no authentication, so every client here is anonymous,
as bookstore makes it for an endpoint without a key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bookstore.gcs import GCSStore
from bookstore.library import Library
from devtools.fake_gcs import FakeGCS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import (
    FAST_RETRY,
    PREFIX,
    JupyterServer,
    gcs_config,
    notebook,
    sources,
    started_with_a_save,
    with_parameters,
)
from tests.helpers.notebooks import KEY, cell_text, ensure_python3_kernel, executed, parameterized_notebook

#: The Python kernel the notebooks name, as JupyterLab writes it.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@pytest.fixture
def private_gcs() -> Iterator[FakeGCS]:
    """A GCS-API server of the test's own, for a test that freezes it."""
    server = FakeGCS()
    server.start()
    yield server
    server.kill()


def generations(store: GCSStore, key: str) -> list[str]:
    """The generations of ``key``, oldest first."""
    return [v.version_id or "" for v in reversed(list(store.iter_versions(key)))]


# -- 1. the Jupyter archive ------------------------------------------------------------------


@pytest.mark.slow
def test_saves_while_gcs_is_frozen_become_one_generation_each_in_save_order(
    jupyter_factory: Any, private_gcs: FakeGCS
) -> None:
    """A frozen server holds the uploads sent to it and stores them when it resumes: the
    archive checks what landed before sending again, so no save is stored twice."""
    bucket = private_gcs.create_bucket(new_bucket_name())
    hang = "\nc.BookstoreContentsArchiver.upload_timeout = 1.5\n"
    jupyter = started_with_a_save(jupyter_factory, gcs_config(private_gcs, bucket) + FAST_RETRY + hang)

    private_gcs.pause()
    try:
        for i in range(3):
            jupyter.save("mine.ipynb", notebook(f"during {i}"))  # answered at once: saving never waits
        deadline = time.monotonic() + 30
        while (status := jupyter.status()["archive"])["state"] != "retrying" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status["state"] == "retrying", status
        assert status["pending"] == 3
        assert status["fault"] == "no-answer"
        assert f"GCS bucket '{bucket}'" in status["last_error"]
        assert "did not answer within 1.5 s" in status["last_error"]
    finally:
        private_gcs.resume()

    status = jupyter.wait_archived(timeout=90)
    assert status["archive"]["state"] == "ok"
    store = private_gcs.store(bucket)
    key = f"{PREFIX}/mine.ipynb"
    assert sources(store, key) == ["before", "during 0", "during 1", "during 2"]
    ids = generations(store, key)
    assert all(g.isdigit() for g in ids) and ids == sorted(ids, key=int)
    save_ids = [store.head(key, g).metadata["bookstore-save-id"] for g in ids]
    assert len(set(save_ids)) == len(save_ids) == 4
    listed = jupyter.request("GET", "/api/bookstore/versions/mine.ipynb").json()["versions"]
    assert [v["version_id"] for v in listed] == ids[::-1]


@pytest.mark.slow
def test_an_unversioned_bucket_is_reported_in_the_status_with_the_gcloud_fix(
    jupyter_factory: Any, gcs_server: FakeGCS
) -> None:
    bucket = gcs_server.create_bucket(new_bucket_name(), versioned=False)
    jupyter = jupyter_factory(gcs_config(gcs_server, bucket))
    jupyter.save("mine.ipynb", notebook())

    status = jupyter.wait_archived()

    assert status["backend"] == "gcs"
    assert status["bucket_uri"] == f"gs://{bucket}"
    assert status["versioning"] is None
    fix = f"`gcloud storage buckets update gs://{bucket} --versioning`"
    assert fix in status["versioning_fix"]
    assert fix in jupyter.log()


# -- 2. publish, history, restore and papermill over REST ------------------------------------


@pytest.mark.slow
def test_publish_answers_the_generation_and_papermill_runs_it_by_bookstore_url(
    jupyter_factory: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import papermill

    from bookstore import papermill_io

    ensure_python3_kernel()
    config = gcs_config(gcs_server, gcs_bucket)
    jupyter: JupyterServer = jupyter_factory(config)
    path = "analysis/report.ipynb"
    jupyter.request("PUT", "/api/contents/analysis", json={"type": "directory"})
    published = []
    for label in ("first", "second"):
        jupyter.save(path, with_parameters(f"print('ran {label} with x =', x)", kernelspec=KERNELSPEC))
        answer = jupyter.request("PUT", f"/api/bookstore/publish/{path}", json={})
        assert answer.status_code == 201, answer.text
        published.append(answer.json())
    key = f"published/kylek/notebooks/{path}"
    # The version id is the object's generation, as GCS itself reports it.
    assert published[-1]["key"] == key
    assert published[-1]["version_id"] == str(gcs_server.object_resource(gcs_bucket, key)["generation"])

    listed = jupyter.request("GET", f"/api/bookstore/versions/{path}", params={"stage": "published"})
    assert [v["version_id"] for v in listed.json()["versions"]] == [p["version_id"] for p in published[::-1]]
    first = published[0]["version_id"]
    viewed = jupyter.request(
        "GET", f"/api/bookstore/notebook/{path}", params={"stage": "published", "version_id": first}
    )
    assert viewed.status_code == 200
    assert "ran first" in "".join(viewed.json()["cells"][1]["source"])
    restored = jupyter.request(
        "POST", f"/api/bookstore/restore/{path}", json={"stage": "published", "version_id": first}
    )
    assert restored.status_code == 201, restored.text
    on_disk = json.loads((jupyter.root_dir / restored.json()["path"]).read_text())
    assert "ran first" in "".join(on_disk["cells"][1]["source"])

    # papermill, with the CLI's settings: the Jupyter config file.
    config_file = tmp_path / "bookstore_config.py"
    config_file.write_text(config)
    monkeypatch.setenv("BOOKSTORE_CONFIG", str(config_file))
    papermill_io._library.cache_clear()
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        f"bookstore://kylek/notebooks/{path}?version_id={first}",
        str(output),
        parameters={"x": 5},
        progress_bar=False,
    )
    papermill_io._library.cache_clear()
    assert "ran first with x = 5" in cell_text(executed(output.read_bytes()))


# -- 3. publish -> run through Airflow -------------------------------------------------------


@pytest.mark.airflow
def test_the_operator_runs_latest_and_pinned_generations_from_a_google_cloud_connection(
    airflow_home: Path, gcs_server: FakeGCS, gcs_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    from tests.helpers.airflow_dags import load_dag, xcoms

    store = gcs_server.store(gcs_bucket)
    first = store.put(f"published/{KEY}", parameterized_notebook("first"))
    second = store.put(f"published/{KEY}", parameterized_notebook("second"))
    # As a user writes a connection for an emulator: no key, so requests are anonymous.
    monkeypatch.setenv(
        "AIRFLOW_CONN_BOOKSTORE_DEFAULT",
        json.dumps(
            {
                "conn_type": "google_cloud_platform",
                "extra": {"bucket": gcs_bucket, "endpoint_url": gcs_server.endpoint_url},
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK", "s3")
    dag = load_dag(
        airflow_home,
        "bookstore_gcs_e2e",
        f"""
        PublishedNotebookOperator(task_id="latest", notebook_key={KEY!r}, parameters={{"x": 3}})
        PublishedNotebookOperator(task_id="pinned", notebook_key={KEY!r}, version_id={first!r})
        """,
    )

    dag_run = dag.test()

    assert dag_run.state == "success"
    latest = xcoms(dag_run, "latest")["return_value"]
    pinned = xcoms(dag_run, "pinned")["return_value"]
    assert (latest["source_version_id"], pinned["source_version_id"]) == (second, first)
    for result, label in ((latest, "ran second with x = 3"), (pinned, "ran first with x = 1")):
        assert result["output_key"].startswith(f"runs/bookstore_gcs_e2e/{dag_run.run_id}/")
        assert result["output_version_id"].isdigit()
        output = store.get(result["output_key"], result["output_version_id"])
        assert label in cell_text(executed(output.body))
        assert output.info.metadata["bookstore-source-version-id"] == result["source_version_id"]
    # The run records say which generation ran.
    runs = Library.of_published_root(store, "published").runs.page(KEY).runs
    assert {(run.airflow or {}).get("task_id"): run.source_version_id for run in runs} == {
        "latest": second,
        "pinned": first,
    }
    # The task's link to the bucket opens the executed generation on the GCS-API server.
    ti = dag_run.get_task_instance("latest")
    task = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).get_task("latest")
    link = task.get_extra_links(ti, "Executed notebook")
    assert link.startswith(f"{gcs_server.endpoint_url}/storage/v1/b/{gcs_bucket}/o/runs%2F"), link
    assert link.endswith(f"&generation={latest['output_version_id']}")
    opened = requests.get(link, timeout=10)
    assert opened.status_code == 200
    assert "ran second with x = 3" in cell_text(executed(opened.content))


# -- 4. JupyterLab ---------------------------------------------------------------------------


@pytest.mark.browser
def test_the_history_panel_lists_the_generations_of_a_notebook_saved_twice(
    jupyter_factory: Any,
    gcs_server: FakeGCS,
    gcs_bucket: str,
    browser: Any,
    tmp_path: Path,
    screenshots: Path,
) -> None:
    from playwright.sync_api import expect

    from tests.helpers.browser import PATH, open_notebook, start_lab, versions

    lab = start_lab(jupyter_factory, tmp_path, gcs_config(gcs_server, gcs_bucket))
    (lab.root_dir / "analysis").mkdir()
    for i in (1, 2):
        lab.save(PATH, notebook(f"x = {i}", kernelspec=KERNELSPEC))
    lab.wait_archived()
    saved = versions(lab, "workspace")
    assert len(saved) == 2 and all(v["version_id"].isdigit() for v in saved)

    page = browser.new_page(viewport={"width": 1440, "height": 860})
    open_notebook(page, lab, PATH)
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text="Show Version History").click()
    history = page.locator("#jp-bookstore-history")
    expect(history).to_be_visible()
    history.locator(".jp-bookstore-Tab[data-stage='workspace']").click()
    rows = history.locator(".jp-bookstore-VersionList[data-stage='workspace'] .jp-bookstore-Version")
    expect(rows).to_have_count(2, timeout=30_000)
    assert [row.get_attribute("data-version-id") for row in rows.all()] == [v["version_id"] for v in saved]
    expect(rows.first.locator(".jp-bookstore-Badge")).to_have_text("latest")
    expect(history.get_by_test_id("health")).to_contain_text("All saves are archived")
    page.screenshot(path=screenshots / "history-panel-gcs.png")
