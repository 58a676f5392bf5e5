"""Configuration, declared once as traitlets.

``Bookstore`` holds the prefixes and the backend; its child configurable ``S3`` holds the
bucket, endpoint and credentials, so the lines of a Jupyter config file read::

    c.Bookstore.workspace_prefix = "/workspace/kylek/notebooks"
    c.Bookstore.S3.bucket = "notebooks"

(traitlets looks up ``c.Bookstore.S3`` for an ``S3`` whose parent is a ``Bookstore``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from traitlets import Instance, Unicode, default, validate
from traitlets.config import Configurable

from .errors import InvalidPathError, MisconfiguredError
from .keys import normalize_prefix

if TYPE_CHECKING:
    from .store import Patience, Store

#: Where saves, publications and executed notebooks go unless configured otherwise: the
#: Jupyter settings below, the Airflow connection's extras and the CLI all use these.
DEFAULT_WORKSPACE_PREFIX = "workspace"
DEFAULT_PUBLISHED_PREFIX = "published"
DEFAULT_RUNS_PREFIX = "runs"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


class S3(Configurable):
    """Where the versioned bucket is and how to sign in to it."""

    bucket = Unicode(
        help="Name of the versioned S3 bucket that holds every notebook version "
        "(default: $BOOKSTORE_S3_BUCKET). Versioning must be enabled on it.",
    ).tag(config=True)

    endpoint_url = Unicode(
        None,
        allow_none=True,
        help="URL of an S3-compatible server such as MinIO or SeaweedFS, e.g. "
        "'http://127.0.0.1:8333' (default: $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL; "
        "AWS S3 when unset).",
    ).tag(config=True)

    region_name = Unicode(
        None,
        allow_none=True,
        help="AWS region of the bucket (default: $AWS_REGION, $AWS_DEFAULT_REGION or the "
        "AWS configuration files).",
    ).tag(config=True)

    access_key_id = Unicode(
        None,
        allow_none=True,
        help="Access key id. Leave unset to use the AWS default credential chain "
        "(environment, ~/.aws, instance role).",
    ).tag(config=True)

    secret_access_key = Unicode(
        None,
        allow_none=True,
        help="Secret access key paired with access_key_id. bookstore never logs or returns it; "
        "prefer the AWS credential chain, since Jupyter's --debug log prints all configuration.",
    ).tag(config=True)

    @default("bucket")
    def _default_bucket(self) -> str:
        return _env("BOOKSTORE_S3_BUCKET") or ""

    @default("endpoint_url")
    def _default_endpoint_url(self) -> str | None:
        return _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")

    @default("region_name")
    def _default_region_name(self) -> str | None:
        return _env("AWS_REGION", "AWS_DEFAULT_REGION")

    @validate("endpoint_url")
    def _validate_endpoint_url(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        if value and not value.startswith(("http://", "https://")):
            raise MisconfiguredError(
                f"c.Bookstore.S3.endpoint_url must start with http:// or https://, not {value!r}"
            )
        return value or None


class Bookstore(Configurable):
    """Where notebooks go in the bucket, and which storage backend keeps them."""

    workspace_prefix = Unicode(
        DEFAULT_WORKSPACE_PREFIX,
        help="Key prefix every save is archived under, e.g. '/workspace/kylek/notebooks'. "
        "Leading and trailing slashes are ignored.",
    ).tag(config=True)

    published_prefix = Unicode(
        DEFAULT_PUBLISHED_PREFIX,
        help="Key prefix published notebooks are copied to, e.g. '/published/kylek/notebooks'.",
    ).tag(config=True)

    backend = Unicode(
        "s3",
        help="Storage backend. Only 's3' (AWS S3 or any S3-compatible server) exists today.",
    ).tag(config=True)

    s3 = Instance(S3, help="The S3 settings, configured as c.Bookstore.S3.<name>.")

    @default("s3")
    def _default_s3(self) -> S3:
        return S3(parent=self)

    @validate("workspace_prefix", "published_prefix")
    def _validate_prefix(self, proposal: dict[str, Any]) -> str:
        try:
            return normalize_prefix(proposal["value"])
        except InvalidPathError as e:
            raise MisconfiguredError(f"c.Bookstore.{proposal['trait'].name}: {e}") from e

    @validate("backend")
    def _validate_backend(self, proposal: dict[str, Any]) -> str:
        from .store import check_backend_name

        value = str(proposal["value"]).lower()
        check_backend_name(value)
        return value

    def create_store(self, patience: Patience | None = None) -> Store:
        """Build the store these settings describe (one client, reused).

        ``patience`` defaults to :data:`~bookstore.store.INTERACTIVE`: a person is waiting.

        Raises
        ------
        MisconfiguredError
            No bucket is configured, or the settings cannot work.
        """
        from .store import INTERACTIVE, backend

        return backend(self.backend)(self, patience or INTERACTIVE)

    def describe(self) -> dict[str, Any]:
        """The settings a status page may show: never a credential."""
        return {
            "backend": self.backend,
            "bucket": self.s3.bucket,
            "endpoint_url": self.s3.endpoint_url,
            "workspace_prefix": self.workspace_prefix,
            "published_prefix": self.published_prefix,
        }
