"""Each user's own S3 identity, as ``BOOKSTORE_HUB=1 make run`` gives them: the store itself
keeps users apart.

A real SeaweedFS holding the administrator's identity and alice's and bob's
(:class:`devtools.seaweedfs.UserIdentity`), driven with boto3 and with the ``bookstore``
command as a user at a terminal would: bob's key is refused by S3 wherever it would write
under alice's prefixes, whatever bob's environment claims.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.seaweedfs import SeaweedFS, UserIdentity
from tests.helpers.cli import Cli, clean_env

BUCKET = "notebooks"
USERS = {name: UserIdentity(name, f"{name}-key", f"{name}-secret", BUCKET) for name in ("alice", "bob")}
TEAM_CONFIG = """\
c = get_config()
c.Bookstore.workspace_prefix = "workspace/{username}/notebooks"
c.Bookstore.published_prefix = "published/{username}/notebooks"
"""


@pytest.fixture(scope="module")
def team_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    server = SeaweedFS(tmp_path_factory.mktemp("team-s3"), users=list(USERS.values()))
    server.start()
    server.create_bucket(BUCKET)
    admin = server.client()
    for key in [
        "workspace/alice/notebooks/a.ipynb",
        "workspace/bob/notebooks/b.ipynb",
        "published/alice/notebooks/a.ipynb",
        "runs/@records/alice/notebooks/a.ipynb/1_run.json",
        "schedules/alice/notebooks/a.ipynb/daily.json",
    ]:
        admin.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    yield server
    server.kill()


def client(server: SeaweedFS, name: str) -> Any:
    user = USERS[name]
    return server.client(aws_access_key_id=user.access_key, aws_secret_access_key=user.secret_key)


def refused(call: Callable[[], Any]) -> bool:
    """Whether S3 answers ``call`` with AccessDenied (403)."""
    try:
        call()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def test_a_user_writes_under_their_own_prefixes_and_nowhere_else(team_s3: SeaweedFS) -> None:
    alice = client(team_s3, "alice")
    for key in [
        "workspace/alice/notebooks/new.ipynb",
        "published/alice/notebooks/new.ipynb",
        "schedules/alice/notebooks/new.ipynb/daily.json",
    ]:
        assert alice.put_object(Bucket=BUCKET, Key=key, Body=b"{}")["VersionId"]
    upload = alice.create_multipart_upload(Bucket=BUCKET, Key="workspace/alice/notebooks/big.ipynb")
    alice.abort_multipart_upload(
        Bucket=BUCKET, Key="workspace/alice/notebooks/big.ipynb", UploadId=upload["UploadId"]
    )

    bob = client(team_s3, "bob")
    for key in [
        "workspace/alice/notebooks/new.ipynb",
        "published/alice/notebooks/new.ipynb",
        "schedules/alice/notebooks/new.ipynb/daily.json",
        "runs/@records/alice/notebooks/a.ipynb/2_forged.json",  # run records are Airflow's
        "workspace/alice-and-bob/notebooks/x.ipynb",  # a prefix is a whole folder
        "x.ipynb",
    ]:
        assert refused(lambda key=key: bob.put_object(Bucket=BUCKET, Key=key, Body=b"{}")), key
    assert refused(
        lambda: bob.create_multipart_upload(Bucket=BUCKET, Key="published/alice/notebooks/big.ipynb")
    )
    assert refused(lambda: bob.delete_object(Bucket=BUCKET, Key="published/alice/notebooks/a.ipynb"))
    # A batch delete is checked key by key: S3 answers 200 with the refusal inside.
    batch = bob.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "published/alice/notebooks/a.ipynb"}]}
    )
    assert [error["Code"] for error in batch.get("Errors", [])] == ["AccessDenied"]
    assert team_s3.client().get_object(Bucket=BUCKET, Key="published/alice/notebooks/a.ipynb")["Body"].read()


def test_a_user_reads_every_publication_run_and_schedule_and_no_other_workspace(team_s3: SeaweedFS) -> None:
    bob = client(team_s3, "bob")
    for key in [
        "published/alice/notebooks/a.ipynb",
        "runs/@records/alice/notebooks/a.ipynb/1_run.json",
        "schedules/alice/notebooks/a.ipynb/daily.json",
        "workspace/bob/notebooks/b.ipynb",
    ]:
        assert bob.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"{}"
    listed = bob.list_objects_v2(Bucket=BUCKET, Prefix="published/")["Contents"]
    assert "published/alice/notebooks/a.ipynb" in {item["Key"] for item in listed}  # the team catalog
    versions = bob.list_object_versions(Bucket=BUCKET, Prefix="published/alice/notebooks/a.ipynb")
    assert versions["Versions"]
    assert bob.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"  # the bucket check

    assert refused(lambda: bob.get_object(Bucket=BUCKET, Key="workspace/alice/notebooks/a.ipynb"))
    assert refused(lambda: bob.head_object(Bucket=BUCKET, Key="workspace/alice/notebooks/a.ipynb"))
    assert refused(lambda: bob.list_object_versions(Bucket=BUCKET, Prefix="workspace/alice/"))
    assert refused(lambda: bob.list_object_versions(Bucket=BUCKET, Prefix="workspace/"))
    assert refused(lambda: bob.list_objects_v2(Bucket=BUCKET))  # the whole bucket


def test_publishing_copies_only_from_ones_own_workspace_into_ones_own_published_prefix(
    team_s3: SeaweedFS,
) -> None:
    bob = client(team_s3, "bob")
    saved = bob.put_object(Bucket=BUCKET, Key="workspace/bob/notebooks/c.ipynb", Body=b"{}")["VersionId"]
    source = {"Bucket": BUCKET, "Key": "workspace/bob/notebooks/c.ipynb", "VersionId": saved}
    assert bob.copy_object(Bucket=BUCKET, Key="published/bob/notebooks/c.ipynb", CopySource=source)[
        "VersionId"
    ]
    assert refused(
        lambda: bob.copy_object(Bucket=BUCKET, Key="published/alice/notebooks/c.ipynb", CopySource=source)
    )
    alices = {"Bucket": BUCKET, "Key": "workspace/alice/notebooks/a.ipynb"}
    assert refused(
        lambda: bob.copy_object(Bucket=BUCKET, Key="published/bob/notebooks/a.ipynb", CopySource=alices)
    )


def test_what_seaweedfs_identities_cannot_express(team_s3: SeaweedFS) -> None:
    """What the README and devtools/seaweedfs.py say SeaweedFS's identities do not do."""
    alice = client(team_s3, "alice")
    # Write is also delete: a user may delete versions under their own prefixes.
    version = alice.put_object(Bucket=BUCKET, Key="workspace/alice/notebooks/d.ipynb", Body=b"{}")[
        "VersionId"
    ]
    alice.delete_object(Bucket=BUCKET, Key="workspace/alice/notebooks/d.ipynb", VersionId=version)
    # No STS without an IAM configuration: the store cannot say whose a key is.
    user = USERS["alice"]
    sts = boto3.client(
        "sts",
        endpoint_url=team_s3.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=user.access_key,
        aws_secret_access_key=user.secret_key,
    )
    with pytest.raises(ClientError) as answer:
        sts.get_caller_identity()
    assert answer.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


# -- the bookstore command at bob's terminal -------------------------------------------------


@pytest.fixture
def team_cli(tmp_path: Path, team_s3: SeaweedFS) -> Cli:
    # Credentials from the terminal's environment only, as in a hub user's terminal.
    where = f'c.Bookstore.S3.bucket = "{BUCKET}"\nc.Bookstore.S3.endpoint_url = "{team_s3.endpoint_url}"\n'
    cli = Cli(tmp_path, TEAM_CONFIG + where + 'c.Bookstore.S3.region_name = "us-east-1"\n')
    cli.write("analysis/mine.ipynb", "x = 'from bob'")
    return cli


def as_user(cli: Cli, name: str, **env: str) -> dict[str, str]:
    """A terminal's environment holding ``name``'s S3 key (and ``env``)."""
    return clean_env(cli.tmp_path, **USERS[name].environment(), BOOKSTORE_ROOT_DIR=str(cli.root), **env)


def test_bob_naming_himself_alice_at_his_terminal_is_refused_by_the_store(
    team_cli: Cli, team_s3: SeaweedFS
) -> None:
    store = team_s3.store(BUCKET)
    before = store.head("published/alice/notebooks/a.ipynb")
    done = team_cli(
        "publish", "analysis/mine.ipynb", "--force", env=as_user(team_cli, "bob", JUPYTERHUB_USER="alice")
    )
    assert done.exit_code != 0
    assert "S3 refused the credentials" in done.stderr and "on 'workspace/alice/" in done.stderr
    assert "check whose access key this is" in done.stderr
    assert team_s3.access_key not in done.stderr and USERS["bob"].secret_key not in done.stderr
    listed = store._client.list_object_versions(Bucket=BUCKET, Prefix="published/alice/notebooks/analysis/")
    assert not listed.get("Versions")
    assert store.head("published/alice/notebooks/a.ipynb").version_id == before.version_id

    # As himself, bob publishes into his own prefix, recorded as his.
    done = team_cli(
        "publish", "analysis/mine.ipynb", "--json", env=as_user(team_cli, "bob", JUPYTERHUB_USER="bob")
    )
    assert done.exit_code == 0, done.stderr
    published = json.loads(done.stdout)
    assert published["key"] == "published/bob/notebooks/analysis/mine.ipynb"
    assert store.head(published["key"]).metadata["bookstore-published-by"] == "bob"
