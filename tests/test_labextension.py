"""The JupyterLab extension in a real browser: publish, browse the history, view, restore,
and browse the team's published notebooks.

A real JupyterLab (with bookstore archiving to a real SeaweedFS bucket) is driven by
Playwright in Debian's headless Chromium. The screenshots it takes are the docs' (and the README's): set
``BOOKSTORE_SCREENSHOT_DIR=docs/images`` to refresh them, otherwise they go to a temporary
folder.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bookstore.publishing import Published
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.browser import (
    KERNELSPEC,
    NAME,
    PATH,
    ROOT,
    open_notebook,
    publish_from_toolbar,
    quiet_lab_settings,
    start_lab,
    versions,
)
from tests.helpers.jupyter_process import JupyterServer, notebook, seed_config, with_parameters
from tests.helpers.team import library_of, team_config

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(jupyter_factory: Any, s3_server: SeaweedFS, bucket: str, tmp_path: Path) -> JupyterServer:
    return start_lab(jupyter_factory, tmp_path, seed_config(s3_server, bucket))


def cell_source(server: JupyterServer, path: str = PATH) -> str:
    saved = json.loads((server.root_dir / path).read_text())
    return "".join(saved["cells"][0]["source"])


def version_menu(page: Page, row: Locator) -> Locator:
    """Open a version's ⋯ menu: the actions other than Open."""
    row.get_by_role("button", name="More actions").click()
    menu = page.locator(".jp-bookstore-VersionMenu")
    expect(menu).to_be_visible()
    return menu


def catalog_menu(page: Page, row: Locator) -> Locator:
    """Open a published notebook's ⋯ menu: the actions other than Open."""
    row.get_by_role("button", name="More actions").click()
    menu = page.locator(".jp-bookstore-CatalogMenu")
    expect(menu).to_be_visible()
    return menu


def publish_as(store: S3Store, user: str, path: str, source: str) -> Published:
    """Publish a notebook as ``user`` does from their own server (the same library)."""
    content = json.dumps(notebook(source, kernelspec=KERNELSPEC)).encode()
    return library_of(store, user).publish_saved(path, content, published_by=user)


def show_published_notebooks(page: Page) -> Locator:
    """File ▸ Show Published Notebooks: the team's catalog in the left side panel."""
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text="Show Published Notebooks").click()
    catalog = page.locator("#jp-bookstore-catalog")
    expect(catalog).to_be_visible()
    return catalog


def test_labextension_is_installed_and_enabled() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "jupyterlab.labextensions", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(rf"{NAME} v\S+ enabled\s+OK", output), output


def test_labextension_version_matches_python_package() -> None:
    from bookstore import __version__

    package = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert package["version"] == __version__


def test_publish_history_view_and_restore_in_jupyterlab(
    lab: JupyterServer, browser: Browser, screenshots: Path
) -> None:
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, notebook("x = 1\nprint(x)", kernelspec=KERNELSPEC))
    lab.wait_archived()
    page = browser.new_page(
        viewport={"width": 1440, "height": 860}, permissions=["clipboard-read", "clipboard-write"]
    )
    open_notebook(page, lab, PATH)

    # Edit the cell and save with the keyboard, as a person does.
    editor = page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("x = 2\nprint(x)")
    page.keyboard.press("Control+s")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0, timeout=30_000)
    assert cell_source(lab) == "x = 2\nprint(x)"

    # Publish is in the File menu too (and the command palette).
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    expect(page.locator(".lm-Menu-itemLabel", has_text="Publish Notebook")).to_be_visible()
    expect(page.locator(".lm-Menu-itemLabel", has_text="Show Version History")).to_be_visible()
    page.keyboard.press("Escape")

    # Publish from the notebook toolbar: the dialog shows the published version id.
    dialog, published = publish_from_toolbar(page, lab)
    expect(dialog).to_contain_text("published/kylek/notebooks/analysis/mine.ipynb")
    dialog.locator(".jp-bookstore-Published-copy").click()
    expect(dialog.locator(".jp-bookstore-Published-copy")).to_have_text("Copied")
    page.screenshot(path=screenshots / "publish-dialog.png")
    # The first save and the edited one; one more when the kernel's metadata (language_info)
    # arrived after Ctrl+S, since Publish saves unsaved changes first.
    lab.wait_archived()
    saved = versions(lab, "workspace")
    assert len(saved) in (2, 3), saved

    # "Show history" opens the side panel on the published version.
    dialog.get_by_role("button", name="Show history").click()
    history = page.locator("#jp-bookstore-history")
    expect(history).to_be_visible()
    expect(history.locator(".jp-bookstore-Version")).to_have_count(1, timeout=30_000)
    expect(history.locator(".jp-bookstore-Version").first).to_contain_text("latest")

    # The published version links to the save it was published from.
    source = published[0]["source_version_id"]
    assert source == saved[0]["version_id"]
    history.locator(".jp-bookstore-Version-source").click()
    rows = history.locator(".jp-bookstore-VersionList[data-stage='workspace'] .jp-bookstore-Version")
    expect(rows).to_have_count(len(saved), timeout=30_000)
    source_row = history.locator(".jp-bookstore-Version.jp-mod-highlighted")
    expect(source_row).to_have_attribute("data-version-id", source)

    # Publishing that save again publishes nothing new, and says so; Publish anyway does.
    version_menu(page, source_row).get_by_role("menuitem", name="Publish this save").click()
    again = page.locator(".jp-Dialog")
    expect(again).to_contain_text("Already published: version", timeout=30_000)
    expect(again).to_contain_text("(nothing new was published)")
    expect(again.locator(".jp-bookstore-Published-versionId")).to_have_value(published[0]["version_id"])
    assert len(versions(lab, "published")) == 1
    again.get_by_role("button", name="Publish anyway").click()
    expect(page.locator(".jp-Dialog")).to_contain_text("Published mine.ipynb", timeout=30_000)
    republished = versions(lab, "published")
    assert len(republished) == 2
    expect(page.locator(".jp-Dialog .jp-bookstore-Published-versionId")).to_have_value(
        republished[0]["version_id"]
    )
    page.locator(".jp-Dialog").get_by_role("button", name="Close").click()
    expect(history.get_by_test_id("outcome")).to_contain_text("Published version")

    # Every save is in the workspace history, newest first, the newest marked latest.
    history.locator(".jp-bookstore-Tab[data-stage='workspace']").click()
    expect(rows).to_have_count(len(saved), timeout=30_000)
    assert [row.get_attribute("data-version-id") for row in rows.all()] == [v["version_id"] for v in saved]
    expect(rows.first.locator(".jp-bookstore-Badge")).to_have_text("latest")
    expect(rows.last.locator(".jp-bookstore-Badge")).to_have_count(0)
    expect(history.get_by_test_id("health")).to_contain_text("All saves are archived")
    # Each version is two lines high, its less common actions in its ⋯ menu.
    first_row = rows.first.bounding_box()
    assert first_row is not None and first_row["height"] < 60, first_row
    older = history.locator(f".jp-bookstore-Version[data-version-id='{saved[-1]['version_id']}']")
    menu = version_menu(page, older)
    for action in ("Compare…", "Restore as copy", "Replace…", "Publish this save", "Copy version id"):
        expect(menu.get_by_role("menuitem", name=action)).to_be_visible()
    page.screenshot(path=screenshots / "history-panel.png")

    # Copy a version id: the full id goes to the clipboard.
    menu.get_by_role("menuitem", name="Copy version id").click()
    expect(history.get_by_test_id("outcome")).to_contain_text("Copied version id")
    assert page.evaluate("navigator.clipboard.readText()") == saved[-1]["version_id"]

    # Open the older save read-only: its cell is the first version's.
    older.get_by_role("button", name="Open").click()
    view = page.locator(".jp-bookstore-VersionView").last
    expect(view).to_be_visible(timeout=30_000)
    expect(view.locator(".jp-Cell").first).to_contain_text("x = 1")
    page.screenshot(path=screenshots / "version-view.png")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(view).to_have_count(0)

    # Compare the older save with the notebook as saved now: nbdime's notebook diff.
    version_menu(page, older).get_by_role("menuitem", name="Compare…").click()
    choose = page.locator(".jp-Dialog")
    expect(choose.locator("select.jp-bookstore-CompareWith option").first).to_have_text(
        "the notebook as saved now"
    )
    choose.get_by_role("button", name="Compare").click()
    diff = page.locator(".jp-bookstore-DiffView").last
    expect(diff.locator(".jp-bookstore-DiffView-summary")).to_contain_text("1 cell changed", timeout=30_000)
    expect(diff.locator(".jp-bookstore-DiffView-base")).to_contain_text("save of")
    expect(diff.locator(".jp-bookstore-DiffView-remote")).to_contain_text("the notebook as saved now")
    expect(diff.locator(".jp-Cell-diff").first).to_contain_text("x = 1")
    expect(diff.locator(".jp-Cell-diff").first).to_contain_text("x = 2")
    page.screenshot(path=screenshots / "compare-view.png")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(diff).to_have_count(0)

    # Restore the older save over the notebook, after confirming (from its right-click menu).
    older.click(button="right")
    page.locator(".lm-Menu").get_by_role("menuitem", name="Replace…").click()
    confirm = page.locator(".jp-Dialog")
    expect(confirm).to_contain_text("Replace mine.ipynb?")
    confirm.get_by_role("button", name="Replace").click()
    expect(history.get_by_test_id("outcome")).to_contain_text("Replaced mine.ipynb", timeout=30_000)
    assert cell_source(lab) == "x = 1\nprint(x)"
    # The open notebook shows what is on disk now, and the restore is itself a new save.
    expect(page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first).to_contain_text("x = 1")
    expect(rows).to_have_count(len(saved) + 1, timeout=30_000)
    lab.wait_archived()
    assert len(versions(lab, "workspace")) == len(saved) + 1

    # Restore the oldest save as a copy beside it: it opens, the notebook stays as it is.
    version_menu(page, older).get_by_role("menuitem", name="Restore as copy").click()
    expect(history.get_by_test_id("outcome")).to_contain_text("analysis/mine-restored.ipynb", timeout=30_000)
    expect(page.locator(".lm-TabBar-tab", has_text="mine-restored.ipynb")).to_have_count(1)
    assert cell_source(lab, "analysis/mine-restored.ipynb") == "x = 1\nprint(x)"
    page.close()


def test_publish_dialog_tags_the_parameters_cell(
    lab: JupyterServer, browser: Browser, screenshots: Path
) -> None:
    # A notebook whose second cell assigns its parameters, untagged: a run given parameters
    # would be refused.
    content = notebook('region = "EU"  # sales region\nlimit: int = 10', kernelspec=KERNELSPEC)
    content["cells"].insert(0, nbformat.v4.new_markdown_cell("# Sales report"))
    content["cells"] += notebook("print('sales report for', region, limit)")["cells"]
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, content)
    lab.wait_archived()
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    open_notebook(page, lab, PATH)

    # Publishing shows the warning, what the cell assigns, and offers to tag it.
    dialog, published = publish_from_toolbar(page, lab)
    section = dialog.get_by_test_id("parameters")
    expect(section).to_contain_text("No cell is tagged parameters, so a run given parameters will be refused")
    expect(section).to_contain_text("Cell 2 assigns region, limit")
    expect(section.locator("[data-parameter='region']")).to_contain_text("sales region")
    tag = dialog.get_by_role("button", name="Tag cell 2 as parameters")
    expect(tag).to_be_visible()
    page.screenshot(path=screenshots / "publish-dialog-untagged.png")

    # Tagging saves the notebook and publishes it again: the dialog lists the parameters.
    tag.click()
    again = page.locator(".jp-Dialog")
    expect(again).to_contain_text("Published mine.ipynb", timeout=60_000)
    parameters = again.get_by_test_id("parameters")
    expect(parameters).to_contain_text("cell 2 (tagged parameters) declares", timeout=60_000)
    expect(parameters.locator("tbody tr")).to_have_count(2)
    region = parameters.locator("[data-parameter='region'] td")
    expect(region).to_have_text(["region", "", '"EU"', "sales region"])
    limit = parameters.locator("[data-parameter='limit'] td")
    expect(limit).to_have_text(["limit", "int", "10", ""])
    expect(again.get_by_role("button", name=re.compile("^Tag cell"))).to_have_count(0)
    page.screenshot(path=screenshots / "publish-dialog-parameters.png")

    # The saved notebook has the tag on that cell only, and so has the new published version.
    saved = json.loads((lab.root_dir / PATH).read_text())
    assert [cell["metadata"].get("tags", []) for cell in saved["cells"]] == [[], ["parameters"], []]
    republished = versions(lab, "published")
    assert len(republished) == 2
    expect(again.locator(".jp-bookstore-Published-versionId")).to_have_value(republished[0]["version_id"])
    declared = lab.request("GET", f"/api/bookstore/parameters/{PATH}?stage=published").json()
    assert declared["cell"] == 1
    assert [p["name"] for p in declared["parameters"]] == ["region", "limit"]
    assert published[0]["version_id"] != republished[0]["version_id"]
    again.get_by_role("button", name="Close").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    # A server that cannot answer the parameters (one older than the endpoint answers 404)
    # still publishes, and the dialog shows the publication without the section.
    page.route(
        re.compile(r".*/api/bookstore/parameters/.*"),
        lambda route: route.fulfill(status=404, json={"message": "Not Found", "reason": "Not Found"}),
    )
    page.locator("[data-jp-item-name='bookstore-publish']").click()
    unchanged = page.locator(".jp-Dialog")
    expect(unchanged).to_contain_text("mine.ipynb is already published", timeout=60_000)
    expect(unchanged.locator(".jp-bookstore-Published-versionId")).to_have_value(republished[0]["version_id"])
    expect(unchanged.get_by_test_id("parameters")).to_have_count(0)
    unchanged.get_by_role("button", name="Close").click()
    page.close()


def test_jupyterlab_says_what_to_do_when_s3_refuses(
    jupyter_factory: Any,
    s3_server: SeaweedFS,
    bucket: str,
    tmp_path: Path,
    browser: Browser,
    screenshots: Path,
) -> None:
    home = tmp_path / "jupyter"
    quiet_lab_settings(home)
    lab = jupyter_factory(
        seed_config(s3_server, bucket, secret_key="not-the-secret"), home=home, other_extensions=True
    )
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, notebook("x = 1", kernelspec=KERNELSPEC))
    page = browser.new_page(viewport={"width": 1440, "height": 860})
    open_notebook(page, lab, PATH)

    # The history panel says the save is kept and retried, with S3's own error.
    page.locator(".jp-SideBar [data-id='jp-bookstore-history']").click()
    history = page.locator("#jp-bookstore-history")
    health = history.get_by_test_id("health")
    expect(health).to_contain_text("is failing", timeout=30_000)
    expect(health).to_contain_text("kept on this server and retried")
    expect(health).to_contain_text("check the access key id and secret")
    listing = history.locator(".jp-bookstore-VersionList .jp-bookstore-Notice-error")
    expect(listing).to_contain_text("fix bookstore's bucket settings")
    page.screenshot(path=screenshots / "history-s3-failing.png")

    # Publishing fails with a dialog that says why; nothing was published.
    page.locator("[data-jp-item-name='bookstore-publish']").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Could not publish mine.ipynb", timeout=60_000)
    expect(dialog).to_contain_text("S3 refused the credentials")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    page.close()


def test_publish_and_history_in_notebook_7(lab: JupyterServer, browser: Browser, screenshots: Path) -> None:
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, notebook("x = 1", kernelspec=KERNELSPEC))
    lab.wait_archived()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{lab.url}/notebooks/{PATH}?token={lab.token}")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=60_000)

    dialog, published = publish_from_toolbar(page, lab)
    # Its one cell assigns x, untagged: Notebook 7 offers to tag it too (in the open notebook).
    expect(dialog.get_by_test_id("parameters")).to_contain_text("No cell is tagged parameters")
    expect(dialog.get_by_role("button", name="Tag cell 1 as parameters")).to_be_visible()

    # "Show history" opens Notebook 7's right side panel on the published version.
    dialog.get_by_role("button", name="Show history").click()
    history = page.locator("#jp-bookstore-history")
    expect(history).to_be_visible(timeout=30_000)
    rows = history.locator(".jp-bookstore-VersionList[data-stage='published'] .jp-bookstore-Version")
    expect(rows).to_have_count(1, timeout=30_000)
    expect(rows.first).to_have_attribute("data-version-id", published[0]["version_id"])
    page.screenshot(path=screenshots / "notebook7-history.png")

    # Notebook 7 keeps its page for the notebook: a comparison opens in a dialog over it.
    lab.save(PATH, notebook("x = 2", kernelspec=KERNELSPEC))
    version_menu(page, rows.first).get_by_role("menuitem", name="Compare…").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Compare").click()
    shown = page.locator(".jp-bookstore-ViewDialog .jp-bookstore-DiffView")
    expect(shown.locator(".jp-bookstore-DiffView-summary")).to_contain_text("1 cell changed", timeout=30_000)
    expect(shown.locator(".jp-Cell-diff").first).to_contain_text("x = 2")
    expect(shown.locator(".jp-Cell-diff").first).to_be_in_viewport()
    page.locator(".jp-bookstore-ViewDialog").get_by_role("button", name="Close").click()
    expect(shown).to_have_count(0)

    # The team's catalog is in Notebook 7's left panel; with the seed's static prefixes the
    # key names no owner, so there is one list without owner headers.
    catalog = show_published_notebooks(page)
    entries = catalog.locator(".jp-bookstore-CatalogEntry")
    expect(entries).to_have_count(1, timeout=30_000)
    expect(entries.first).to_have_attribute("data-notebook-key", f"kylek/notebooks/{PATH}")
    expect(catalog.locator(".jp-bookstore-CatalogGroup-header")).to_have_count(0)
    # A published notebook opens read-only in a dialog too.
    entries.first.get_by_role("button", name="Open").click()
    viewed = page.locator(".jp-bookstore-ViewDialog .jp-bookstore-VersionView")
    expect(viewed.locator(".jp-Cell").first).to_contain_text("x = 1", timeout=30_000)
    page.locator(".jp-bookstore-ViewDialog").get_by_role("button", name="Close").click()
    expect(viewed).to_have_count(0)
    page.close()


def test_team_catalog_in_jupyterlab(
    jupyter_factory: Any,
    s3_server: SeaweedFS,
    bucket: str,
    store: S3Store,
    tmp_path: Path,
    browser: Browser,
    screenshots: Path,
) -> None:
    # alice's server, with one configuration for the whole team; bob and carol published
    # from theirs (through the same library their servers use).
    config = team_config(s3_server, bucket) + 'c.Bookstore.username = "alice"\n'
    lab = start_lab(jupyter_factory, tmp_path, config)
    publish_as(store, "bob", PATH, "x = 10\nprint(x)")
    bobs = publish_as(store, "bob", PATH, "x = 20\nprint(x)")
    publish_as(store, "bob", "forecast/Q3 forecast.ipynb", "import math")
    publish_as(store, "carol", "etl/load_orders.ipynb", "rows = 42")
    bob_key = f"bob/notebooks/{PATH}"

    # alice publishes her own analysis/mine.ipynb from the toolbar.
    (lab.root_dir / "analysis").mkdir()
    lab.save(PATH, notebook("x = 1\nprint(x)", kernelspec=KERNELSPEC))
    lab.wait_archived()
    page = browser.new_page(
        viewport={"width": 1440, "height": 860}, permissions=["clipboard-read", "clipboard-write"]
    )
    open_notebook(page, lab, PATH)
    dialog, _ = publish_from_toolbar(page, lab)
    dialog.get_by_role("button", name="Close").click()

    # The catalog lists everyone's latest publication, by owner: alice's own marked "you".
    catalog = show_published_notebooks(page)
    # Wider than JupyterLab's default side panel, as one would drag it, to show whole keys.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first.bounding_box()
    assert handle is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + 200)
    page.mouse.down()
    page.mouse.move(handle["x"] + 140, handle["y"] + 200, steps=5)
    page.mouse.up()
    rows = catalog.locator(".jp-bookstore-CatalogEntry")
    expect(rows).to_have_count(4, timeout=30_000)
    groups = catalog.locator(".jp-bookstore-CatalogGroup-header")
    expect(groups).to_have_count(3)
    expect(groups.nth(0)).to_contain_text("alice")
    expect(groups.nth(0).locator(".jp-bookstore-Badge")).to_have_text("you")
    expect(groups.nth(1)).to_contain_text("bob")
    expect(catalog.locator(".jp-bookstore-Catalog-summary")).to_have_text("4 notebooks by 3 people")
    bobs_row = catalog.locator(f".jp-bookstore-CatalogEntry[data-notebook-key='{bob_key}']")
    expect(bobs_row).to_have_attribute("data-version-id", bobs.version_id or "")
    # Its path in bob's notebooks, whole (the notebook_key in its tooltip).
    expect(bobs_row.locator(".jp-bookstore-CatalogEntry-path")).to_have_text("analysis/mine.ipynb")
    expect(bobs_row.locator(".jp-bookstore-CatalogEntry-path")).to_have_attribute("title", bob_key)
    when = bobs_row.locator(".jp-bookstore-CatalogEntry-time")
    expect(when).to_have_attribute("title", re.compile(r"^Published \d{4}-\d\d-\d\d .* by bob"))
    # A dense row, as in the file browser.
    box = bobs_row.bounding_box()
    assert box is not None and box["height"] < 60, box

    # The filter is over owner and path.
    search = catalog.get_by_label("Filter published notebooks by owner or path")
    search.fill("carol")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-notebook-key", "carol/notebooks/etl/load_orders.ipynb")
    search.fill("analysis mine")
    expect(rows).to_have_count(2)
    search.fill("")
    expect(rows).to_have_count(4)

    menu = catalog_menu(page, bobs_row)
    for action in (
        "Copy into my notebooks",
        "Compare with my notebook…",
        "Copy notebook_key",
        "Copy version id",
        "Copy DAG snippet",
        "Details…",
    ):
        expect(menu.get_by_role("menuitem", name=action)).to_be_visible()
    page.screenshot(path=screenshots / "catalog-panel.png")

    # Copy its notebook_key and version id: what a DAG needs.
    menu.get_by_role("menuitem", name="Copy notebook_key").click()
    outcome = catalog.get_by_test_id("catalog-outcome")
    expect(outcome).to_contain_text(f"Copied notebook_key {bob_key}")
    assert page.evaluate("navigator.clipboard.readText()") == bob_key
    bobs_row.click(button="right")
    page.locator(".lm-Menu").get_by_role("menuitem", name="Copy DAG snippet").click()
    expect(outcome).to_contain_text("Copied the DAG line")
    assert page.evaluate("navigator.clipboard.readText()") == (
        f'PublishedNotebookOperator(task_id="mine", notebook_key="{bob_key}", version_id="{bobs.version_id}")'
    )

    # Open bob's latest version read-only.
    bobs_row.get_by_role("button", name="Open").click()
    view = page.locator(".jp-bookstore-VersionView").last
    expect(view.locator(".jp-Cell").first).to_contain_text("x = 20", timeout=30_000)
    expect(view.locator(".jp-bookstore-VersionView-label")).to_contain_text("by bob")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(view).to_have_count(0)

    # Compare it with alice's notebook of the same name, offered first.
    catalog_menu(page, bobs_row).get_by_role("menuitem", name="Compare with my notebook…").click()
    choose = page.locator(".jp-Dialog")
    expect(choose.get_by_label("Path of your notebook")).to_have_value(PATH)
    choose.get_by_role("button", name="Compare").click()
    diff = page.locator(".jp-bookstore-DiffView").last
    expect(diff.locator(".jp-bookstore-DiffView-summary")).to_contain_text("1 cell changed", timeout=30_000)
    expect(diff.locator(".jp-bookstore-DiffView-base")).to_contain_text(bob_key)
    expect(diff.locator(".jp-bookstore-DiffView-remote")).to_contain_text(f"{PATH} as saved now")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(diff).to_have_count(0)

    # Copy it into alice's own notebooks, in the folder it was in, beside her own notebook of
    # that name, not over it: the copy opens, hers to edit and publish.
    catalog_menu(page, bobs_row).get_by_role("menuitem", name="Copy into my notebooks").click()
    expect(outcome).to_contain_text("Copied mine.ipynb (bob) into analysis/mine-copy.ipynb", timeout=30_000)
    assert cell_source(lab, "analysis/mine-copy.ipynb") == "x = 20\nprint(x)"
    assert cell_source(lab, PATH) == "x = 1\nprint(x)"
    expect(page.locator(".lm-TabBar-tab.jp-mod-current", has_text="mine-copy.ipynb")).to_have_count(1)
    page.close()


def test_runs_of_published_versions_in_jupyterlab(
    jupyter_factory: Any,
    s3_server: SeaweedFS,
    bucket: str,
    store: S3Store,
    tmp_path: Path,
    browser: Browser,
    screenshots: Path,
) -> None:
    from bookstore.library import Library
    from bookstore.runner import NotebookFailedError, run_published
    from tests.helpers.notebooks import ensure_python3_kernel

    ensure_python3_kernel()
    airflow = "http://airflow.example:8080"
    config = seed_config(s3_server, bucket) + f"\nc.Bookstore.airflow_url = {airflow!r}\n"
    lab = start_lab(jupyter_factory, tmp_path, config)
    # The bucket as Airflow's connection sees it: notebook keys under the published root.
    library = Library(store, published_prefix="published")
    notebook_key = f"kylek/notebooks/{PATH}"

    def publish(source: str) -> str:
        lab.save(PATH, with_parameters(source, kernelspec=KERNELSPEC))
        answer = lab.request("PUT", f"/api/bookstore/publish/{PATH}", json={})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["version_id"])

    (lab.root_dir / "analysis").mkdir()
    first = publish("print('result', x)")
    task = {
        "dag_id": "reports",
        "run_id": "manual__2026-11-28T00:00:00+00:00",
        "task_id": "mine",
        "try_number": 1,
    }
    by_airflow = run_published(
        library, notebook_key, parameters={"x": 5}, airflow=task, kernel_name="python3"
    )
    second = publish("print('result', x * 2)\nraise ValueError('no data for ' + str(x))")
    with pytest.raises(NotebookFailedError) as failed:
        run_published(library, notebook_key, parameters={"x": 7}, kernel_name="python3")
    by_hand = failed.value.result
    assert by_hand is not None

    page = browser.new_page(viewport={"width": 1440, "height": 860})
    open_notebook(page, lab, PATH)
    page.locator(".jp-SideBar [data-id='jp-bookstore-history']").click()
    history = page.locator("#jp-bookstore-history")
    tab = history.get_by_role("tab", name="Runs")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    rows = history.locator(".jp-bookstore-RunList .jp-bookstore-Run")
    expect(rows).to_have_count(2, timeout=30_000)

    # Newest first: the failed run by hand, with its error's first line and no Airflow link.
    failing, succeeded = rows.nth(0), rows.nth(1)
    expect(failing).to_have_attribute("data-run-id", by_hand.run_id)
    expect(failing.locator(".jp-bookstore-Run-status")).to_have_text("failed")
    expect(failing.locator(".jp-bookstore-Run-error")).to_contain_text("ValueError: no data for 7")
    expect(failing).to_contain_text("x=7")
    expect(failing).to_contain_text("bookstore run")
    expect(failing.get_by_role("link")).to_have_count(0)
    # The run Airflow made: its parameters, its version as the Published tab shows it, links.
    expect(succeeded).to_have_attribute("data-run-id", by_airflow.run_id)
    expect(succeeded.locator(".jp-bookstore-Run-status")).to_have_text("succeeded")
    expect(succeeded).to_contain_text("x=5")
    expect(succeeded).to_contain_text("DAG reports, task mine")
    version_id = succeeded.locator(".jp-bookstore-Version-id")
    expect(version_id).to_have_text(re.compile(rf"^{re.escape(first[:8])}"))
    expect(succeeded.get_by_role("link", name="Open in Airflow")).to_have_attribute(
        "href", f"{airflow}/dags/reports/runs/manual__2026-11-28T00%3A00%3A00%2B00%3A00/tasks/mine"
    )
    expect(succeeded.get_by_role("link", name="View in Airflow")).to_have_attribute(
        "href", re.compile(rf"^{airflow}/bookstore/executed/")
    )
    assert second != first
    page.screenshot(path=screenshots / "history-runs.png")

    # Open the executed notebook read-only: what ran, with its outputs.
    succeeded.get_by_role("button", name=re.compile("^Open the notebook the run of")).click()
    view = page.locator(".jp-bookstore-VersionView").last
    # The notebook's parameters cell, papermill's injected parameters, then its cell and output.
    expect(view.locator(".jp-Cell").nth(1)).to_contain_text("x = 5", timeout=30_000)
    expect(view.locator(".jp-OutputArea-output")).to_contain_text(["result 5"])
    expect(view.locator(".jp-bookstore-VersionView-label")).to_contain_text("succeeded")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(view).to_have_count(0)

    # Choose two runs and compare them: the earlier one on the left.
    compare = history.locator(".jp-bookstore-Runs-compare").get_by_role("button", name="Compare")
    expect(compare).to_be_disabled()
    succeeded.get_by_role("checkbox").check()
    failing.get_by_role("checkbox").check()
    compare.click()
    diff = page.locator(".jp-bookstore-DiffView").last
    expect(diff.locator(".jp-bookstore-DiffView-summary")).to_contain_text("changed", timeout=30_000)
    expect(diff.locator(".jp-bookstore-DiffView-base")).to_contain_text("succeeded")
    expect(diff.locator(".jp-bookstore-DiffView-remote")).to_contain_text("failed")
    page.screenshot(path=screenshots / "runs-compare.png")
    page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").first.click()
    expect(diff).to_have_count(0)

    # Or compare a run with the one before it, from its ⋯ menu.
    failing.get_by_role("button", name="More actions").click()
    menu = page.locator(".jp-bookstore-VersionMenu")
    expect(menu.get_by_role("menuitem", name="Open in Airflow")).to_have_count(0)
    menu.get_by_role("menuitem", name="Compare with previous run").click()
    diff = page.locator(".jp-bookstore-DiffView").last
    expect(diff.locator(".jp-bookstore-DiffView-base")).to_contain_text("succeeded", timeout=30_000)
    page.close()
