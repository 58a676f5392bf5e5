"""Configuration: the seed's lines work verbatim; bad settings fail with a fix in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from bookstore import S3, Bookstore
from bookstore.errors import MisconfiguredError
from tests.helpers.jupyter_process import SEED_CONFIG


def load(tmp_path: Path, text: str) -> Config:
    (tmp_path / "jupyter_server_config.py").write_text(text)
    return PyFileConfigLoader("jupyter_server_config.py", path=str(tmp_path)).load_config()


def test_seed_configuration_works_verbatim(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        SEED_CONFIG.format(
            bucket="notebooks", endpoint_url="http://127.0.0.1:8333", access_key="AK", secret_key="SK"
        ),
    )
    from bookstore import BookstoreContentsArchiver

    assert config.ServerApp.contents_manager_class is BookstoreContentsArchiver
    settings = Bookstore(config=config)
    assert settings.workspace_prefix == "workspace/kylek/notebooks"
    assert settings.published_prefix == "published/kylek/notebooks"
    assert settings.backend == "s3"
    assert isinstance(settings.s3, S3)
    assert settings.s3.bucket == "notebooks"
    assert settings.s3.endpoint_url == "http://127.0.0.1:8333"
    assert settings.s3.region_name == "us-east-1"
    assert settings.s3.access_key_id == "AK"
    assert settings.s3.secret_access_key == "SK"


def test_description_never_includes_credentials() -> None:
    config = Config()
    config.Bookstore.S3.bucket = "notebooks"
    config.Bookstore.S3.access_key_id = "AKIDVISIBLE"
    config.Bookstore.S3.secret_access_key = "very-secret-value"
    described = repr(Bookstore(config=config).describe())
    assert "notebooks" in described
    assert "very-secret-value" not in described and "AKIDVISIBLE" not in described


def test_missing_bucket_names_the_setting() -> None:
    with pytest.raises(MisconfiguredError, match=r"c\.Bookstore\.S3\.bucket"):
        Bookstore(config=Config()).create_store()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("backend", "ftp", "'ftp' is not a known backend; choose one of: gcs, s3"),
        ("workspace_prefix", "/workspace/../published", "workspace_prefix"),
    ],
    ids=["unknown backend", "traversing prefix"],
)
def test_a_wrong_setting_is_a_clear_configuration_error(setting: str, value: str, message: str) -> None:
    config = Config()
    setattr(config.Bookstore, setting, value)
    with pytest.raises(MisconfiguredError, match=message):
        Bookstore(config=config)


def test_endpoint_must_be_a_url() -> None:
    config = Config()
    config.Bookstore.S3.endpoint_url = "127.0.0.1:8333"
    with pytest.raises(MisconfiguredError, match="http://"):
        Bookstore(config=config).s3  # noqa: B018 - building it validates


def test_unset_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSTORE_S3_BUCKET", "from-env")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    s3 = Bookstore(config=Config()).s3
    assert (s3.bucket, s3.endpoint_url, s3.region_name) == ("from-env", "http://127.0.0.1:9000", "eu-west-1")
    assert s3.access_key_id is None and s3.secret_access_key is None  # the AWS chain decides


def test_explicit_settings_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSTORE_S3_BUCKET", "from-env")
    config = Config()
    config.Bookstore.S3.bucket = "from-config"
    assert Bookstore(config=config).s3.bucket == "from-config"


@pytest.mark.parametrize("value", ["", "/", "../runs", "runs/{username}"])
def test_the_runs_prefix_must_be_a_folder_of_the_bucket(value: str) -> None:
    with pytest.raises(MisconfiguredError, match="runs_prefix"):
        Bookstore(runs_prefix=value)
    assert Bookstore(runs_prefix="/team/runs/").runs_prefix == "team/runs"
