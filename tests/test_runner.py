"""bookstore.runner: published notebooks run by key and version with real papermill and S3."""

from __future__ import annotations

import json

import pytest

from bookstore.devserver import SeaweedFS
from bookstore.errors import InvalidPathError, NotFoundError, VersionNotFoundError
from bookstore.runner import (
    NotebookFailedError,
    RunResult,
    default_output_key,
    latest_version_id,
    published_key,
    run_published,
)
from bookstore.store import S3Store
from tests.notebooks import (
    KEY,
    PUBLISHED_KEY,
    cell_text,
    ensure_python3_kernel,
    executed,
    injected_parameters,
    metadata_parameters,
    parameterized_notebook,
)


@pytest.fixture(autouse=True, scope="module")
def python3_kernel() -> None:
    ensure_python3_kernel()


@pytest.fixture
def published_twice(store: S3Store) -> tuple[str, str]:
    """The same key published twice; returns (first, second) version ids."""
    first = store.put(PUBLISHED_KEY, parameterized_notebook("first"))
    second = store.put(PUBLISHED_KEY, parameterized_notebook("second"))
    assert first and second and first != second
    return first, second


def keys_under(server: SeaweedFS, bucket: str, prefix: str) -> list[str]:
    answer = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def test_latest_and_pinned_runs_execute_the_right_versions(
    store: S3Store, published_twice: tuple[str, str]
) -> None:
    first, second = published_twice

    latest = run_published(store, KEY, parameters={"x": 5})
    pinned = run_published(store, KEY, version_id=first, parameters={"x": 7, "run_date": "2026-03-04"})

    assert (latest.source_key, latest.source_version_id) == (PUBLISHED_KEY, second)
    assert (pinned.source_key, pinned.source_version_id) == (PUBLISHED_KEY, first)
    latest_nb = executed(store.get(latest.output_key, latest.output_version_id).body)
    pinned_nb = executed(store.get(pinned.output_key, pinned.output_version_id).body)
    assert "ran second with x = 5 run_date = unset" in cell_text(latest_nb)
    assert "ran first with x = 7 run_date = 2026-03-04" in cell_text(pinned_nb)
    assert injected_parameters(pinned_nb) == {"x": 7, "run_date": "2026-03-04"}
    # Two runs without an output key never overwrite each other.
    assert latest.output_key != pinned.output_key
    assert latest.output_key.startswith("runs/manual/") and latest.output_key.endswith("/mine.ipynb")


def test_output_records_which_version_ran_with_which_parameters(
    store: S3Store, published_twice: tuple[str, str], bucket: str
) -> None:
    first, _ = published_twice

    result = run_published(
        store,
        KEY,
        version_id=first,
        parameters={"x": 3, "label": "été"},
        output_key="runs/reports/today.ipynb",
        run_metadata={"bookstore-run-by": "test"},
    )

    info = store.head("runs/reports/today.ipynb")
    assert info.version_id == result.output_version_id
    assert info.metadata["bookstore-source-key"] == PUBLISHED_KEY
    assert info.metadata["bookstore-source-version-id"] == first
    assert metadata_parameters(dict(info.metadata)) == {"x": 3, "label": "été"}
    assert info.metadata["bookstore-status"] == "succeeded"
    assert info.metadata["bookstore-run-by"] == "test"
    nb = executed(store.get(result.output_key).body)
    # The executed notebook names its S3 source, not a temporary file or a copy of itself.
    assert nb.metadata["papermill"]["input_path"] == f"s3://{bucket}/{PUBLISHED_KEY}?versionId={first}"
    assert nb.metadata["papermill"]["output_path"] == f"s3://{bucket}/runs/reports/today.ipynb"
    assert nb.metadata["bookstore"]["source_version_id"] == first
    assert result.as_dict() == {
        "source_key": PUBLISHED_KEY,
        "source_version_id": first,
        "output_key": "runs/reports/today.ipynb",
        "output_version_id": result.output_version_id,
        "parameters": {"x": 3, "label": "été"},
    }
    json.dumps(result.as_dict())


def test_unknown_version_fails_naming_it_and_writes_nothing(
    store: S3Store, published_twice: tuple[str, str], s3_server: SeaweedFS, bucket: str
) -> None:
    with pytest.raises(VersionNotFoundError) as caught:
        run_published(store, KEY, version_id="no-such-version-0123")

    assert "no-such-version-0123" in str(caught.value)
    assert PUBLISHED_KEY in str(caught.value)
    assert keys_under(s3_server, bucket, "runs/") == []


def test_unknown_key_fails_naming_it(store: S3Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        run_published(store, "kylek/notebooks/never-published.ipynb")

    assert "published/kylek/notebooks/never-published.ipynb" in str(caught.value)


@pytest.mark.parametrize(
    "hostile",
    ["../workspace/kylek/secret.ipynb", "%2e%2e/workspace/secret.ipynb", "/etc/passwd", "a/../../b.ipynb"],
)
def test_a_key_leaving_the_published_prefix_is_refused(
    store: S3Store, hostile: str, s3_server: SeaweedFS, bucket: str
) -> None:
    store.put("workspace/secret.ipynb", parameterized_notebook("secret"))

    with pytest.raises(InvalidPathError) as caught:
        run_published(store, hostile)

    assert "published" in str(caught.value)
    assert keys_under(s3_server, bucket, "runs/") == []


def test_output_key_may_not_replace_a_published_notebook(
    store: S3Store, published_twice: tuple[str, str]
) -> None:
    _, second = published_twice

    with pytest.raises(InvalidPathError, match="published prefix"):
        run_published(store, KEY, output_key=PUBLISHED_KEY)

    assert store.head(PUBLISHED_KEY).version_id == second


def test_a_failing_notebook_has_its_output_uploaded_before_the_error(store: S3Store) -> None:
    version = store.put(PUBLISHED_KEY, parameterized_notebook("failing", raises="boom at 7"))

    with pytest.raises(NotebookFailedError) as caught:
        run_published(store, KEY, parameters={"x": 7}, output_key="runs/failed.ipynb")

    error = caught.value
    assert "ValueError: boom at 7" in str(error)
    assert "runs/failed.ipynb" in str(error) and str(version) in str(error)
    assert isinstance(error.result, RunResult)
    assert error.result.source_version_id == version
    stored = store.get("runs/failed.ipynb", error.result.output_version_id)
    assert stored.info.metadata["bookstore-status"] == "failed"
    text = cell_text(executed(stored.body))
    # What ran before the error, and the error itself, are both in the uploaded notebook.
    assert "ran failing with x = 7" in text
    assert "ValueError: boom at 7" in text


def test_parameters_too_long_for_s3_metadata_stay_in_the_notebook(
    store: S3Store, published_twice: tuple[str, str]
) -> None:
    long_text = "y" * 3000

    result = run_published(store, KEY, parameters={"x": 1, "notes": long_text})

    info = store.head(result.output_key)
    assert "too long" in info.metadata["bookstore-parameters"]
    assert injected_parameters(executed(store.get(result.output_key).body))["notes"] == long_text


def test_latest_version_id_follows_publishing(store: S3Store, published_twice: tuple[str, str]) -> None:
    _, second = published_twice
    assert latest_version_id(store, KEY) == second
    third = store.put(PUBLISHED_KEY, parameterized_notebook("third"))
    assert latest_version_id(store, KEY) == third


def test_default_output_key_keeps_run_ids_in_one_folder() -> None:
    key = default_output_key(KEY, ["daily", "manual__2026-03-04T00:00:00+00:00", "a/b", "try-2"])
    assert key == "runs/daily/manual__2026-03-04T00:00:00+00:00/a%2Fb/try-2/mine.ipynb"
    assert default_output_key("x.ipynb", ["d"], "/team/runs/") == "team/runs/d/x.ipynb"


def test_published_key_uses_the_configured_prefix() -> None:
    assert published_key(KEY, "/published/") == PUBLISHED_KEY
    with pytest.raises(InvalidPathError):
        published_key("..", "published")
