"""Scheduling a published notebook from JupyterLab, in a real browser: the Schedule form, the
Schedules tab, Run now and its queued run in the Runs tab, and the catalog's note.

As in test_labextension.py: a real JupyterLab (bookstore archiving to a real SeaweedFS bucket)
driven by Playwright in headless Chromium. No Airflow runs here: Run now writes a run request
into the bucket, and the run is listed as queued until Airflow's watcher starts it (the
Airflow side has tests of its own). The JupyterLab extension is the checkout's own build
when there is one (``npm run build`` in labextension/), else the one installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.conftest import seed_config
from tests.helpers.browser import (
    KERNELSPEC,
    NAME,
    PATH,
    ROOT,
    open_notebook,
    publish_from_toolbar,
    start_lab,
)
from tests.helpers.jupyter_process import JupyterServer, with_parameters

pytestmark = pytest.mark.browser

NOTEBOOK_KEY = f"kylek/notebooks/{PATH}"


def checkout_build_config(folder: Path) -> str:
    """Configuration that serves the checkout's build of the extension, when there is one, before
    the one installed in the environment (JupyterLab takes the first it finds by name)."""
    build = ROOT / "bookstore" / "labextension"
    if not (build / "package.json").exists():
        return ""
    (folder / NAME).parent.mkdir(parents=True, exist_ok=True)
    (folder / NAME).symlink_to(build, target_is_directory=True)
    return f"\nc.LabServerApp.extra_labextensions_path = [{str(folder)!r}]\n"


def test_schedule_a_published_notebook_and_run_it_now(
    jupyter_factory: Any,
    s3_server: SeaweedFS,
    bucket: str,
    store: S3Store,
    tmp_path: Path,
    browser: Browser,
    screenshots: Path,
) -> None:
    config = (
        seed_config(s3_server, bucket)
        + '\nc.Bookstore.username = "kylek"\n'
        + checkout_build_config(tmp_path / "labextensions")
    )
    lab: JupyterServer = start_lab(jupyter_factory, tmp_path, config)
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, with_parameters("print(x, label)", parameters="x = 1\nlabel = 'a'", kernelspec=KERNELSPEC))
    lab.wait_archived()
    # The browser's time zone is the form's default.
    page = browser.new_page(viewport={"width": 1440, "height": 900}, timezone_id="Europe/Paris")
    open_notebook(page, lab, PATH)
    dialog, published = publish_from_toolbar(page, lab)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    # Schedule… is beside Publish in the toolbar (and in the File menu).
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    expect(page.locator(".lm-Menu-itemLabel", has_text="Schedule Notebook…")).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("[data-jp-item-name='bookstore-schedule']").click()
    form = page.locator(".jp-bookstore-ScheduleDialog")
    expect(form).to_be_visible(timeout=30_000)
    expect(form.get_by_label("Name", exact=True)).to_have_value("daily")
    expect(form.get_by_label("Time zone")).to_have_value("Europe/Paris")
    # The parameters the published version declares, pre-filled with their defaults.
    expect(form.get_by_label("x", exact=True)).to_have_value("1")
    expect(form.get_by_label("label", exact=True)).to_have_value("'a'")

    # Daily at 06:30 with x = 3: the form says so in words, with the next three runs.
    form.get_by_label("Time of day").fill("06:30")
    form.get_by_label("x", exact=True).fill("3")
    preview = form.get_by_test_id("schedule-preview")
    expect(preview).to_contain_text("Runs at 06:30 every day (Europe/Paris)")
    expect(preview).to_contain_text("Next runs:")
    assert preview.inner_text().count(" 06:30") == 4, preview.inner_text()
    form.get_by_label("Retries").fill("1")
    form.get_by_label("E-mail on failure").fill("kylek@example.com")

    # What the server refuses is shown in the form, which stays open with what was typed.
    form.get_by_label("label", exact=True).fill("z" * 70_000)
    form.get_by_role("button", name="Save").click()
    error = form.get_by_test_id("schedule-error")
    expect(error).to_contain_text("at most 65536 are accepted", timeout=30_000)
    expect(form.get_by_label("x", exact=True)).to_have_value("3")
    page.screenshot(path=screenshots / "schedule-form-error.png")
    assert store.list_keys("schedules/").keys == ()

    form.get_by_label("label", exact=True).fill("'a'")
    page.screenshot(path=screenshots / "schedule-form.png")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=30_000)

    stored = json.loads(store.get(f"schedules/{NOTEBOOK_KEY}/daily.json").body)
    assert (stored["cron"], stored["timezone"], stored["parameters"]) == (
        "30 6 * * *",
        "Europe/Paris",
        {"x": 3},
    )
    assert (stored["retries"], stored["notify"], stored["version_id"]) == (1, ["kylek@example.com"], None)
    [schedule] = lab.request("GET", f"/api/bookstore/schedules/{PATH}").json()["schedules"]

    # The Schedules tab of the Version history shows it: words, next run, no run yet.
    history = page.locator("#jp-bookstore-history")
    expect(history).to_be_visible()
    tab = history.get_by_role("tab", name="Schedules")
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(history.get_by_test_id("outcome")).to_contain_text("Scheduled daily: it runs at 06:30 every day")
    row = history.locator(".jp-bookstore-Schedule[data-name='daily']")
    expect(row).to_have_attribute("data-dag-id", schedule["dag_id"])
    words = row.locator(".jp-bookstore-Schedule-description")
    expect(words).to_have_text("at 06:30 every day (Europe/Paris)")
    expect(row.locator(".jp-bookstore-Schedule-next")).to_contain_text("next ")
    expect(row.locator(".jp-bookstore-Schedule-next")).to_contain_text(" 06:30")
    expect(row.locator(".jp-bookstore-Schedule-last")).to_have_text("no run yet")
    expect(row).to_contain_text("x=3")
    page.screenshot(path=screenshots / "history-schedules.png")

    # Run now: a run request, and the Runs tab shows the run queued for Airflow.
    row.get_by_role("button", name="Run daily now").click()
    runs_tab = history.get_by_role("tab", name="Runs")
    expect(runs_tab).to_have_attribute("aria-selected", "true", timeout=30_000)
    run_row = history.locator(".jp-bookstore-RunList .jp-bookstore-Run").first
    expect(run_row.locator(".jp-bookstore-Run-status")).to_have_text("queued", timeout=30_000)
    expect(run_row).to_contain_text("run now by kylek, waiting for Airflow to start it")
    expect(run_row).to_contain_text("x=3")
    expect(history.get_by_test_id("outcome")).to_contain_text("Asked Airflow to run daily now")
    page.screenshot(path=screenshots / "history-runs-queued.png")
    [run] = lab.request("GET", f"/api/bookstore/runs/{PATH}").json()["runs"]
    assert (run["status"], run["parameters"], run["requested_by"]) == ("queued", {"x": 3}, "kylek")
    expect(run_row).to_have_attribute("data-run-id", run["run_id"])
    [request] = store.list_keys(f"schedules/{NOTEBOOK_KEY}/@requests/").keys
    assert json.loads(store.get(request.key).body)["request_id"] == run["request_id"]

    # Back in Schedules, the run asked for is the schedule's last.
    tab.click()
    expect(row.locator(".jp-bookstore-Schedule-last")).to_have_text("last queued")

    # Edit it from its ⋯ menu: the form holds the schedule as it is; weekly on Monday instead.
    row.get_by_role("button", name="More actions").click()
    page.locator(".jp-bookstore-VersionMenu").get_by_role("menuitem", name="Edit…").click()
    form = page.locator(".jp-bookstore-ScheduleDialog")
    expect(form.get_by_label("Name", exact=True)).to_have_value("daily", timeout=30_000)
    expect(form.get_by_label("Name", exact=True)).to_have_attribute("readonly", "")
    expect(form.get_by_label("x", exact=True)).to_have_value("3")
    expect(form.get_by_label("Time of day")).to_have_value("06:30")
    form.get_by_label("How often").select_option("weekly")
    form.get_by_label("Day of the week").select_option("Monday")
    expect(form.get_by_test_id("schedule-preview")).to_contain_text("Runs at 06:30 on Monday (Europe/Paris)")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=30_000)
    expect(words).to_have_text("at 06:30 on Monday (Europe/Paris)", timeout=30_000)
    edited = json.loads(store.get(f"schedules/{NOTEBOOK_KEY}/daily.json").body)
    assert (edited["cron"], edited["parameters"], edited["retries"]) == ("30 6 * * 1", {"x": 3}, 1)

    # Disable it from its ⋯ menu: it stays listed, disabled.
    row.get_by_role("button", name="More actions").click()
    page.locator(".jp-bookstore-VersionMenu").get_by_role("menuitem", name="Disable").click()
    next_run = row.locator(".jp-bookstore-Schedule-next")
    expect(next_run).to_have_text("disabled: runs on no schedule", timeout=30_000)
    assert json.loads(store.get(f"schedules/{NOTEBOOK_KEY}/daily.json").body)["enabled"] is False
    row.get_by_role("button", name="More actions").click()
    page.locator(".jp-bookstore-VersionMenu").get_by_role("menuitem", name="Enable").click()
    expect(row.locator(".jp-bookstore-Schedule-next")).to_contain_text("next ", timeout=30_000)

    # The team's catalog notes which published notebooks are scheduled, and when.
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text="Show Published Notebooks").click()
    catalog = page.locator("#jp-bookstore-catalog")
    entry = catalog.locator(f".jp-bookstore-CatalogEntry[data-notebook-key='{NOTEBOOK_KEY}']")
    expect(entry.locator(".jp-bookstore-CatalogEntry-scheduled")).to_have_text(
        "scheduled: Mondays 06:30", timeout=30_000
    )
    page.screenshot(path=screenshots / "catalog-scheduled.png")
    assert published[0]["version_id"]
    page.close()
