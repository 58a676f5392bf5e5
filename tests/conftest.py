"""Shared fixtures: stores, a real SeaweedFS S3 server, fresh versioned buckets, real Jupyter servers.

The vocabulary: ``memory_store`` is a fresh in-memory store (no server: what tests of the
core use); ``store`` a fresh versioned bucket's S3 store and ``bucket`` its name; ``s3`` and
``module_bucket`` the same shared by a module's tests; ``gcs_store`` and ``gcs_bucket`` a
fresh versioned bucket on the session's GCS-API server (``gcs_server``); ``server`` a
module's Jupyter server, ``jupyter`` a test's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bookstore.s3 import S3Store
from devtools.fake_gcs import FakeGCS
from devtools.seaweedfs import SeaweedFS
from tests.helpers.buckets import new_bucket_name
from tests.helpers.jupyter_process import JupyterServer, seed_config
from tests.helpers.memory_store import MemoryStore
from tests.helpers.notebooks import Area, ensure_python3_kernel

if TYPE_CHECKING:
    from bookstore.gcs import GCSStore

REPO = Path(__file__).resolve().parent.parent

#: The modules that take longest, longest first (seconds each in a whole run from a clean
#: clone with four workers: test_stack ~230, test_celery ~180, the browser, Airflow and
#: archive ones 40 to 150). ``make test`` hands them out first (``--no-loadscope-reorder``),
#: so that the last minutes are not one of them running alone; a module not listed comes
#: after them, in file order.
LONGEST = (
    "test_stack.py",
    "test_celery.py",
    "test_labextension.py",
    "test_schedules_run.py",
    "test_archive.py",
    "test_airflow.py",
    "test_gcs_end_to_end.py",
    "test_publish_to_run.py",
    "test_archive_faults.py",
    "test_collaboration.py",
    "test_cli_run.py",
    "test_airflow_viewer.py",
    "test_hub.py",
    "test_fuzz.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The :data:`LONGEST` modules first, each module's tests kept together and in order."""
    rank = {name: i for i, name in enumerate(LONGEST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def memory_store() -> MemoryStore:
    """A fresh, versioned store in memory (tests/helpers/memory_store.py): no server."""
    return MemoryStore()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for the whole session; tests get their own buckets in it."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def private_s3(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS of the test's own, for tests that stop or restart S3."""
    server = SeaweedFS(tmp_path / "seaweedfs")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def bucket(s3_server: SeaweedFS) -> str:
    """A fresh, versioned bucket."""
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture
def area() -> Area:
    """Prefixes of a test's own inside a bucket that tests share."""
    return Area()


@pytest.fixture
def store(s3_server: SeaweedFS, bucket: str) -> S3Store:
    return s3_server.store(bucket)


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[FakeGCS]:
    """One GCS-API server (fake-gcs-server, in memory) for the whole session; tests get their
    own buckets in it."""
    server = FakeGCS()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def gcs_bucket(gcs_server: FakeGCS) -> str:
    """A fresh bucket with object versioning, on :func:`gcs_server`."""
    return gcs_server.create_bucket(new_bucket_name())


@pytest.fixture
def gcs_store(gcs_server: FakeGCS, gcs_bucket: str) -> GCSStore:
    """bookstore's GCS store on :func:`gcs_bucket`."""
    return gcs_server.store(gcs_bucket)


@pytest.fixture(scope="module")
def module_bucket(s3_server: SeaweedFS) -> str:
    """A bucket for one test module, whose tests use names of their own in it (a SeaweedFS
    takes writes in a limited number of buckets)."""
    return s3_server.create_bucket(new_bucket_name())


@pytest.fixture(scope="module")
def s3(s3_server: SeaweedFS, module_bucket: str) -> S3Store:
    """bookstore's store on the module's bucket."""
    return s3_server.store(module_bucket)


@pytest.fixture(scope="module")
def jupyter_config_extra() -> str:
    """Configuration a module adds to the seed's for its :func:`server` (a module
    overrides this fixture to add some)."""
    return ""


@pytest.fixture(scope="module")
def jupyter_config(s3_server: SeaweedFS, module_bucket: str, jupyter_config_extra: str) -> str:
    """The configuration of a module's :func:`server`: the seed's, archiving to its
    :func:`module_bucket`, and :func:`jupyter_config_extra` (a module overrides either)."""
    return seed_config(s3_server, module_bucket) + jupyter_config_extra


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, jupyter_config: str) -> Iterator[JupyterServer]:
    """One Jupyter server for a module's tests, started with its :func:`jupyter_config`; its
    tests work on notebooks of their own names."""
    server = JupyterServer(tmp_path_factory.mktemp("jupyter"), jupyter_config)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def jupyter_factory(tmp_path: Path) -> Iterator[object]:
    """Start Jupyter servers with a given config; all are stopped at the end of the test."""
    started: list[JupyterServer] = []

    def start(config: str, home: Path | None = None, **kwargs: object) -> JupyterServer:
        server = JupyterServer(home or tmp_path / "jupyter", config, **kwargs)  # type: ignore[arg-type]
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def jupyter(jupyter_factory, s3_server: SeaweedFS, bucket: str) -> JupyterServer:  # type: ignore[no-untyped-def]
    """A Jupyter server with the seed's configuration, archiving to a fresh bucket."""
    return jupyter_factory(seed_config(s3_server, bucket))


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throw-away Airflow home with a migrated SQLite database, the repo's plugins folder
    and a DAGs folder holding copies of the repo's example DAGs (tests add their own)."""
    if "airflow" in sys.modules:
        pytest.fail("Airflow was imported before airflow_home configured it; import it inside tests")
    ensure_python3_kernel()
    home = tmp_path_factory.mktemp("airflow-home")
    dags = home / "dags"
    dags.mkdir()
    for dag_file in (REPO / "dags").glob("*.py"):
        shutil.copy(dag_file, dags)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_HOME", str(home))
        env.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
        env.setenv("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
        env.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        env.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
        env.delenv("AIRFLOW_CONN_BOOKSTORE_DEFAULT", raising=False)
        env.delenv("AIRFLOW__BOOKSTORE__NOTEBOOK_URL_TEMPLATE", raising=False)
        env.delenv("AIRFLOW__BOOKSTORE__EXECUTED_NOTEBOOK_LINK", raising=False)
        env.delenv("AIRFLOW__API__BASE_URL", raising=False)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            timeout=240,
        )
        yield home


# -- the browser (tests marked ``browser``) ------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, one for a module's tests (playwright drives it)."""
    from playwright.sync_api import sync_playwright

    from tests.helpers.browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a browser test puts its screenshots: $BOOKSTORE_SCREENSHOT_DIR, or the test's own folder."""
    folder = Path(os.environ.get("BOOKSTORE_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
