"""The Airflow provider: run published notebooks by key and version from Airflow 3.

Airflow finds this package through the ``apache_airflow_provider`` entry point, which
names :func:`get_provider_info`, and the plugin (:mod:`bookstore.airflow.plugin`) through
the ``airflow.plugins`` entry point. Nothing outside this package imports Airflow, so the
Jupyter side installs without it.
"""

from __future__ import annotations

from typing import Any

from .._version import __version__

#: The distribution name. Airflow refuses a provider whose ``package-name`` differs from it.
PACKAGE_NAME = "notebook-bookstore"

#: The Airflow configuration section this provider reads (``[bookstore]`` in airflow.cfg,
#: or ``AIRFLOW__BOOKSTORE__<OPTION>`` in the environment).
CONFIG_SECTION = "bookstore"

#: Default of ``[bookstore] notebook_url_template``: the link to an executed notebook, the raw
#: URL of its object version on the connection's backend (:data:`bookstore.airflow.links.OBJECT_URLS`).
DEFAULT_NOTEBOOK_URL_TEMPLATE = "{object_url}"


def _text_field(label: str, description: str, default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if default is not None:
        schema["default"] = default
    return {"label": label, "description": description, "schema": schema}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ``ProvidersManager``.

    Airflow calls this for every installed provider while it discovers them, and an error
    here breaks discovery of all providers, so it imports nothing and only returns data.

    Returns
    -------
    dict
        Provider metadata in the shape of Airflow's ``provider_info.schema.json``.
    """
    return {
        "package-name": PACKAGE_NAME,
        "name": "Bookstore",
        "description": "Run Jupyter notebooks published to a versioned S3 or GCS bucket by bookstore, "
        "at their latest or a pinned version, with papermill.",
        "versions": [__version__],
        "integrations": [{"integration-name": "Bookstore", "tags": ["software"]}],
        "hooks": [{"integration-name": "Bookstore", "python-modules": ["bookstore.airflow.hooks"]}],
        "operators": [{"integration-name": "Bookstore", "python-modules": ["bookstore.airflow.operators"]}],
        "connection-types": [
            {
                "connection-type": "bookstore",
                "hook-class-name": "bookstore.airflow.hooks.BookstoreHook",
                "hook-name": "Bookstore (S3)",
                # Declared here rather than by the hook, so the connection form needs no import.
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host"],
                    "relabeling": {"login": "Access key id", "password": "Secret access key"},
                    "placeholders": {"login": "empty: the AWS default credential chain"},
                },
                "conn-fields": {
                    "bucket": _text_field("Bucket", "The versioned S3 bucket bookstore uses."),
                    "endpoint_url": _text_field(
                        "Endpoint URL", "For MinIO, SeaweedFS and other S3-compatible servers; empty for AWS."
                    ),
                    "region_name": _text_field("Region", "e.g. us-east-1; empty for the AWS default."),
                    "published_prefix": _text_field(
                        "Published prefix", "Key prefix of published notebooks.", "published"
                    ),
                    "runs_prefix": _text_field("Runs prefix", "Key prefix of executed notebooks.", "runs"),
                },
            }
        ],
        "extra-links": ["bookstore.airflow.links.ExecutedNotebookLink"],
        "config": {
            CONFIG_SECTION: {
                "description": "Settings of the bookstore provider.",
                "options": {
                    "notebook_url_template": {
                        "description": "Where the 'Executed notebook' link of a "
                        "PublishedNotebookOperator task points. A Python format string with "
                        "the fields {bucket}, {key}, {version_id}, {quoted_key} (the key "
                        "percent-encoded, '/' included), {endpoint_url} (the connection's "
                        "endpoint, or https://s3.<region>.amazonaws.com for S3 and "
                        "https://storage.googleapis.com for GCS) and {object_url} (the raw URL of "
                        "the object version: {endpoint_url}/{bucket}/{key}?versionId={version_id} "
                        "on S3, the JSON API's download URL with ?generation= on GCS). Point it "
                        "at a notebook viewer or your S3 or GCS console.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={quoted_key}",
                        "default": DEFAULT_NOTEBOOK_URL_TEMPLATE,
                    },
                    "executed_notebook_link": {
                        "description": "What the 'Executed notebook' link opens: 'viewer', the "
                        "notebook rendered as HTML by the bookstore plugin on Airflow's API "
                        "server, behind Airflow's sign-in; or 's3', notebook_url_template.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "s3",
                        "default": "viewer",
                    },
                },
            }
        },
    }
