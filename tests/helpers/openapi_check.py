"""Checking the REST API against its OpenAPI document: the routes the extension registers, and
real answers against the document's schemas (JSON Schema 2020-12, with format checks).

Shared by tests/test_openapi.py, tests/test_fuzz.py and tests/test_history_model.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from tornado import web

from bookstore.jupyter.app import BookstoreExtension
from bookstore.jupyter.openapi import document

METHODS = ("get", "put", "post", "delete", "patch", "head")
DOCUMENT_URI = "urn:bookstore:openapi"


def routes() -> list[tuple[str, type[web.RequestHandler]]]:
    """The routes the extension registers, as it registers them."""
    extension = BookstoreExtension()
    extension.initialize_handlers()
    return list(extension.handlers)


def implemented_methods(handler: type[web.RequestHandler]) -> list[str]:
    """The HTTP methods ``handler`` answers (those it overrides from tornado's base)."""
    return [m for m in METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)]


def template_of(pattern: str) -> str:
    """The OpenAPI path a route's regular expression serves:
    ``/api/bookstore/versions(?:/(?P<path>.*))?`` -> ``/api/bookstore/versions/{path}``."""
    template = re.sub(r"\(\?:/\(\?P<(\w+)>\.\*\)\)\?", r"/{\1}", pattern)
    template = re.sub(r"/\?$", "", template)
    return template.replace("\\.", ".")


def sample_url(template: str) -> str:
    """A URL the path ``template`` describes, with a slash in every parameter."""
    return re.sub(r"\{\w+\}", "kylek/notebooks/mine.ipynb", template)


def serving_route(url: str) -> tuple[str, type[web.RequestHandler]] | None:
    """The route tornado would hand ``url`` to (the first whose pattern matches it whole)."""
    return next(((p, h) for p, h in routes() if re.fullmatch(p, url)), None)


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every documented ``(METHOD, path)``."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path


class SchemaMismatch(AssertionError):
    """An answer that the document does not describe."""


class Checker:
    """Validates real answers against the document, remembering which operations answered
    with success."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = spec or document()
        resource = Resource.from_contents(absolute_refs(self.spec), default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self.succeeded: set[tuple[str, str]] = set()
        self.statuses: set[tuple[str, str, int]] = set()

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """``node``, following its ``$ref`` within the document."""
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def check(self, method: str, template: str, answer: requests.Response) -> None:
        """Raise :class:`SchemaMismatch` unless the document describes ``answer`` to
        ``method template``: a documented status, its content type, a body its schema accepts,
        and its documented headers."""
        name = f"{method} {template}"
        item = self.spec["paths"].get(template)
        if item is None or method.lower() not in item:
            raise SchemaMismatch(f"{name} is not in the OpenAPI document")
        operation = item[method.lower()]
        status = str(answer.status_code)
        if status not in operation["responses"]:
            raise SchemaMismatch(
                f"{name} answered {status}, which the document does not list "
                f"({', '.join(operation['responses'])}): {answer.text[:500]}"
            )
        response = self.resolve(operation["responses"][status])
        content = response.get("content", {})
        if content:
            media = answer.headers.get("Content-Type", "").split(";")[0].strip()
            if media not in content:
                raise SchemaMismatch(f"{name} {status} answered {media!r}, documented: {', '.join(content)}")
            try:
                body = answer.json()
            except ValueError as e:
                raise SchemaMismatch(f"{name} {status} answered no JSON: {answer.text[:500]}") from e
            self.validate(content[media]["schema"], body, f"{name} {status}")
        for header, spec in response.get("headers", {}).items():
            spec = self.resolve(spec)
            if header not in answer.headers:
                raise SchemaMismatch(f"{name} {status} lacks its documented header {header}")
            self.validate(spec["schema"], answer.headers[header], f"{name} {status} header {header}")
        self.statuses.add((method, template, answer.status_code))
        if answer.ok:
            self.succeeded.add((method, template))

    def validate(self, schema: dict[str, Any], value: Any, where: str) -> None:
        validator = Draft202012Validator(
            absolute_refs(schema), registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        error = best_match(validator.iter_errors(value))
        if error is not None:
            at = "/".join(map(str, error.absolute_path)) or "(the body)"
            raise SchemaMismatch(f"{where}: at {at}: {error.message}")


def absolute_refs(node: Any) -> Any:
    """``node`` with the document's own references (``#/components/...``) made absolute, so a
    schema taken out of the document still finds them in the registry."""
    if isinstance(node, dict):
        return {
            k: f"{DOCUMENT_URI}{v}"
            if k == "$ref" and isinstance(v, str) and v.startswith("#")
            else absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(v) for v in node]
    return node
