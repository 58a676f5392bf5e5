"""The OpenAPI document of the REST API: it names every route the extension registers (and no
other), it is served by the extension, and real answers from a live ``jupyter server`` with
SeaweedFS validate against it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from tornado import web

from bookstore.jupyter.base import BookstoreHandler
from bookstore.jupyter.openapi import document
from bookstore.library import Library
from bookstore.runner import run_published
from devtools.seaweedfs import SeaweedFS
from devtools.supervisor import free_port
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import JupyterServer, notebook, seed_config
from tests.helpers.notebooks import ensure_python3_kernel
from tests.helpers.openapi_check import (
    Checker,
    SchemaMismatch,
    implemented_methods,
    operations,
    routes,
    sample_url,
    serving_route,
    template_of,
)


def differences(
    spec: dict[str, Any], table: list[tuple[str, type[web.RequestHandler]]]
) -> tuple[list[str], list[str]]:
    """The operations the routes serve but the document lacks, and the other way round."""
    served = {
        (m.upper(), template_of(pattern)) for pattern, handler in table for m in implemented_methods(handler)
    }
    documented = set(operations(spec))
    return [" ".join(op) for op in sorted(served - documented)], [
        " ".join(op) for op in sorted(documented - served)
    ]


# -- the document and the route tables ------------------------------------------------------


def test_every_route_is_documented_and_every_documented_operation_is_served() -> None:
    undocumented, unserved = differences(document(), routes())

    assert not undocumented, f"routes missing from bookstore/jupyter/openapi.yaml: {undocumented}"
    assert not unserved, f"documented in bookstore/jupyter/openapi.yaml but served by no route: {unserved}"


def test_each_documented_path_reaches_the_route_it_names() -> None:
    """Paths with slashes in their parameters reach the handler the document says, not an
    earlier route that happens to match."""
    for method, template in operations(document()):
        found = serving_route(sample_url(template))
        assert found is not None, f"{method} {template}: no route serves {sample_url(template)}"
        pattern, handler = found
        assert template_of(pattern) == template, f"{method} {template} reaches {pattern} ({handler.__name__})"
        assert method.lower() in implemented_methods(handler)


def test_a_new_route_without_documentation_is_named() -> None:
    class ReportsHandler(BookstoreHandler):
        async def get(self, path: str | None = None) -> None: ...

    table = [*routes(), (r"/api/bookstore/reports(?:/(?P<path>.*))?", ReportsHandler)]

    undocumented, unserved = differences(document(), table)

    assert undocumented == ["GET /api/bookstore/reports/{path}"]
    assert unserved == []


def test_a_documented_operation_without_a_route_is_named() -> None:
    spec = document()
    spec["paths"]["/api/bookstore/reports/{path}"] = {"get": {"responses": {"200": {"description": "s"}}}}

    assert differences(spec, routes()) == ([], ["GET /api/bookstore/reports/{path}"])


def test_the_document_is_openapi_3_1_with_its_references_resolvable() -> None:
    spec = document()
    assert spec["openapi"].startswith("3.1")
    checker = Checker(spec)
    # Every reference points at something (a typo would only show when that answer comes).
    for ref in _references(spec):
        checker.resolve({"$ref": ref})


def test_no_value_of_the_document_is_cut_at_a_comma() -> None:
    """In YAML's flow style a comma ends a value: ``{description: A, b.}`` is the description
    "A" and a key "b." without a value. The front end's types and the rendered reference
    carry the descriptions, so none may be cut short."""
    cut = list(_keys_without_value(document()))

    assert not cut, f"values cut at a comma in bookstore/jupyter/openapi.yaml (quote them): {cut}"


def _keys_without_value(node: Any, where: str = "") -> Iterator[str]:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if value is None:
            yield f"{where}/{key}"
        else:
            yield from _keys_without_value(value, f"{where}/{key}")


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


# -- a live server --------------------------------------------------------------------------


class Client:
    """Requests to the server by documented path, each answer checked against the document."""

    def __init__(self, server: JupyterServer, checker: Checker) -> None:
        self.server = server
        self.checker = checker

    def __call__(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        token: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        path_params = kwargs.pop("path_params", {})
        url = template
        for name, value in path_params.items():
            url = url.replace("{" + name + "}", quote(value, safe="/"))
        if token:
            answer = self.server.request(method, url, **kwargs)
        else:  # outside the session, which holds Jupyter's login cookie
            answer = requests.request(method, f"{self.server.url}{url}", timeout=60, **kwargs)
        self.checker.check(method, template, answer)
        assert answer.status_code == expect, f"{method} {url}: {answer.status_code} {answer.text[:500]}"
        return answer


def test_every_operation_answers_as_documented(
    server: JupyterServer, s3_server: SeaweedFS, module_bucket: str
) -> None:
    """One walk through the API, success and failure: every answer validates against the
    document, and every documented operation answers with success at least once."""
    ensure_python3_kernel()
    checker = Checker()
    call = Client(server, checker)
    folder = f"ex{uuid.uuid4().hex[:6]}"
    path = f"{folder}/mine.ipynb"
    nb = {"path": path}
    notebook_key = f"kylek/notebooks/{path}"

    # Status, the document itself, and no credentials.
    status = call("GET", "/api/bookstore", 200).json()
    assert "publish" in status["features"]
    served = call("GET", "/api/bookstore/openapi.json", 200).json()
    assert served == document("/")
    call("GET", "/api/bookstore", 403, token=False)
    call("GET", "/api/bookstore/versions/{path}", 403, token=False, path_params=nb)

    # Nothing saved yet.
    call("GET", "/api/bookstore/versions/{path}", 404, path_params=nb)
    call("PUT", "/api/bookstore/publish/{path}", 404, path_params=nb, json={})

    server.request("PUT", f"/api/contents/{folder}", json={"type": "directory"})
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    server.save(path, notebook("x = 1", tags=("parameters",), **kernel))
    server.save(path, notebook("x = 2", tags=("parameters",), **kernel))
    server.wait_archived()

    # Versions, paged.
    first = call("GET", "/api/bookstore/versions/{path}", 200, path_params=nb, params={"limit": 1}).json()
    assert first["next_cursor"]
    rest = call(
        "GET", "/api/bookstore/versions/{path}", 200, path_params=nb, params={"cursor": first["next_cursor"]}
    ).json()
    newest, older = first["versions"][0]["version_id"], rest["versions"][0]["version_id"]
    call("GET", "/api/bookstore/versions/{path}", 400, path_params=nb, params={"stage": "draft"})
    call("GET", "/api/bookstore/versions/{path}", 400, path_params=nb, params={"limit": 0})
    call("GET", "/api/bookstore/versions/{path}", 400, path_params=nb, params={"cursor": "not-ours"})
    call("GET", "/api/bookstore/versions/{path}", 400, path_params={"path": "%2e%2e/escape.ipynb"})

    # Publish: the saved notebook, unchanged, a given version, bad bodies.
    published = call("PUT", "/api/bookstore/publish/{path}", 201, path_params=nb, json={}).json()
    assert published["source_version_id"] == newest
    assert call("PUT", "/api/bookstore/publish/{path}", 200, path_params=nb, json={}).json()["unchanged"]
    call("PUT", "/api/bookstore/publish/{path}", 201, path_params=nb, json={"version_id": older})
    call("PUT", "/api/bookstore/publish/{path}", 404, path_params=nb, json={"version_id": "no-such-version"})
    call("PUT", "/api/bookstore/publish/{path}", 400, path_params=nb, json={"bogus": 1})
    call("PUT", "/api/bookstore/publish/{path}", 400, path_params=nb, data=b"{not json")
    listed = call("GET", "/api/bookstore/versions/{path}", 200, path_params=nb, params={"stage": "published"})
    assert [v["source_version_id"] for v in listed.json()["versions"]] == [older, newest]

    # One version's notebook.
    read = call(
        "GET",
        "/api/bookstore/notebook/{path}",
        200,
        path_params=nb,
        params={"stage": "workspace", "version_id": older},
    )
    assert read.headers["X-Bookstore-Version-Id"] == older
    call(
        "GET", "/api/bookstore/notebook/{path}", 404, path_params=nb, params={"version_id": "no-such-version"}
    )

    # Restore: a new file, over it, refused over it.
    restored = call(
        "POST", "/api/bookstore/restore/{path}", 201, path_params=nb, json={"version_id": older}
    ).json()
    again = {"version_id": older, "target_path": restored["path"]}
    call("POST", "/api/bookstore/restore/{path}", 409, path_params=nb, json=again)
    call("POST", "/api/bookstore/restore/{path}", 200, path_params=nb, json={**again, "overwrite": True})
    call("POST", "/api/bookstore/restore/{path}", 400, path_params=nb, json={})

    # Compare: with the saved notebook, two stored versions, a colleague's publication.
    call("GET", "/api/bookstore/diff/{path}", 200, path_params=nb, params={"base_stage": "published"})
    call(
        "GET",
        "/api/bookstore/diff/{path}",
        200,
        path_params=nb,
        params={"base_version_id": older, "remote_stage": "workspace"},
    )
    call("GET", "/api/bookstore/diff/{path}", 200, path_params=nb, params={"base_notebook_key": notebook_key})
    call(
        "GET",
        "/api/bookstore/diff/{path}",
        400,
        path_params=nb,
        params={"base_notebook_key": notebook_key, "base_stage": "workspace"},
    )

    # Parameters: of the saved notebook, and of its published version.
    assert call("GET", "/api/bookstore/parameters/{path}", 200, path_params=nb).json()["cell"] == 0
    call("GET", "/api/bookstore/parameters/{path}", 200, path_params=nb, params={"stage": "published"})
    call("GET", "/api/bookstore/parameters/{path}", 400, path_params=nb, params={"stage": "drafts"})

    # Runs: none yet, then two made by the runner Airflow uses (the second with the task
    # instance the operator records), read and compared.
    assert call("GET", "/api/bookstore/runs/{path}", 200, path_params=nb).json()["runs"] == []
    library = Library(s3_server.store(module_bucket), published_prefix="published")
    task = {"dag_id": "report", "run_id": "manual__1", "task_id": "run", "try_number": 1, "map_index": None}
    ran = [
        run_published(library, notebook_key, parameters={"x": 1}, kernel_name="python3"),
        run_published(library, notebook_key, parameters={"x": 2}, kernel_name="python3", airflow=task),
    ]
    runs = call("GET", "/api/bookstore/runs/{path}", 200, path_params=nb, params={"limit": 1}).json()
    assert [r["run_id"] for r in runs["runs"]] == [ran[1].run_id]
    assert runs["runs"][0]["airflow"]["dag_id"] == "report"
    one = call("GET", "/api/bookstore/runs/{path}", 200, path_params=nb, params={"run_id": ran[0].run_id})
    assert one.json()["run"]["succeeded"] is True
    call("GET", "/api/bookstore/runs/{path}", 400, path_params=nb, params={"run_id": "yesterday"})
    call(
        "GET",
        "/api/bookstore/runs/{path}",
        404,
        path_params=nb,
        params={"run_id": "20260101T000000000000Z-00000000"},
    )
    both = {"base_run_id": ran[0].run_id, "remote_run_id": ran[1].run_id}
    call("GET", "/api/bookstore/diff/{path}", 200, path_params=nb, params=both)

    # The team's catalog, reading and copying a publication.
    page = call("GET", "/api/bookstore/catalog", 200, params={"limit": 1000}).json()
    assert notebook_key in [entry["notebook_key"] for entry in page["notebooks"]]
    call("GET", "/api/bookstore/catalog", 400, params={"limit": "many"})
    key = {"notebook_key": notebook_key}
    call("GET", "/api/bookstore/published/{notebook_key}", 200, path_params=key)
    call(
        "GET", "/api/bookstore/published/{notebook_key}", 404, path_params={"notebook_key": "nobody/x.ipynb"}
    )
    target = {"target_path": f"{folder}/copied.ipynb"}
    copied = call("POST", "/api/bookstore/copy/{notebook_key}", 201, path_params=key, json=target)
    assert copied.headers["X-Bookstore-Key"] == f"published/{notebook_key}"
    call("POST", "/api/bookstore/copy/{notebook_key}", 409, path_params=key, json=target)
    call(
        "POST", "/api/bookstore/copy/{notebook_key}", 200, path_params=key, json={**target, "overwrite": True}
    )

    # Schedules and run requests.
    daily = {"name": "daily", "cron": "0 6 * * *", "timezone": "Europe/Paris", "parameters": {"x": 4}}
    call("PUT", "/api/bookstore/schedules/{path}", 201, path_params=nb, json=daily)
    call(
        "PUT",
        "/api/bookstore/schedules/{path}",
        200,
        path_params=nb,
        json={"name": "daily", "enabled": False},
    )
    call("PUT", "/api/bookstore/schedules/{path}", 400, path_params=nb, json={"name": "daily", "cron": "6am"})
    call("GET", "/api/bookstore/schedules/{path}", 200, path_params=nb)
    call(
        "GET",
        "/api/bookstore/schedules/{path}",
        200,
        path_params=nb,
        params={"name": "daily", "history": "true"},
    )
    call("GET", "/api/bookstore/schedules", 200, params={"notebook_key": notebook_key})
    call("DELETE", "/api/bookstore/schedules/{path}", 204, path_params=nb, params={"name": "daily"})
    call("DELETE", "/api/bookstore/schedules/{path}", 404, path_params=nb, params={"name": "daily"})
    call("POST", "/api/bookstore/runs/{path}", 202, path_params=nb, json={"parameters": {"x": 9}})
    call("POST", "/api/bookstore/runs/{path}", 400, path_params=nb, json={"parameters": {"y": 9}})
    unpublished = {"path": f"{folder}/copied.ipynb"}
    call("POST", "/api/bookstore/runs/{path}", 409, path_params=unpublished, json={})

    never = sorted(" ".join(op) for op in set(operations(checker.spec)) - checker.succeeded)
    assert not never, f"documented operations this walk never saw succeed (add a request here): {never}"


def test_an_answer_the_document_does_not_describe_is_caught(server: JupyterServer) -> None:
    """The checker itself: a wrong schema or an undocumented status fails."""
    spec = document()
    spec["components"]["schemas"]["Status"]["required"].append("no_such_field")
    checker = Checker(spec)
    with pytest.raises(SchemaMismatch, match="no_such_field"):
        checker.check("GET", "/api/bookstore", server.request("GET", "/api/bookstore"))
    del spec["paths"]["/api/bookstore"]["get"]["responses"]["403"]
    with pytest.raises(SchemaMismatch, match="answered 403, which the document does not list"):
        checker.check("GET", "/api/bookstore", requests.get(f"{server.url}/api/bookstore", timeout=60))


def test_s3_unavailable_answers_503_as_documented(jupyter_factory, s3_server: SeaweedFS) -> None:  # type: ignore[no-untyped-def]
    nowhere = f"http://127.0.0.1:{free_port()}"
    jupyter = jupyter_factory(seed_config(s3_server, new_bucket_name(), endpoint_url=nowhere))
    checker = Checker()

    answer = jupyter.request("GET", "/api/bookstore/versions/a/mine.ipynb")

    checker.check("GET", "/api/bookstore/versions/{path}", answer)
    assert answer.status_code == 503
    assert "cannot reach S3" in answer.json()["message"]
