"""The executed-notebook viewer, through a running Airflow 3 API server.

One api-server for the module, configured as ``make run`` configures it (SQLite, the
repository's plugins folder, SimpleAuthManager with an ``admin`` user), its
``bookstore_default`` connection pointing at a bucket of the session's SeaweedFS. The
notebook it shows was executed by the runner, as the operator runs it.

Airflow is never imported in this process (``tests/test_airflow.py`` configures Airflow for
the session the first time it is imported); everything here goes through HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import nbformat
import pytest
import requests
from playwright.sync_api import sync_playwright

from bookstore.library import Library
from bookstore.runner import default_output_key, run_published
from bookstore.s3 import S3Store
from devtools.airflow import AirflowServices, connection_json
from devtools.seaweedfs import SeaweedFS
from tests.helpers.browser import CHROMIUM_ARGS, chromium_path
from tests.helpers.notebooks import ensure_python3_kernel, parameterized_notebook

pytestmark = [pytest.mark.browser, pytest.mark.airflow]

NOTEBOOK = "kylek/notebooks/analysis/viewed.ipynb"
DAG_ID = "bookstore_viewer_dag"
RUN_ID = "manual__2026-03-04T00:00:00+00:00"
#: What a browser's navigation asks for.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Airflow:
    url: str
    token: str
    password: str

    def viewer(self, key: str) -> str:
        return f"{self.url}/bookstore/executed/{quote(key, safe='/')}"

    def get(
        self,
        key: str,
        *,
        token: str | None = None,
        cookie: str | None = None,
        browser: bool = False,
        **params: str,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if browser:
            headers["Accept"] = BROWSER_ACCEPT
        cookies = {"_token": cookie} if cookie else {}
        return requests.get(
            self.viewer(key),
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=60,
            allow_redirects=False,
        )


def same_page(url: str, other: str) -> bool:
    """Whether two URLs name the same page (``:`` in a path, percent-encoded or not)."""
    return unquote(url) == unquote(other)


def next_page(url: str) -> str:
    """Where a login URL sends the browser back to."""
    [page] = parse_qs(urlsplit(url).query)["next"]
    return page


@dataclass
class Executed:
    key: str
    version_id: str
    published_key: str


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, s3_server: SeaweedFS, module_bucket: str
) -> Iterator[Airflow]:
    """Airflow's api-server with the bookstore plugin, as ``make run`` starts it."""
    connection = connection_json(
        s3_server.endpoint_url, s3_server.access_key, s3_server.secret_key, module_bucket
    )
    services = AirflowServices(
        tmp_path_factory.mktemp("airflow-viewer"),
        s3_server.endpoint_url,
        s3_server.access_key,
        s3_server.secret_key,
        AIRFLOW_CONN_BOOKSTORE_DEFAULT=connection,
    )
    try:
        services.start("api-server")
        token = services.token  # once the api-server has written the admin's password
        passwords = services.folder / "airflow" / "simple_auth_manager_passwords.json.generated"
        yield Airflow(services.url, token, json.loads(passwords.read_text())["admin"])
    finally:
        services.stop()


@pytest.fixture(scope="module")
def store(s3_server: SeaweedFS, module_bucket: str) -> S3Store:
    return s3_server.store(module_bucket)


@pytest.fixture(scope="module")
def executed(store: S3Store) -> Executed:
    """A published notebook run by the runner under the runs prefix, as a task writes it."""
    ensure_python3_kernel()
    library = Library(store)  # the connection's default prefixes: published, runs
    # Rich output, and a script a hostile notebook could carry (it must never run).
    body = (
        "from IPython.display import HTML, display\n"
        'display(HTML(\'<b id="shown">rich output</b><script>document.body.dataset.ran = "yes"</script>\'))'
    )
    store.put(library.key(NOTEBOOK, "published"), parameterized_notebook("viewer", body=body))
    output_key = default_output_key(NOTEBOOK, [DAG_ID, RUN_ID, "report", "try-1"], library.runs_prefix)
    task_instance = {"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": "report", "try_number": 1}
    result = run_published(
        library,
        NOTEBOOK,
        parameters={"x": 7},
        output_key=output_key,
        log_output=False,
        airflow=task_instance,  # as the operator records it
    )
    assert result.output_version_id
    return Executed(result.output_key, result.output_version_id, library.key(NOTEBOOK, "published"))


# -- authenticated ------------------------------------------------------------------------


def test_a_token_opens_the_rendered_notebook_with_its_outputs(airflow: Airflow, executed: Executed) -> None:
    answer = airflow.get(executed.key, token=airflow.token, version_id=executed.version_id)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "ran viewer with x = 7" in page  # the executed cell's output
    assert '<b id="shown">rich output</b>' in page  # HTML output, rendered as HTML
    # The page's title names the notebook and the task; its header links back to the task.
    assert f"<title>viewed.ipynb · report · {DAG_ID} · executed notebook</title>" in page
    task_url = f"/dags/{DAG_ID}/runs/{quote(RUN_ID, safe='')}/tasks/report"
    assert f'<a id="bookstore-task-link" href="{task_url}">Open this task in Airflow</a>' in page
    # Untrusted content on Airflow's origin: no script of it may act as the user.
    policy = answer.headers["content-security-policy"]
    assert "sandbox" in policy.split("; ")
    assert "default-src 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in answer.headers["cache-control"]


def test_the_browser_session_of_airflows_ui_opens_it(airflow: Airflow, executed: Executed) -> None:
    """Airflow's UI keeps its JWT in the ``_token`` cookie, which a link opened from it sends."""
    answer = airflow.get(executed.key, cookie=airflow.token, version_id=executed.version_id)

    assert answer.status_code == 200, answer.text
    assert "ran viewer with x = 7" in answer.text


def test_without_a_version_the_latest_is_shown(airflow: Airflow, executed: Executed) -> None:
    answer = airflow.get(executed.key, token=airflow.token)

    assert answer.status_code == 200, answer.text
    assert "ran viewer with x = 7" in answer.text


def test_in_a_browser_the_page_renders_but_its_scripts_do_not_run(
    airflow: Airflow, executed: Executed, tmp_path: Path
) -> None:
    """Signed in as Airflow's UI is (its ``_token`` cookie), a user opens the link."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "_token", "value": airflow.token, "url": airflow.url}])
            page = context.new_page()
            answer = page.goto(f"{airflow.viewer(executed.key)}?version_id={executed.version_id}")
            assert answer is not None and answer.status == 200
            assert page.locator("#shown").inner_text() == "rich output"
            assert "ran viewer with x = 7" in page.locator("body").inner_text()
            page.screenshot(path=str(tmp_path / "viewer.png"))
            # The notebook's own script did not run, and the page has no origin of Airflow's:
            # nothing in it could call Airflow's API with the user's session.
            assert page.evaluate("document.body.dataset.ran") is None
            assert page.evaluate("window.origin") == "null"
        finally:
            browser.close()


def test_a_browser_without_a_session_signs_in_to_airflow_and_comes_back_to_the_notebook(
    airflow: Airflow, executed: Executed, tmp_path: Path
) -> None:
    """The Runs tab's "View in Airflow" link, opened by someone not signed in to Airflow."""
    page_url = f"{airflow.viewer(executed.key)}?version_id={executed.version_id}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(page_url)
            # Airflow's own sign-in page, which is to send the browser back afterwards.
            page.wait_for_selector("input[name=password]")
            assert urlsplit(page.url).path == "/auth/login"
            assert same_page(next_page(page.url), page_url)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: same_page(url, page_url))
            assert "ran viewer with x = 7" in page.locator("body").inner_text()
            assert page.title() == f"viewed.ipynb · report · {DAG_ID} · executed notebook"
            page.screenshot(path=str(tmp_path / "viewer-after-login.png"))

            # Its header leads back to the task in Airflow's UI.
            page.locator("#bookstore-task-link").click()
            page.wait_for_url(f"**/dags/{DAG_ID}/runs/**/tasks/report")
            assert urlsplit(page.url).path == f"/dags/{DAG_ID}/runs/{quote(RUN_ID, safe='')}/tasks/report"
        finally:
            browser.close()


def test_a_browser_is_redirected_to_the_login_and_api_clients_keep_their_401(
    airflow: Airflow, executed: Executed
) -> None:
    page_url = f"{airflow.viewer(executed.key)}?version_id={executed.version_id}"
    for cookie in (None, "expired-or-foreign"):  # no session, or one Airflow does not accept
        answer = airflow.get(executed.key, cookie=cookie, browser=True, version_id=executed.version_id)
        assert answer.status_code == 307, answer.text
        location = urlsplit(answer.headers["location"])
        assert location.path == "/api/v2/auth/login"
        assert same_page(next_page(answer.headers["location"]), page_url)
        assert "ran viewer" not in answer.text
        # Airflow's login route takes it as a page of its own to come back to.
        login = requests.get(f"{airflow.url}{answer.headers['location']}", allow_redirects=False, timeout=60)
        assert login.status_code == 307, login.text
        assert same_page(next_page(login.headers["location"]), page_url)

    # A program (a token, or no HTML wanted) is answered, not redirected.
    forged = airflow.get(executed.key, token="not-a-token", browser=True, version_id=executed.version_id)
    assert forged.status_code == 403, forged.text
    assert airflow.get(executed.key, version_id=executed.version_id).status_code == 401


# -- refused ------------------------------------------------------------------------------


def test_without_authentication_nothing_is_shown(airflow: Airflow, executed: Executed) -> None:
    anonymous = airflow.get(executed.key, version_id=executed.version_id)
    assert anonymous.status_code == 401, anonymous.text
    assert "ran viewer" not in anonymous.text

    forged = airflow.get(executed.key, token="not-a-token", version_id=executed.version_id)
    assert forged.status_code == 403, forged.text  # Airflow: "Invalid JWT token"
    assert "ran viewer" not in forged.text

    stale_cookie = airflow.get(executed.key, cookie="not-a-token", version_id=executed.version_id)
    assert stale_cookie.status_code == 403, stale_cookie.text


def test_a_key_outside_the_runs_prefix_is_refused(airflow: Airflow, executed: Executed) -> None:
    answer = airflow.get(executed.published_key, token=airflow.token)

    assert answer.status_code == 400, answer.text
    message = answer.json()["detail"]
    assert executed.published_key in message and "runs prefix 'runs'" in message


def test_unknown_versions_keys_and_connections_are_404_with_a_message(
    airflow: Airflow, executed: Executed
) -> None:
    unknown_version = airflow.get(executed.key, token=airflow.token, version_id="0" * 32)
    assert unknown_version.status_code == 404, unknown_version.text
    assert executed.key in unknown_version.json()["detail"]

    missing = executed.key.replace("try-1", "try-9")
    unknown_key = airflow.get(missing, token=airflow.token)
    assert unknown_key.status_code == 404, unknown_key.text
    assert missing in unknown_key.json()["detail"]

    unknown_connection = airflow.get(executed.key, token=airflow.token, conn_id="nowhere")
    assert unknown_connection.status_code == 404, unknown_connection.text
    assert "'nowhere'" in unknown_connection.json()["detail"]


def test_an_object_that_is_not_a_notebook_is_refused(
    airflow: Airflow, executed: Executed, store: S3Store
) -> None:
    key = f"runs/{DAG_ID}/manual__x/report/try-1/notes.txt"
    version = store.put(key, b"just text")
    assert version

    answer = airflow.get(key, token=airflow.token, version_id=version)

    assert answer.status_code == 400, answer.text
    assert "is not a notebook" in answer.json()["detail"]


def test_the_executed_notebook_is_not_changed_by_viewing(
    airflow: Airflow, executed: Executed, store: S3Store
) -> None:
    assert airflow.get(executed.key, token=airflow.token).status_code == 200
    versions = store.list_versions(executed.key).versions
    assert [v.version_id for v in versions] == [executed.version_id]
    nb = nbformat.reads(store.get(executed.key).body.decode(), as_version=4)
    assert nb.metadata["papermill"]["parameters"] == {"x": 7}
