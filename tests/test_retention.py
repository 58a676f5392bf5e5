"""``bookstore retention``: the S3 lifecycle rule for noncurrent workspace versions, against a
real SeaweedFS (which stores lifecycle configurations; S3 acting on them takes days, which a
test cannot wait for, so what is checked is the configuration the bucket holds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from bookstore.errors import FeatureUnavailableError
from bookstore.s3 import S3Store
from bookstore.store import Lifecycle
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.cli import CONFIG, Cli

TEAM_CONFIG = """\
c = get_config()
c.Bookstore.workspace_prefix = "workspace/{username}/notebooks"
c.Bookstore.published_prefix = "published/{username}/notebooks"
c.Bookstore.username = "kylek"
"""

OTHER_RULES = [
    {"ID": "tmp-cleanup", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}},
    {
        "ID": "abort-uploads",
        "Status": "Enabled",
        "Filter": {},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    },
]


@pytest.fixture
def bucket(s3_server: SeaweedFS) -> str:
    return s3_server.create_bucket(new_bucket_name())


def cli_for(tmp_path: Path, s3_server: SeaweedFS, bucket: str, config: str = CONFIG) -> Cli:
    return Cli(tmp_path, config + s3_server.bookstore_config(bucket))


def rules_in(s3_server: SeaweedFS, bucket: str) -> list[dict[str, Any]] | None:
    """The bucket's lifecycle rules as a plain S3 client reads them (None: no configuration)."""
    client = s3_server.client()
    try:
        return list(client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])
    except client.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
        return None


def put_rules(s3_server: SeaweedFS, bucket: str, rules: list[dict[str, Any]]) -> None:
    s3_server.client().put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )


def test_a_bucket_without_rules_keeps_every_save(tmp_path: Path, s3_server: SeaweedFS, bucket: str) -> None:
    cli = cli_for(tmp_path, s3_server, bucket)

    shown = cli.json("retention")
    text = cli("retention")

    assert shown == {
        "bucket": bucket,
        "workspace_prefix": "workspace/kylek/notebooks/",
        "rule": None,
        "other_rules": [],
        "changed": False,
        "dry_run": False,
    }
    assert text.exit_code == 0
    assert "no retention rule: every save is kept for ever" in text.stdout


def test_setting_retention_writes_one_rule_for_the_workspace_only(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = cli_for(tmp_path, s3_server, bucket)

    answer = cli.json("retention", "--noncurrent-days", "30", "--keep", "5")

    assert answer["changed"] is True
    assert answer["rule"] == {
        "id": "bookstore-noncurrent-workspace:workspace/kylek/notebooks",
        "enabled": True,
        "noncurrent_days": 30,
        "keep": 5,
    }
    assert rules_in(s3_server, bucket) == [
        {
            "ID": "bookstore-noncurrent-workspace:workspace/kylek/notebooks",
            "Status": "Enabled",
            "Filter": {"Prefix": "workspace/kylek/notebooks/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 5},
        }
    ]
    text = cli("retention")
    assert "deleted 30 days later, except the 5 newest of them" in text.stdout
    # The same again changes nothing.
    assert cli.json("retention", "--noncurrent-days", "30", "--keep", "5")["changed"] is False


def test_the_bucket_s_other_rules_are_kept_and_those_reaching_published_keys_named(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    put_rules(s3_server, bucket, OTHER_RULES)
    cli = cli_for(tmp_path, s3_server, bucket)

    cli.json("retention", "--noncurrent-days", "30")
    changed = cli.json("retention", "--noncurrent-days", "60", "--keep", "3")

    held = rules_in(s3_server, bucket)
    assert held is not None
    assert [rule for rule in held if not rule["ID"].startswith("bookstore-")] == OTHER_RULES
    ours = [rule for rule in held if rule["ID"].startswith("bookstore-")]
    assert [r["NoncurrentVersionExpiration"] for r in ours] == [
        {"NoncurrentDays": 60, "NewerNoncurrentVersions": 3}
    ]
    others = {rule["id"]: rule for rule in changed["other_rules"]}
    assert others["tmp-cleanup"]["reaches"] == []
    assert others["abort-uploads"]["reaches"] == ["published", "runs"]
    assert "note: rule 'abort-uploads' also applies to published and runs keys" in cli("retention").stdout

    removed = cli.json("retention", "--remove")

    assert removed["changed"] is True and removed["rule"] is None
    assert rules_in(s3_server, bucket) == OTHER_RULES


def test_removing_the_only_rule_deletes_the_configuration(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = cli_for(tmp_path, s3_server, bucket)
    cli.json("retention", "--noncurrent-days", "7")

    assert cli.json("retention", "--remove")["changed"] is True

    assert rules_in(s3_server, bucket) is None
    assert cli.json("retention", "--remove")["changed"] is False


def test_a_team_configuration_gets_one_rule_for_every_user_s_workspace(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = cli_for(tmp_path, s3_server, bucket, TEAM_CONFIG)

    cli.json("retention", "--noncurrent-days", "14")

    assert rules_in(s3_server, bucket) == [
        {
            "ID": "bookstore-noncurrent-workspace:workspace",
            "Status": "Enabled",
            "Filter": {"Prefix": "workspace/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 14},
        }
    ]


def test_a_dry_run_shows_the_rule_and_changes_nothing(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str
) -> None:
    cli = cli_for(tmp_path, s3_server, bucket)

    answer = cli.json("retention", "--noncurrent-days", "30", "--dry-run")
    text = cli("retention", "--noncurrent-days", "30", "--dry-run")

    assert answer["rule"]["noncurrent_days"] == 30
    assert answer["changed"] is False and answer["dry_run"] is True
    assert "would be set" in text.stdout
    assert rules_in(s3_server, bucket) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--keep", "5"), "--keep needs --noncurrent-days"),
        (("--noncurrent-days", "0"), "--noncurrent-days must be 1 or more, not 0"),
        (("--noncurrent-days", "30", "--keep", "101"), "--keep must be between 1 and 100"),
        (("--remove", "--noncurrent-days", "3"), "--remove takes neither"),
        (("--noncurrent-days", "soon"), "'soon' is not a valid integer"),
    ],
)
def test_bad_values_are_refused_before_s3_is_asked(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str, args: tuple[str, ...], message: str
) -> None:
    done = cli_for(tmp_path, s3_server, bucket)("retention", *args)

    assert done.exit_code == 2
    assert message in done.stderr
    assert rules_in(s3_server, bucket) is None


@pytest.mark.parametrize(
    ("prefixes", "message"),
    [
        (("", "published"), "the workspace prefix is the whole bucket"),
        (("notebooks", "notebooks/published"), "overlap"),
        (("runs/kylek", "published"), "the workspace root 'runs/kylek' and the runs prefix 'runs' overlap"),
    ],
)
def test_a_rule_that_would_reach_published_or_runs_keys_is_refused(
    tmp_path: Path, s3_server: SeaweedFS, bucket: str, prefixes: tuple[str, str], message: str
) -> None:
    workspace, published = prefixes
    config = (
        f'c = get_config()\nc.Bookstore.workspace_prefix = "{workspace}"\n'
        f'c.Bookstore.published_prefix = "{published}"\nc.Bookstore.published_root = "{published}"\n'
    )

    done = cli_for(tmp_path, s3_server, bucket, config)("retention", "--noncurrent-days", "30")

    assert done.exit_code == 6, done.output
    assert message in done.stderr
    assert rules_in(s3_server, bucket) is None


def test_refused_credentials_say_so(tmp_path: Path, s3_server: SeaweedFS, bucket: str) -> None:
    cli = Cli(tmp_path, CONFIG + s3_server.bookstore_config(bucket, secret_key="wrong"))

    done = cli("retention", "--noncurrent-days", "30")

    assert done.exit_code == 6
    assert "S3 refused the credentials" in done.stderr
    assert "wrong" not in done.stderr


def test_an_s3_server_without_lifecycle_rules_is_named(s3_server: SeaweedFS, bucket: str) -> None:
    """SeaweedFS (like AWS and MinIO) stores lifecycle rules, so a server that answers
    NotImplemented is played by botocore's Stubber on the store's own client."""
    store: S3Store = s3_server.store(bucket)
    with Stubber(store._client) as stub:
        stub.add_client_error(
            "get_bucket_lifecycle_configuration", "NotImplemented", "not implemented", http_status_code=501
        )
        with pytest.raises(FeatureUnavailableError, match="does not support this request"):
            store.lifecycle()
    assert store.lifecycle() == Lifecycle()


def test_the_json_answer_is_the_documented_shape(tmp_path: Path, s3_server: SeaweedFS, bucket: str) -> None:
    put_rules(s3_server, bucket, OTHER_RULES[:1])
    done = cli_for(tmp_path, s3_server, bucket)("retention", "--noncurrent-days", "30", "--json")

    answer = json.loads(done.stdout)

    assert set(answer) == {"bucket", "workspace_prefix", "rule", "other_rules", "changed", "dry_run"}
    assert answer["other_rules"] == [
        {
            "id": "tmp-cleanup",
            "enabled": True,
            "prefix": "tmp/",
            "conditional": False,
            "actions": ["Expiration"],
            "reaches": [],
        }
    ]


@pytest.mark.parametrize(
    ("document", "prefix", "conditional", "reaches_published"),
    [
        ({"ID": "old", "Status": "Enabled", "Prefix": "", "Expiration": {"Days": 1}}, "", False, True),
        (
            {
                "ID": "tagged",
                "Status": "Enabled",
                "Filter": {"And": {"Prefix": "published/", "Tags": [{"Key": "k", "Value": "v"}]}},
                "Expiration": {"Days": 1},
            },
            "published/",
            True,
            True,
        ),
        ({"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 10}}, "", True, True),
        ({"ID": "pub", "Status": "Enabled", "Filter": {"Prefix": "pub"}}, "pub", False, True),
        ({"ID": "ws", "Status": "Enabled", "Filter": {"Prefix": "workspace/"}}, "workspace/", False, False),
    ],
)
def test_which_keys_another_rule_reaches(
    document: dict[str, Any], prefix: str, conditional: bool, reaches_published: bool
) -> None:
    from bookstore.retention import reaches
    from bookstore.store import LifecycleRule

    rule = LifecycleRule.from_document(document)

    assert (rule.prefix, rule.conditional) == (prefix, conditional)
    assert reaches(rule, "published") is reaches_published
