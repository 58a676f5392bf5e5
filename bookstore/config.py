"""Configuration, declared once as traitlets.

``Bookstore`` holds the prefixes and the backend; its child configurables ``S3`` and ``GCS``
hold each backend's bucket, endpoint and credentials, so the lines of a Jupyter config file
read::

    c.Bookstore.workspace_prefix = "/workspace/kylek/notebooks"
    c.Bookstore.S3.bucket = "notebooks"

(traitlets looks up ``c.Bookstore.S3`` for an ``S3`` whose parent is a ``Bookstore``). What
the chosen backend's settings say reaches the backend as a plain mapping
(:meth:`Bookstore.store_settings`), as the Airflow hook's connection does.

A prefix may name the server's owner, so that one configuration serves a whole JupyterHub::

    c.Bookstore.workspace_prefix = "workspace/{username}/notebooks"

``{username}`` is resolved here, once, when the settings are read: everything else sees plain
prefixes (``workspace/alice/notebooks``). An owner name that is not safe in a key stops
start-up with :class:`~bookstore.errors.MisconfiguredError`.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from traitlets import Dict, Instance, Unicode, default, observe, validate
from traitlets.config import Configurable

from .errors import InvalidPathError, MisconfiguredError
from .keys import (
    USERNAME,
    USERNAME_CHARACTERS,
    check_template,
    default_published_root,
    has_username,
    is_under,
    normalize_prefix,
    owner_index,
    resolve_prefix,
    template_root,
)

if TYPE_CHECKING:
    from .store import Patience, Store

#: Where saves, publications and executed notebooks go unless configured otherwise: the
#: Jupyter settings below, the Airflow connection's extras and the CLI all use these.
DEFAULT_WORKSPACE_PREFIX = "workspace"
DEFAULT_PUBLISHED_PREFIX = "published"
DEFAULT_RUNS_PREFIX = "runs"
DEFAULT_SCHEDULES_ROOT = "schedules"


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def login_name() -> str | None:
    """The server's owner when nothing configures one: ``$JUPYTERHUB_USER`` (JupyterHub
    started the server), otherwise the OS login name; None when neither can be told."""
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if hub_user is not None:
        return hub_user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a uid without a passwd entry, and no $USER
        return None


def _endpoint_url(backend: str, value: str | None) -> str | None:
    """An endpoint setting of ``c.Bookstore.<backend>``: an http(s) URL, or None."""
    if value and not value.startswith(("http://", "https://")):
        raise MisconfiguredError(
            f"c.Bookstore.{backend}.endpoint_url must start with http:// or https://, not {value!r}"
        )
    return value or None


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
        return _endpoint_url("S3", proposal["value"])


class GCS(Configurable):
    """Where the versioned Google Cloud Storage bucket is and how to sign in to it."""

    bucket = Unicode(
        help="Name of the Google Cloud Storage bucket that holds every notebook version, with "
        "object versioning on (default: $BOOKSTORE_GCS_BUCKET).",
    ).tag(config=True)

    project = Unicode(
        None,
        allow_none=True,
        help="Google Cloud project of the bucket (default: $GOOGLE_CLOUD_PROJECT, or the "
        "credentials' own project).",
    ).tag(config=True)

    endpoint_url = Unicode(
        None,
        allow_none=True,
        help="URL of a GCS-API server other than Google's, such as fake-gcs-server, e.g. "
        "'http://127.0.0.1:4443' (default: $STORAGE_EMULATOR_HOST; Google Cloud Storage when "
        "unset). With an endpoint and no credentials file, requests are anonymous.",
    ).tag(config=True)

    credentials_file = Unicode(
        None,
        allow_none=True,
        help="Path of a service-account key file. Leave unset to use Application Default "
        "Credentials ($GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the metadata server, "
        "Workload Identity on GKE).",
    ).tag(config=True)

    @default("bucket")
    def _default_bucket(self) -> str:
        return _env("BOOKSTORE_GCS_BUCKET") or ""

    @default("project")
    def _default_project(self) -> str | None:
        return _env("GOOGLE_CLOUD_PROJECT")

    @default("endpoint_url")
    def _default_endpoint_url(self) -> str | None:
        return _env("STORAGE_EMULATOR_HOST")

    @validate("endpoint_url")
    def _validate_endpoint_url(self, proposal: dict[str, Any]) -> str | None:
        return _endpoint_url("GCS", proposal["value"])


class Bookstore(Configurable):
    """Where notebooks go in the bucket, and which storage backend keeps them."""

    workspace_prefix = Unicode(
        DEFAULT_WORKSPACE_PREFIX,
        help="Key prefix every save is archived under, e.g. '/workspace/kylek/notebooks', or "
        "'workspace/{username}/notebooks' for one configuration serving every user of a "
        "JupyterHub ({username}: see c.Bookstore.username). Leading and trailing slashes are ignored.",
    ).tag(config=True)

    published_prefix = Unicode(
        DEFAULT_PUBLISHED_PREFIX,
        help="Key prefix published notebooks are copied to, e.g. '/published/kylek/notebooks' or "
        "'published/{username}/notebooks'.",
    ).tag(config=True)

    username = Unicode(
        None,
        allow_none=True,
        help="The server's owner, which replaces {username} in the prefixes (default: "
        "$JUPYTERHUB_USER when JupyterHub started the server, otherwise the OS login name). "
        "With static prefixes, set it to the name they use (e.g. 'kylek' for "
        "'/published/kylek/notebooks') to record it as the publisher of what this server "
        "publishes; the OS login name is never recorded for static prefixes. "
        f"It may hold only {USERNAME_CHARACTERS}, at most 128 of them, and not be '.' or '..': "
        "another name stops start-up. Read once at start-up.",
    ).tag(config=True)

    published_root = Unicode(
        None,
        allow_none=True,
        help="Key prefix the team catalog lists, and that notebook keys (an Airflow task's "
        "notebook_key) are relative to (default: published_prefix up to {username}, e.g. "
        "'published'; for a prefix without {username}, its first segment, or the whole "
        "prefix when the workspace prefix lies under that segment). It must hold the "
        "published prefix and no workspace.",
    ).tag(config=True)

    runs_prefix = Unicode(
        DEFAULT_RUNS_PREFIX,
        help="Key prefix executed notebooks and their run records are under: the runs_prefix "
        "of the Airflow connection that runs them (default 'runs'). The Runs view reads the "
        "records there.",
    ).tag(config=True)

    schedules_root = Unicode(
        DEFAULT_SCHEDULES_ROOT,
        help="Key prefix schedules are kept under, one JSON document each at "
        "<schedules_root>/<notebook key>/<name>.json: the schedules_root of the Airflow "
        "connection whose dags/bookstore_schedules.py renders them as DAGs (default 'schedules').",
    ).tag(config=True)

    airflow_url = Unicode(
        None,
        allow_none=True,
        help="Base URL of the Airflow UI that runs the published notebooks, e.g. "
        "'http://localhost:8080'. When set, the Runs view links each run Airflow made to its "
        "task and to the executed notebook in Airflow's viewer; unset, no links.",
    ).tag(config=True)

    backend = Unicode(
        "s3",
        help="Storage backend: 's3' (AWS S3 or any S3-compatible server, settings in "
        "c.Bookstore.S3), 'gcs' (Google Cloud Storage, settings in c.Bookstore.GCS), or a "
        "backend another package offers (settings in c.Bookstore.backend_settings).",
    ).tag(config=True)

    backend_settings = Dict(
        help="The settings of a backend another package offers (its 'bucket' and what else it "
        "takes), as the plain mapping that backend is built from. Unused by 's3' and 'gcs'.",
    ).tag(config=True)

    s3 = Instance(S3, help="The S3 settings, configured as c.Bookstore.S3.<name>.")

    gcs = Instance(GCS, help="The Google Cloud Storage settings, configured as c.Bookstore.GCS.<name>.")

    def __init__(self, **kwargs: Any) -> None:
        # The prefixes as configured, {username} and all (the traits hold them resolved).
        self._templates: dict[str, str] = {}
        # Whether the configuration (or a caller) set the username, rather than its default.
        self._username_given = False
        super().__init__(**kwargs)

    @default("s3")
    def _default_s3(self) -> S3:
        return S3(parent=self)

    @default("gcs")
    def _default_gcs(self) -> GCS:
        return GCS(parent=self)

    @default("username")
    def _default_username(self) -> str | None:
        return login_name()

    @validate("workspace_prefix", "published_prefix")
    def _validate_prefix(self, proposal: dict[str, Any]) -> str:
        name = proposal["trait"].name
        try:
            template = check_template(proposal["value"])
        except InvalidPathError as e:
            raise MisconfiguredError(f"c.Bookstore.{name}: {e}") from e
        self._templates[name] = template
        return self._resolve(name, template)

    @validate("runs_prefix", "schedules_root")
    def _validate_runs_prefix(self, proposal: dict[str, Any]) -> str:
        # Executed notebooks are read only from under this prefix: it may not be the whole
        # bucket, nor hold what users save or publish.
        name = proposal["trait"].name
        example = DEFAULT_RUNS_PREFIX if name == "runs_prefix" else DEFAULT_SCHEDULES_ROOT
        try:
            value = normalize_prefix(proposal["value"])
        except InvalidPathError as e:
            raise MisconfiguredError(f"c.Bookstore.{name}: {e}") from e
        if not value or "{" in value:
            given = proposal["value"]
            raise MisconfiguredError(
                f"c.Bookstore.{name} must name a folder of the bucket (such as {example!r}), not {given!r}"
            )
        return value

    @observe("username")
    def _username_changed(self, change: dict[str, Any]) -> None:
        self._username_given = True
        for name, template in list(self._templates.items()):
            if has_username(template):
                self.set_trait(name, template)

    def _resolve(self, name: str, template: str) -> str:
        if not has_username(template):
            return template
        owner = self.username
        if owner is None:
            raise MisconfiguredError(
                f"c.Bookstore.{name} = {template!r} names the server's owner, but there is none: "
                "$JUPYTERHUB_USER is unset and the OS login name cannot be read; set "
                "c.Bookstore.username"
            )
        try:
            return resolve_prefix(template, owner)
        except InvalidPathError as e:
            raise MisconfiguredError(
                f"c.Bookstore.{name} = {template!r} cannot name this server's owner "
                f"{owner!r} ({self._owner_source(owner)}): {e}. Fix: give the user such a name (on "
                "JupyterHub: Authenticator.username_map, or your authenticator's normalize_username), "
                "or set c.Bookstore.username to a safe name for this user"
            ) from e

    def _owner_source(self, owner: str) -> str:
        if self.trait_has_value("username") and owner != login_name():
            return "c.Bookstore.username"
        if os.environ.get("JUPYTERHUB_USER") == owner:
            return "from $JUPYTERHUB_USER"
        return "the OS login name"

    def owner(self) -> str | None:
        """The owner the prefixes belong to: who a publication is recorded as published by
        when no authenticated user names someone (a plain Jupyter server's token, the CLI).

        The ``{username}`` the prefixes resolve, or, for static prefixes, ``c.Bookstore.username``
        when it is configured; None when static prefixes name nobody (the OS login running the
        server is no name of theirs).
        """
        names_owner = any(
            has_username(self.template(name)) for name in ("workspace_prefix", "published_prefix")
        )
        return self.username if names_owner or self._username_given else None

    def template(self, name: str) -> str:
        """The prefix ``name`` (``workspace_prefix`` or ``published_prefix``) as configured,
        ``{username}`` included; the trait itself holds it resolved."""
        return self._templates.get(name) or check_template(getattr(self, name))

    def published_layout(self) -> tuple[str, int | None]:
        """The published root, and which segment of a notebook key below it names the
        owner (None when the prefixes name no owner).

        Raises
        ------
        MisconfiguredError
            The root does not hold the published prefix, or holds the workspace.
        """
        published = self.template("published_prefix")
        workspace_root = template_root(self.template("workspace_prefix"))
        if self.published_root is None:
            root = default_published_root(published, self.template("workspace_prefix"))
        else:
            try:
                root = normalize_prefix(self.published_root)
            except InvalidPathError as e:
                raise MisconfiguredError(f"c.Bookstore.published_root: {e}") from e
            if not is_under(published, root):
                raise MisconfiguredError(
                    f"c.Bookstore.published_root = {root!r} does not hold the published prefix "
                    f"{published!r}: use a leading part of it, e.g. {template_root(published)!r}"
                )
        if is_under(workspace_root, root):
            raise MisconfiguredError(
                f"the published root {root!r} would hold the workspaces ({workspace_root!r}), "
                "which the team catalog must never list: give published_prefix a first segment of "
                f"its own (e.g. 'published/{USERNAME}/notebooks'), or set c.Bookstore.published_root"
            )
        return root, owner_index(published, root)

    @validate("backend")
    def _validate_backend(self, proposal: dict[str, Any]) -> str:
        from .backends import check_backend_name

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
        from .backends import build_store

        return build_store(self.backend, self.store_settings(), patience)

    def store_settings(self) -> dict[str, Any]:
        """The chosen backend's settings, as the plain mapping the backend is built from."""
        child = {"s3": self.s3, "gcs": self.gcs}.get(self.backend)
        if child is None:
            return dict(self.backend_settings)
        return {name: getattr(child, name) for name in child.trait_names(config=True)}

    def describe(self) -> dict[str, Any]:
        """The settings a status page may show: never a credential."""
        from .backends import uri_scheme

        settings = self.store_settings()
        bucket = settings.get("bucket")
        return {
            "backend": self.backend,
            "bucket": bucket,
            "bucket_uri": f"{uri_scheme(self.backend)}://{bucket}" if bucket else None,
            "endpoint_url": settings.get("endpoint_url"),
            "workspace_prefix": self.workspace_prefix,
            "published_prefix": self.published_prefix,
            "published_root": self.published_layout()[0],
            "username": self.username,
        }
