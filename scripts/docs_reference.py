"""The docs' reference pages that the code defines, generated from it at each docs build.

Each function below turns one source into a MyST Markdown fragment: the configuration
reference from the traits, the table of errors with their exit and HTTP statuses from
:mod:`bookstore.errors`, the archive's faults with the advice the archive gives for each
(:mod:`bookstore.s3_client`'s messages, ``ARCHIVE_ADVICE``, the bucket check's fix), and the
REST API reference from ``bookstore/jupyter/openapi.yaml``. The docs site's extension
(``docs/_ext/bookstore_reference.py``) writes them into ``docs/_generated/`` (git-ignored)
and the pages include them, so none of these tables is ever written by hand.

``python scripts/docs_reference.py`` prints every fragment; ``--write DIR`` writes them as
``DIR/<name>.md``; ``--check`` fails when a page no longer includes its fragment, or when a
page or README.md holds a hand copy of a generated table (the test suite runs it).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from botocore.exceptions import (  # noqa: E402
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from traitlets import TraitType  # noqa: E402
from traitlets.config import Configurable  # noqa: E402

from bookstore import errors, s3_client  # noqa: E402
from bookstore.cli import INTERRUPTED  # noqa: E402
from bookstore.config import GCS, S3, Bookstore  # noqa: E402
from bookstore.jupyter.app import BookstoreExtension  # noqa: E402
from bookstore.jupyter.archive import ArchivingMixin  # noqa: E402
from bookstore.jupyter.archive_queue import ARCHIVE_ADVICE  # noqa: E402
from bookstore.jupyter.bucket_check import BucketCheck  # noqa: E402
from bookstore.s3 import S3Store  # noqa: E402

DOCS = REPO / "docs"
OPENAPI = REPO / "bookstore" / "jupyter" / "openapi.yaml"
#: Where the docs build writes the fragments, relative to docs/ (git-ignored).
GENERATED = "_generated"


def one_line(text: object) -> str:
    """``text`` on one line, its pipes escaped: fit for a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def cell(text: object) -> str:
    """``text`` as a table cell's prose (``<bucket>`` is text, not an HTML tag)."""
    parts = re.split(r"(`[^`]*`)", one_line(text))  # inline code keeps its text as it is
    return "".join(part if i % 2 else part.replace("<", "\\<") for i, part in enumerate(parts))


def code(text: object) -> str:
    """``text`` as inline code in a table cell (backticks in it kept)."""
    text = one_line(text)
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# -- configuration: the traits ---------------------------------------------------------------

#: (how a setting is written, the class that declares it, classes whose settings are not ours)
CONFIG_SECTIONS: list[tuple[str, type[Configurable], tuple[type, ...]]] = [
    ("c.Bookstore", Bookstore, ()),
    ("c.Bookstore.S3", S3, ()),
    ("c.Bookstore.GCS", GCS, ()),
    ("c.BookstoreContentsArchiver", ArchivingMixin, ()),
    ("c.BookstoreExtension", BookstoreExtension, BookstoreExtension.__mro__[1:]),
]


def default_text(trait: TraitType[Any, Any]) -> str:
    value = trait.default_value_repr()
    if value in ("None", "''", "traitlets.Undefined"):
        return "unset"
    return code(value)


def config_settings() -> Iterator[tuple[str, str, TraitType[Any, Any]]]:
    """``(section, setting, trait)`` of every configurable setting of bookstore."""
    for prefix, cls, inherited in CONFIG_SECTIONS:
        for name, trait in sorted(cls.class_traits(config=True).items()):
            if any(name in base.class_traits() for base in inherited if hasattr(base, "class_traits")):
                continue  # settings of jupyter_server's ExtensionApp itself
            yield prefix, f"{prefix}.{name}", trait


def config_reference() -> str:
    lines: list[str] = []
    section = None
    for prefix, setting, trait in config_settings():
        if prefix != section:
            section = prefix
            lines += ["", f"### `{prefix}`", "", "| setting | type | default | what it does |"]
            lines += ["| --- | --- | --- | --- |"]
        lines.append(f"| `{setting}` | {type(trait).__name__} | {default_text(trait)} | {cell(trait.help)} |")
    return "\n".join(lines).lstrip() + "\n"


# -- errors: exit and HTTP statuses ----------------------------------------------------------


def error_classes() -> list[type[errors.BookstoreError]]:
    """:class:`~bookstore.errors.BookstoreError` and every subclass :mod:`bookstore.errors`
    defines, in the order the module defines them."""
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.BookstoreError) and cls.__module__ == errors.__name__
    ]


def summary(cls: type) -> str:
    return cell((inspect.getdoc(cls) or "").split("\n\n")[0])


def exit_statuses() -> str:
    rows = [(0, "", "", "success")]
    for cls in error_classes():
        name = (
            f"`{cls.__name__}`" if cls is not errors.BookstoreError else "`BookstoreError`, any other failure"
        )
        rows.append((cls.exit_status, name, str(cls.http_status), summary(cls)))
    rows.append((2, "(click)", "", "a usage error: an unknown option, a missing argument"))
    rows.append((INTERRUPTED, "", "", "stopped with Ctrl-C (128 + SIGINT)"))
    lines = ["| exit status | error | HTTP status | when |", "| --- | --- | --- | --- |"]
    for status, name, http, when in sorted(rows, key=lambda row: row[0]):
        lines.append(f"| {status} | {name} | {http} | {when} |")
    return "\n".join(lines) + "\n"


# -- the archive's faults and advice ---------------------------------------------------------


def _translated(e: ClientError | BotoCoreError) -> errors.BookstoreError:
    """``e`` as bookstore reports it for a request about ``<key>`` in ``<bucket>``."""
    return s3_client.translate(
        e, bucket="<bucket>", endpoint_url="<endpoint>", read_timeout=60.0, key="<key>"
    )


def _refusal(code_: str) -> errors.BookstoreError:
    return _translated(ClientError({"Error": {"Code": code_}}, "PutObject"))


def _versioning_off() -> errors.BookstoreError:
    # The S3 backend's fix, for a bucket named <bucket>, without a client.
    fix = functools.partial(S3Store.versioning_fix, SimpleNamespace(bucket="<bucket>"))  # type: ignore[arg-type]
    store = SimpleNamespace(bucket="<bucket>", versioning_fix=fix)
    check = BucketCheck(store, logging.getLogger(__name__))  # type: ignore[arg-type]
    check.versioning = "Suspended"
    return check.holding_error()


#: An error of each fault, made as the S3 backend makes it (one S3 error code each).
FAULT_EXAMPLES: dict[str, Callable[[], errors.BookstoreError]] = {
    errors.THROTTLED: lambda: _refusal("SlowDown"),
    errors.CLOCK_SKEW: lambda: _refusal("RequestTimeTooSkewed"),
    errors.CREDENTIALS_REFUSED: lambda: _refusal("InvalidAccessKeyId"),
    errors.BUCKET_MISSING: lambda: _refusal("NoSuchBucket"),
    errors.VERSIONING_OFF: _versioning_off,
    errors.UNREACHABLE: lambda: _translated(EndpointConnectionError(endpoint_url="<endpoint>")),
    errors.NO_ANSWER: lambda: _translated(ReadTimeoutError(endpoint_url="<endpoint>")),
}


#: What the archive does about a fault ARCHIVE_ADVICE gives no advice for.
KEPT = "saves are kept on local disk and tried again, with backoff, until S3 takes them"


def faults() -> list[str]:
    """Every fault :mod:`bookstore.errors` names, in the order it names them."""
    return [value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)]


def archive_faults() -> str:
    lines = ["| `fault` | the error, as `last_error` and the log give it | what the archive does |"]
    lines.append("| --- | --- | --- |")
    for fault in faults():
        make = FAULT_EXAMPLES.get(fault)
        if make is None:
            raise SystemExit(f"scripts/docs_reference.py has no example of the fault {fault!r}")
        error = make()
        if error.fault != fault:
            raise SystemExit(f"the example of {fault!r} is a {error.fault!r} fault")
        advice = ARCHIVE_ADVICE.get(fault, KEPT)
        lines.append(f"| `{fault}` | {cell(error)} | {cell(advice)} |")
    return "\n".join(lines) + "\n"


# -- the REST API: openapi.yaml ----------------------------------------------------------------


def openapi() -> dict[str, Any]:
    import yaml

    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


def schema_label(name: str) -> str:
    return f"openapi-schema-{name.lower()}"


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_text(schema: dict[str, Any]) -> str:
    """A schema's type in a few words, named schemas linked to their section."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"{{ref}}`{name} <{schema_label(name)}>`"
    for combiner, word in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if combiner in schema:
            return word.join(type_text(part) for part in schema[combiner])
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for each in kinds:
        if each == "array":
            words.append(f"array of {type_text(schema.get('items', {}))}")
        elif each == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(str(each))
    text = " or ".join(words)
    if "enum" in schema:
        text += ": " + ", ".join(code(value) for value in schema["enum"])
    return text


def constraints(schema: dict[str, Any]) -> str:
    words = []
    for name in ("minimum", "maximum", "minLength", "maxLength", "maxItems", "default"):
        if name in schema:
            words.append(f"{name} {code(schema[name])}")
    if "pattern" in schema:
        words.append(f"pattern {code(schema['pattern'])}")
    return "; ".join(words)


def describe(schema: dict[str, Any]) -> str:
    parts = [cell(schema.get("description", "")), constraints(schema)]
    return " ".join(
        part + ("." if i == 0 and part and not part.endswith(".") else "")
        for i, part in enumerate(parts)
        if part
    )


def _resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        section, name = item["$ref"].split("/")[-2:]
        item = document["components"][section][name]
    return item


def _operation_lines(
    document: dict[str, Any], method: str, path: str, operation: dict[str, Any]
) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", f"**{cell(operation.get('summary', ''))}**", ""]
    if operation.get("description"):
        lines += [" ".join(operation["description"].split()), ""]
    parameters = [_resolve(document, p) for p in operation.get("parameters", [])]
    if parameters:
        lines += ["| parameter | in | type | |", "| --- | --- | --- | --- |"]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            required = " (required)" if parameter.get("required") else ""
            text = " ".join(part for part in (describe(parameter), constraints(schema)) if part)
            lines.append(
                f"| `{parameter['name']}`{required} | {parameter['in']} | {type_text(schema)} | {text} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        required = "required" if body.get("required") else "optional"
        lines += [f"Request body ({required}, JSON): {type_text(schema)}.", ""]
    lines += ["| status | answer | body |", "| --- | --- | --- |"]
    for status, answer in operation["responses"].items():
        answer = _resolve(document, answer)
        content = answer.get("content", {}).get("application/json")
        body_text = type_text(content["schema"]) if content else ""
        lines.append(f"| {status} | {cell(answer.get('description', ''))} | {body_text} |")
    return [*lines, ""]


def _schema_lines(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"({schema_label(name)})=", f"### `{name}`", ""]
    if schema.get("description"):
        lines += [" ".join(schema["description"].split()), ""]
    properties = schema.get("properties")
    if not properties:
        text = " ".join(part for part in (type_text(schema), constraints(schema)) if part)
        return [*lines, f"Type: {text}.", ""]
    required = set(schema.get("required", []))
    closed = schema.get("additionalProperties") is False
    lines += [
        "An object; " + ("no other field is accepted." if closed else "answers may carry more fields."),
        "",
        "| field | type | |",
        "| --- | --- | --- |",
    ]
    for field, spec in properties.items():
        mark = " (required)" if field in required else ""
        lines.append(f"| `{field}`{mark} | {type_text(spec)} | {describe(spec)} |")
    return [*lines, ""]


def rest_reference() -> str:
    document = openapi()
    lines = [document["info"]["description"].strip(), ""]
    tags = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    operations: dict[str, list[tuple[str, str, dict[str, Any]]]] = {name: [] for name in tags}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for tag in operation.get("tags", ["other"]):
                operations.setdefault(tag, []).append((method, path, operation))
    lines += ["## Endpoints", ""]
    lines += ["| method and path | does |", "| --- | --- |"]
    for entries in operations.values():
        for method, path, operation in entries:
            label = f"openapi-{operation['operationId'].lower()}"
            lines.append(
                f"| {{ref}}`{method.upper()} {path} <{label}>` | {cell(operation.get('summary', ''))} |"
            )
    lines.append("")
    for tag, entries in operations.items():
        if not entries:
            continue
        lines += [f"## {tag.capitalize()}", ""]
        if tags.get(tag):
            lines += [" ".join(tags[tag].split()), ""]
        for method, path, operation in entries:
            lines += [
                f"(openapi-{operation['operationId'].lower()})=",
                *_operation_lines(document, method, path, operation),
            ]
    lines += ["## Schemas", ""]
    for name, schema in document["components"]["schemas"].items():
        lines += _schema_lines(name, schema)
    return "\n".join(lines).rstrip() + "\n"


# -- the fragments, and the pages that include them -------------------------------------------

#: Fragment name -> (generator, the page that includes it).
FRAGMENTS: dict[str, tuple[Callable[[], str], str]] = {
    "config-reference": (config_reference, "configuration.md"),
    "exit-statuses": (exit_statuses, "cli.md"),
    "archive-faults": (archive_faults, "troubleshooting.md"),
    "rest-api": (rest_reference, "rest-api.md"),
}

#: Lines only a copy of a generated table has: a configuration table row, an exit status
#: list, an archive fault row. No page nor README.md may hold one.
HAND_COPIES = [
    re.compile(r"^\|\s*`c\.Bookstore[\w.]*\.\w+`\s*\|", re.MULTILINE),
    re.compile(r"exit status(es)?:?\s+0 success", re.IGNORECASE),
    re.compile(r"^\|\s*`?\"?fault\"?:?\s*\"?(" + "|".join(map(re.escape, faults())) + r")", re.MULTILINE),
]


def write(folder: Path) -> list[Path]:
    """Write every fragment into ``folder``; a fragment whose text is unchanged is not
    touched, so that Sphinx does not read its pages again."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (generate, _) in FRAGMENTS.items():
        path = folder / f"{name}.md"
        text = generate()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _words(text: str) -> str:
    return " ".join(text.split())


def copied_texts() -> list[str]:
    """Texts the generated tables take from the code, long enough that finding one word for
    word in a page means it was copied there: settings' help, the archive's advice."""
    texts = [str(trait.help) for _, _, trait in config_settings()] + list(ARCHIVE_ADVICE.values())
    return [_words(text)[:60] for text in texts if len(_words(text)) >= 40]


def problems(edited: dict[Path, str] | None = None) -> list[str]:
    """What keeps the generated tables from being the only ones: a page that does not
    include its fragment, a hand copy in a page or README.md. ``edited``: pages' texts to
    check instead of what their files hold."""
    edited = edited or {}

    def read(path: Path) -> str:
        return edited[path] if path in edited else path.read_text(encoding="utf-8")

    found = []
    for name, (_, page) in FRAGMENTS.items():
        if f"{GENERATED}/{name}.md" not in read(DOCS / page):
            found.append(f"docs/{page} does not include {GENERATED}/{name}.md")
    pages = [REPO / "README.md", *sorted(p for p in DOCS.rglob("*.md") if GENERATED not in p.parts)]
    copied = copied_texts()
    for path in pages:
        text = read(path)
        copies = [match.group(0) for pattern in HAND_COPIES if (match := pattern.search(text))]
        copies += [each for each in copied if each in _words(text)]
        found += [
            f"{path.relative_to(REPO)} holds a copy of a generated table: {each!r} (include it instead)"
            for each in copies
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="DIR", type=Path, help="write each fragment to DIR/<name>.md")
    group.add_argument(
        "--check", action="store_true", help="fail on a page missing its fragment, or a hand copy"
    )
    args = parser.parse_args()
    if args.write:
        for path in write(args.write):
            print(path)
    elif args.check:
        found = problems()
        if found:
            raise SystemExit("\n".join(found))
    else:
        for name, (generate, _) in FRAGMENTS.items():
            print(f"<!-- {name} -->\n{generate()}")


if __name__ == "__main__":
    main()
