"""The docs: the tables the code defines stay generated from it, and never copied by hand.

The docs build (``make docs``) generates the configuration reference, the errors' exit and
HTTP statuses, the archive's faults and the REST API reference with
``scripts/docs_reference.py``; these tests run its generators and its ``--check`` without
building the site.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bookstore import errors
from bookstore.cli import EPILOG
from bookstore.config import GCS, S3, Bookstore
from bookstore.jupyter.archive import ArchivingMixin
from bookstore.jupyter.archive_queue import ARCHIVE_ADVICE
from scripts import docs_reference

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def check() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "docs_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_check_passes_every_page_includes_its_table_and_none_holds_a_copy() -> None:
    done = check()
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("page", "copy"),
    [
        ("README.md", "| `c.Bookstore.S3.bucket` | Unicode | unset | Name of the bucket |"),
        ("docs/cli.md", "Exit status: 0 success, 2 bad input, 3 not found."),
        ("docs/troubleshooting.md", '| `"fault": "throttled"` | S3 asks for fewer requests. |'),
        # Word for word, whatever the layout: a setting's help, the archive's advice.
        ("docs/configuration.md", "- `upload_workers`: " + str(ArchivingMixin.upload_workers.help)),
        ("README.md", "Throttled? " + ARCHIVE_ADVICE[errors.THROTTLED].replace(" ", "\n", 3)),
    ],
)
def test_a_hand_copy_of_a_generated_table_is_found(page: str, copy: str) -> None:
    path = REPO / page
    assert docs_reference.problems() == []
    found = docs_reference.problems({path: f"{path.read_text(encoding='utf-8')}\n{copy}\n"})
    assert len(found) == 1 and found[0].startswith(f"{page} holds a copy of a generated table"), found


def test_a_page_that_stops_including_its_table_is_found() -> None:
    path = DOCS / "configuration.md"
    text = path.read_text(encoding="utf-8").replace("_generated/config-reference.md", "config.md")
    assert docs_reference.problems({path: text}) == [
        "docs/configuration.md does not include _generated/config-reference.md"
    ]


def test_the_configuration_reference_has_every_setting() -> None:
    reference = docs_reference.config_reference()
    for prefix, cls in (
        ("c.Bookstore", Bookstore),
        ("c.Bookstore.S3", S3),
        ("c.Bookstore.GCS", GCS),
        ("c.BookstoreContentsArchiver", ArchivingMixin),
    ):
        for name, trait in cls.class_traits(config=True).items():
            row = next(line for line in reference.splitlines() if line.startswith(f"| `{prefix}.{name}` |"))
            assert " ".join(str(trait.help).split())[:60] in row.replace("\\", "")
    assert "`c.BookstoreExtension.publish_wait_timeout`" in reference
    # jupyter_server's own ExtensionApp settings are not bookstore's.
    assert "c.BookstoreExtension.open_browser" not in reference


def test_the_exit_statuses_are_those_of_the_errors() -> None:
    table = docs_reference.exit_statuses()
    rows = {line.split("|")[2].strip(): line.split("|") for line in table.splitlines()[2:]}
    classes = docs_reference.error_classes()
    assert {errors.BookstoreError, errors.NotFoundError, errors.MisconfiguredError} <= set(classes)
    for cls in classes:
        (row,) = [cells for name, cells in rows.items() if name.startswith(f"`{cls.__name__}`")]
        assert int(row[1]) == cls.exit_status and int(row[3]) == cls.http_status, cls
    # The command's --help says the same statuses (its epilog is built from the error classes).
    for status in {cls.exit_status for cls in classes}:
        assert re.search(rf"\b{status} \w", EPILOG), status


def test_every_fault_is_in_the_troubleshooting_table_with_the_archives_advice() -> None:
    table = docs_reference.archive_faults()
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}
    assert set(rows) == set(docs_reference.faults())
    assert {errors.THROTTLED, errors.VERSIONING_OFF, errors.NO_ANSWER} <= set(rows)
    for fault, advice in ARCHIVE_ADVICE.items():
        assert docs_reference.cell(advice) in rows[fault]
    assert "put-bucket-versioning" in rows[errors.VERSIONING_OFF]


def test_the_rest_reference_has_every_operation_and_schema() -> None:
    document = yaml.safe_load((REPO / "bookstore" / "jupyter" / "openapi.yaml").read_text(encoding="utf-8"))
    reference = docs_reference.rest_reference()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert f"### `{method.upper()} {path}`" in reference
            assert f"(openapi-{operation['operationId'].lower()})=" in reference
    for name in document["components"]["schemas"]:
        assert f"({docs_reference.schema_label(name)})=" in reference


def test_kubernetes_pod_template_has_the_shape_the_executor_needs() -> None:
    """The pod template is untested on a cluster (docs/kubernetes.md says so); its shape is."""
    import yaml

    template = yaml.safe_load((REPO / "docs" / "kubernetes" / "pod_template.yaml").read_text())
    assert template["kind"] == "Pod" and template["apiVersion"] == "v1"
    spec = template["spec"]
    (base,) = [c for c in spec["containers"] if c["name"] == "base"]  # where the executor runs the task
    env = {item["name"]: item for item in base["env"]}
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]["value"].endswith("/execution/")
    # Credentials come from a secret, never from the template.
    assert "secretKeyRef" in env["AIRFLOW_CONN_BOOKSTORE_DEFAULT"]["valueFrom"]
    assert "value" not in env["AIRFLOW_CONN_BOOKSTORE_DEFAULT"]
    # The task's temporary files live and die with the pod.
    tmp = {m["name"] for m in base["volumeMounts"] if m["mountPath"] == env["TMPDIR"]["value"]}
    assert {v["name"] for v in spec["volumes"] if "emptyDir" in v} >= tmp and tmp
    assert spec["terminationGracePeriodSeconds"] > 5
    page = (REPO / "docs" / "kubernetes.md").read_text()
    assert "Not tested" in page and "kubernetes/pod_template.yaml" in page
