"""schemathesis against a live ``jupyter server`` archiving to SeaweedFS: requests generated
from the OpenAPI document, valid and invalid, to every operation; no answer may be a server
error (5xx), an undocumented status, content type or header, or a body outside its schema,
and a request without credentials must be refused.

Bounded (:data:`MAX_EXAMPLES` requests per operation, no shrinking) so the module runs in
well under a minute; ``BOOKSTORE_FUZZ_EXAMPLES=500`` makes a longer hunt.

Two of schemathesis's checks judge the document's *input* rules rather than the answers,
and are left out: some of the API's rules cannot be written in OpenAPI (a cursor is an
opaque token only this server hands out; ``base_stage`` and ``base_notebook_key`` exclude
each other; a path's S3 key must fit in 1024 bytes with its prefix), so they would flag
every correct 400 for those. The patterns the document does give (paths, version ids) came
from running them.

The server bugs the fuzzing found are pinned by the regression tests at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from bookstore.errors import InvalidRequestError, VersionNotFoundError
from bookstore.jupyter.openapi import document
from bookstore.keys import MAX_KEY_BYTES
from bookstore.runs import run_started_at
from bookstore.s3 import S3Store
from devtools.seaweedfs import SeaweedFS
from tests.helpers.jupyter_process import JupyterServer, notebook
from tests.helpers.openapi_check import Checker, operations

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("BOOKSTORE_FUZZ_EXAMPLES", "60"))
#: The notebook the document's examples name, saved and published before fuzzing, so that
#: generated requests also reach the answers of a notebook that exists, not only 404s.
EXAMPLE_PATH = "analysis/mine.ipynb"
EXAMPLE_KEY = f"kylek/notebooks/{EXAMPLE_PATH}"
INPUT_CHECKS = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture(scope="module")
def server(server: JupyterServer) -> Iterator[JupyterServer]:
    """The module's Jupyter server, with the notebook of the document's examples published;
    it must log no error while fuzzed."""
    jupyter = server
    jupyter.request("PUT", "/api/contents/analysis", json={"type": "directory"})
    jupyter.save(EXAMPLE_PATH, notebook("x = 1"))
    jupyter.save(EXAMPLE_PATH, notebook("x = 2"))
    jupyter.wait_archived()
    published = jupyter.request("PUT", f"/api/bookstore/publish/{EXAMPLE_PATH}", json={})
    assert published.status_code == 201, published.text
    yield jupyter
    log = jupyter.log()
    # A server error is logged with its traceback, also one the answers did not show.
    assert "Traceback" not in log, "the server logged an error while fuzzed:\n" + log[-5000:]


@pytest.fixture(scope="module")
def api(server: JupyterServer) -> Any:
    config = SchemathesisConfig.from_dict(
        {"base-url": server.url, "headers": {"Authorization": f"token {server.token}"}}
    )
    return schemathesis.openapi.from_dict(document("/"), config=config)


def cases(operation: Any) -> st.SearchStrategy[Any]:
    """Requests to ``operation``: valid ones, valid ones about the notebook that exists, and
    invalid ones (a wrong type, a missing or unknown field, an unknown stage, ...)."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = {parameter.name for parameter in operation.path_parameters}
    for name, value in (("path", EXAMPLE_PATH), ("notebook_key", EXAMPLE_KEY)):
        if name in names:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: value}))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), sorted(operations(document())))
def test_no_server_error_and_no_answer_outside_the_document(api: Any, method: str, path: str) -> None:
    operation = api[path][method]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation))
    def fuzz(case: Any) -> None:
        case.call_and_validate(excluded_checks=INPUT_CHECKS)

    fuzz()


# -- what the fuzzing found -------------------------------------------------------------------


@pytest.mark.parametrize("version_id", ["x\x00y", "a/b", "naïve", "two words", "v" * 1025])
def test_a_malformed_version_id_is_a_client_error_not_a_server_error(
    server: JupyterServer, version_id: str
) -> None:
    """S3 answers ``InvalidRequest`` for a version id holding a NUL or a slash, which became
    a 500; now a version id S3 could never have given is refused before S3 is asked (400),
    and one S3 cannot parse is a version that does not exist (404)."""
    checker = Checker()
    for method, template, url, kwargs in (
        ("GET", "/api/bookstore/notebook/{path}", f"/api/bookstore/notebook/{EXAMPLE_PATH}", {}),
        ("GET", "/api/bookstore/published/{notebook_key}", f"/api/bookstore/published/{EXAMPLE_KEY}", {}),
        ("POST", "/api/bookstore/restore/{path}", f"/api/bookstore/restore/{EXAMPLE_PATH}", {"json": True}),
        ("PUT", "/api/bookstore/publish/{path}", f"/api/bookstore/publish/{EXAMPLE_PATH}", {"json": True}),
        ("POST", "/api/bookstore/copy/{notebook_key}", f"/api/bookstore/copy/{EXAMPLE_KEY}", {"json": True}),
    ):
        if kwargs:
            answer = server.request(method, url, json={"version_id": version_id})
        else:
            answer = server.request(method, url, params={"version_id": version_id})
        checker.check(method, template, answer)
        expected = 404 if version_id == "a/b" else 400
        assert answer.status_code == expected, f"{method} {url}: {answer.status_code} {answer.text}"
        assert "version" in answer.json()["message"]


def test_the_store_refuses_a_malformed_version_id_without_asking_s3(
    s3_server: SeaweedFS, module_bucket: str
) -> None:
    store: S3Store = s3_server.store(module_bucket)
    with pytest.raises(InvalidRequestError, match="not one S3 gives"):
        store.get("workspace/kylek/notebooks/analysis/mine.ipynb", "x\x00y")
    with pytest.raises(VersionNotFoundError, match="does not exist"):
        store.head("workspace/kylek/notebooks/analysis/mine.ipynb", "a/b")


def test_a_path_too_long_for_an_s3_key_is_refused_and_does_not_stall_archiving(server: JupyterServer) -> None:
    """S3 refuses keys over 1024 bytes (``KeyTooLongError``): a save under such a path was
    retried for ever, holding up every later save its upload worker had. Now it is saved
    locally and not archived (the server logs why), reading it answers 400, and the saves
    after it are archived."""
    folders = ["f" * 200 + str(i) for i in range(5)]
    for depth in range(1, len(folders) + 1):
        server.request("PUT", "/api/contents/" + "/".join(folders[:depth]), json={"type": "directory"})
    long_path = "/".join(folders) + "/mine.ipynb"
    assert len(f"workspace/kylek/notebooks/{long_path}".encode()) > MAX_KEY_BYTES

    server.save(long_path, notebook("x = 'long'"))
    after = "analysis/after-long.ipynb"
    server.save(after, notebook("x = 'after'"))

    status = server.wait_archived(timeout=30)
    assert status["archive"]["state"] == "ok"
    listed = server.request("GET", f"/api/bookstore/versions/{after}")
    assert listed.status_code == 200
    answer = server.request("GET", f"/api/bookstore/versions/{long_path}")
    Checker().check("GET", "/api/bookstore/versions/{path}", answer)
    assert answer.status_code == 400
    assert "too long" in answer.json()["message"]
    assert "not archiving" in server.log()


@pytest.mark.parametrize("run_id", ["00000000T000000000000Z-00000000", "20261328T021500123456Z-1a2b3c4d"])
def test_a_run_id_with_no_such_time_is_a_client_error(server: JupyterServer, run_id: str) -> None:
    """A run id of the right shape naming no real time (month 00 or 13) made ``strptime``
    raise, a 500; it is a malformed run id (400)."""
    for endpoint, params in (
        ("runs", {"run_id": run_id}),
        ("diff", {"base_run_id": run_id, "remote_run_id": run_id}),
    ):
        answer = server.request("GET", f"/api/bookstore/{endpoint}/{EXAMPLE_PATH}", params=params)
        Checker().check("GET", f"/api/bookstore/{endpoint}/{{path}}", answer)
        assert answer.status_code == 400, answer.text
        assert "malformed" in answer.json()["message"]


@pytest.mark.parametrize(
    "run_id", ["00000000T000000000000Z-00000000", "20261128T021500123456Z-1a2b3c4d\n", "x"]
)
def test_run_started_at_refuses_what_no_run_id_is(run_id: str) -> None:
    """A trailing newline passed the check too (``$`` matches before it)."""
    with pytest.raises(InvalidRequestError, match="malformed"):
        run_started_at(run_id)
