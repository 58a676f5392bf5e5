"""The README's configuration reference is generated from the traits and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_readme_configuration_reference_matches_the_traits() -> None:
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "config_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    readme = (REPO / "README.md").read_text()
    for setting in ("c.Bookstore.S3.bucket", "c.BookstoreContentsArchiver.max_spool_bytes"):
        assert f"`{setting}`" in readme


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
