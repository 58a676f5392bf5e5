"""``docker-compose.yaml``: valid against the compose spec, and in step with the code it wires.

No Docker engine runs where these tests run, so the stack is checked instead of started: the
file validates against the compose-spec schema that check-jsonschema vendors, and its service
names, ports, variables, mounts, images and Dockerfiles agree with the code, the Jupyter
configuration and the Airflow connection they set up. Checks that depend on variables run
twice: with the documented defaults (no ``.env``) and with every variable overridden.
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yaml"
DOCKER = REPO / "docker"
ENV_EXAMPLE = REPO / ".env.example"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
SERVICES = {"minio", "minio-init", "jupyter", "postgres", "redis", *AIRFLOW_SERVICES}
ONE_SHOT = {"minio-init", "airflow-init"}
#: Host ports people are given (docs/docker.md), published on the loopback interface only.
PUBLISHED = {"jupyter": {8888}, "airflow-apiserver": {8080}, "minio": {9000, 9001}}
S3_ENDPOINT = "http://minio:9000"
#: Where the sample notebook is in Jupyter; the example DAGs run its published copy.
SAMPLE_PATH = "analysis/mine.ipynb"

#: A value for every variable of .env.example, none equal to its default.
OVERRIDES = {
    "MINIO_ROOT_USER": "root-override",
    "MINIO_ROOT_PASSWORD": "root-password-override",
    "BOOKSTORE_S3_BUCKET": "bucket-override",
    "BOOKSTORE_S3_ACCESS_KEY": "access-override",
    "BOOKSTORE_S3_SECRET_KEY": "secret-override",
    "JUPYTER_TOKEN": "token-override",
    "AIRFLOW_ADMIN_USERNAME": "admin-override",
    "AIRFLOW_ADMIN_PASSWORD": "admin-password-override",
    "AIRFLOW_DB_PASSWORD": "db-password-override",
    "AIRFLOW_REDIS_PASSWORD": "redis-password-override",
    "AIRFLOW_JWT_SECRET": "jwt-override",
    "AIRFLOW_FERNET_KEY": "fernet-override",
}

# -- reading the compose file as docker compose does ----------------------------------------

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op = match.group("op")
        if op == ":-" and not env.get(name):
            return match.group("default")
        if op == "-" and name not in env:
            return match.group("default")
        return env.get(name, "")

    return _VARIABLE.sub(substitute, value)


def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    """The file as docker compose sees it with ``env`` as its variables (anchors merged)."""
    resolved = interpolate(raw_compose(), env)
    assert isinstance(resolved, dict)
    return resolved


def service_env(stack: Mapping[str, Any], name: str) -> dict[str, str]:
    environment = stack["services"][name].get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def published_ports(service: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """``(host ip, host port, container port)`` for each short-syntax port of ``service``."""
    ports = []
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        assert len(parts) == 3, f"port {spec!r}: name the host address, e.g. 127.0.0.1:8888:8888"
        ports.append((parts[0], int(parts[1]), int(parts[2])))
    return ports


def container_ports(service: Mapping[str, Any]) -> set[int]:
    return {container for _, _, container in published_ports(service)}


def bind_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts (host path starts with '.')."""
    mounts = {}
    for spec in service.get("volumes", []):
        source, target = str(spec).split(":")[:2]
        if source.startswith("."):
            mounts[target] = source
    return mounts


def named_volumes(service: Mapping[str, Any]) -> dict[str, str]:
    """Container path -> volume name of the service's named volumes."""
    mounts = {}
    for spec in service.get("volumes", []):
        source, target = str(spec).split(":")[:2]
        if not source.startswith((".", "/", "~")):
            mounts[target] = source
    return mounts


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(params=["defaults", "overridden"])
def env(request: pytest.FixtureRequest) -> dict[str, str]:
    return {} if request.param == "defaults" else dict(OVERRIDES)


@pytest.fixture
def stack(env: dict[str, str]) -> dict[str, Any]:
    return compose(env)


# -- what minio-init sets up ----------------------------------------------------------------


def init_script(stack: Mapping[str, Any]) -> str:
    command = stack["services"]["minio-init"]["command"]
    return command if isinstance(command, str) else "\n".join(command)


def init_value(stack: Mapping[str, Any], pattern: str) -> list[str]:
    """The values of the shell variables that ``pattern``'s groups capture in minio-init's script."""
    match = re.search(pattern, init_script(stack))
    assert match, f"minio-init does not run {pattern!r}"
    environment = service_env(stack, "minio-init")
    values = []
    for name in match.groups():
        assert name in environment, f"minio-init uses ${name}, which its environment does not set"
        values.append(environment[name])
    return values


def created_bucket(stack: Mapping[str, Any]) -> str:
    (bucket,) = init_value(stack, r'mc mb --ignore-existing "minio/\$(\w+)"')
    return bucket


def created_user(stack: Mapping[str, Any]) -> tuple[str, str]:
    access_key, secret_key = init_value(stack, r'mc admin user add minio "\$(\w+)" "\$(\w+)"')
    return access_key, secret_key


# -- the schema -----------------------------------------------------------------------------


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_misspelt_key(tmp_path: Path) -> None:
    broken = copy.deepcopy(raw_compose())
    broken["services"]["minio"]["helthcheck"] = broken["services"]["minio"].pop("healthcheck")
    path = tmp_path / "docker-compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = check_jsonschema(path)
    assert result.returncode != 0
    assert "helthcheck" in result.stdout + result.stderr


# -- services, start order and health -------------------------------------------------------


def test_services_are_the_documented_stack() -> None:
    assert set(raw_compose()["services"]) == SERVICES


def test_start_order_waits_for_health_and_one_shot_success() -> None:
    services = compose({})["services"]
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            kind = condition["condition"]
            if kind == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health, it has none"
            else:
                assert kind == "service_completed_successfully", f"{name} -> {target}: {kind}"
                assert target in ONE_SHOT, f"{name} waits for {target} to exit, but it keeps running"

    def waits_for(name: str, target: str, condition: str) -> bool:
        return services[name].get("depends_on", {}).get(target, {}).get("condition") == condition

    assert waits_for("minio-init", "minio", "service_healthy")
    assert waits_for("jupyter", "minio-init", "service_completed_successfully")
    assert waits_for("airflow-init", "postgres", "service_healthy")
    for name in AIRFLOW_SERVICES[1:]:
        assert waits_for(name, "airflow-init", "service_completed_successfully"), name
        # Tasks read and write the bucket: it must exist before any Airflow component runs them.
        assert waits_for(name, "minio-init", "service_completed_successfully"), name
    # Every Airflow component needs the broker; the workers' tasks report to the api-server.
    for name in AIRFLOW_SERVICES[1:]:
        assert waits_for(name, "redis", "service_healthy"), name
    assert waits_for("airflow-worker", "airflow-apiserver", "service_healthy")


def test_one_shot_services_run_once_and_the_others_are_health_checked() -> None:
    for name, service in compose({})["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            assert "healthcheck" not in service, name
        else:
            assert service.get("restart") in {"always", "unless-stopped"}, name
            assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name


# -- ports ----------------------------------------------------------------------------------


def test_ports_are_the_documented_ones_on_loopback_only() -> None:
    services = compose({})["services"]
    published = {name: published_ports(service) for name, service in services.items()}
    assert {name for name, ports in published.items() if ports} == set(PUBLISHED)
    for name, ports in PUBLISHED.items():
        assert {host for _, host, _ in published[name]} == ports, name
        assert all(ip == "127.0.0.1" for ip, _, _ in published[name]), name
        # Same port inside and out, so URLs read the same in logs and in the browser.
        assert all(host == container for _, host, container in published[name]), name


def make_run_default_ports() -> dict[str, int]:
    """The default ports of ``make run``, as scripts/run_local_stack.py declares them."""
    tree = ast.parse((REPO / "scripts" / "run_local_stack.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            try:
                value = ast.literal_eval(node)
            except ValueError:
                continue
            if "BOOKSTORE_JUPYTER_PORT" in value:
                return value  # type: ignore[no-any-return]
    raise AssertionError("scripts/run_local_stack.py no longer declares its default ports")


def test_jupyter_and_airflow_ports_match_make_run() -> None:
    defaults = make_run_default_ports()
    variables = {"jupyter": "BOOKSTORE_JUPYTER_PORT", "airflow-apiserver": "BOOKSTORE_AIRFLOW_PORT"}
    for name, variable in variables.items():
        assert PUBLISHED[name] == {defaults[variable]}, name


def test_services_listen_where_their_ports_and_urls_point() -> None:
    stack = compose({})
    services = stack["services"]
    # MinIO's S3 API (its default port) and console.
    assert 9000 in container_ports(services["minio"])
    command = services["minio"]["command"]
    console = command[command.index("--console-address") + 1]
    assert int(console.rsplit(":", 1)[1]) in container_ports(services["minio"])
    # Every S3 endpoint the stack hands out is MinIO's S3 port, by service name.
    endpoint = urlsplit(S3_ENDPOINT)
    assert endpoint.hostname in services and endpoint.port in container_ports(services[endpoint.hostname])
    assert re.search(rf"mc alias set minio {re.escape(S3_ENDPOINT)} ", init_script(stack))
    # Airflow's api-server: its default port, its health check, and the execution API URL
    # the scheduler's tasks report to.
    api = services["airflow-apiserver"]
    assert container_ports(api) == {8080}
    assert "AIRFLOW__API__PORT" not in service_env(stack, "airflow-apiserver")
    assert "http://localhost:8080/" in " ".join(api["healthcheck"]["test"])
    execution = urlsplit(service_env(stack, "airflow-scheduler")["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (execution.hostname, execution.port, execution.path) == ("airflow-apiserver", 8080, "/execution/")
    # The scheduler health server the scheduler's check asks (Airflow's default port 8974).
    assert service_env(stack, "airflow-scheduler")["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "http://localhost:8974/health" in services["airflow-scheduler"]["healthcheck"]["test"]


def test_airflow_runs_tasks_on_celery_workers_that_scale() -> None:
    """The production shape of Airflow's own compose file: the CeleryExecutor everywhere,
    tasks on a scalable worker service, every component on the same broker and database."""
    stack = compose({})
    services = stack["services"]
    components = AIRFLOW_SERVICES[1:]
    for name in AIRFLOW_SERVICES:
        assert service_env(stack, name)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    for option in ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND"):
        assert len({service_env(stack, name)[option] for name in AIRFLOW_SERVICES}) == 1, option
    worker = services["airflow-worker"]
    assert worker["command"] == ["celery", "worker"]
    # Two workers by default; `--scale airflow-worker=N` overrides the count, which only
    # works for a service without a fixed container name or published ports.
    assert worker["deploy"]["replicas"] == 2
    assert "container_name" not in worker and not worker.get("ports")
    # The worker's own health check asks Celery whether this container's worker answers.
    assert "inspect ping" in worker["healthcheck"]["test"][1]
    assert "celery@${HOSTNAME}" in worker["healthcheck"]["test"][1]
    # Warm shutdown: the stop signal reaches Celery alone, which lets running tasks finish.
    assert service_env(stack, "airflow-worker")["DUMB_INIT_SETSID"] == "0"
    # The broker: Redis, healthy before any component starts, not published on the host.
    broker = urlsplit(service_env(stack, "airflow-worker")["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.hostname in services and broker.hostname == "redis"
    assert services["redis"]["image"].startswith("redis:")
    assert not services["redis"].get("ports")
    for name in components:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
    # The workers run the notebooks: the same image as the other components, with
    # bookstore, papermill and the kernel.
    assert worker["image"] == services["airflow-scheduler"]["image"]
    assert worker["build"] == services["airflow-scheduler"]["build"]
    # Nothing of a task's is shared between workers but S3, the database and the broker
    # (and the log volume the api-server reads task logs from).
    assert set(named_volumes(worker).values()) == {"airflow-logs"}


def test_people_sign_in_with_the_credentials_env_example_documents(
    stack: dict[str, Any], env: dict[str, str]
) -> None:
    """Each published service's sign-in (docs/docker.md's table) comes from its variable:
    Jupyter's token, Airflow's administrator (FAB's users, made by airflow-init), MinIO's root."""
    value = {**env_example(), **env}
    assert service_env(stack, "jupyter")["JUPYTER_TOKEN"] == value["JUPYTER_TOKEN"]
    init = service_env(stack, "airflow-init")
    assert init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert init["_AIRFLOW_WWW_USER_USERNAME"] == value["AIRFLOW_ADMIN_USERNAME"]
    assert init["_AIRFLOW_WWW_USER_PASSWORD"] == value["AIRFLOW_ADMIN_PASSWORD"]
    assert service_env(stack, "airflow-apiserver")["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".FabAuthManager")
    minio = service_env(stack, "minio")
    assert (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == (
        value["MINIO_ROOT_USER"],
        value["MINIO_ROOT_PASSWORD"],
    )


# -- images and Dockerfiles -----------------------------------------------------------------


def pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def dockerfile_lines(path: Path) -> list[str]:
    """Instructions of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stages(path: Path) -> dict[str, list[str]]:
    """Stage name (the last one is ``""``) -> its instructions, ``FROM`` first."""
    result: dict[str, list[str]] = {}
    current: list[str] = []
    for line in dockerfile_lines(path):
        if line.upper().startswith("FROM "):
            words = line.split()
            name = words[3] if len(words) == 4 and words[2].upper() == "AS" else f"#{len(result)}"
            current = result[name] = []
        current.append(line)
    # The image is the last stage, whatever its name.
    last = list(result)[-1]
    result[""] = result.pop(last)
    return result


def images(path: Path) -> list[tuple[str, str]]:
    """``(image, tag)`` of every stage."""
    found = []
    for lines in stages(path).values():
        image, _, tag = lines[0].split()[1].rpartition(":")
        found.append((image, tag))
    return found


def base_image(path: Path) -> tuple[str, str]:
    """``(image, tag)`` the final image is built from."""
    image, _, tag = stages(path)[""][0].split()[1].rpartition(":")
    return image, tag


def copies(path: Path, stage: str | None = None) -> list[tuple[list[str], str]]:
    """``(sources, destination)`` of each COPY from the build context (of one stage, or all)."""
    result = []
    for name, lines in stages(path).items():
        if stage is not None and name != stage:
            continue
        for line in lines:
            if line.upper().startswith("COPY ") and "--from=" not in line:
                words = [word for word in line.split()[1:] if not word.startswith("--")]
                result.append((words[:-1], words[-1]))
    return result


def built_services() -> dict[str, Path]:
    """Service name -> Dockerfile, for every service built from this repository."""
    built = {}
    for name, service in compose({})["services"].items():
        if "build" in service:
            build = service["build"]
            assert build["context"] == ".", name
            built[name] = REPO / build["dockerfile"]
    return built


def test_built_images_have_dockerfiles_under_docker() -> None:
    built = built_services()
    assert set(built) == {"jupyter", *AIRFLOW_SERVICES}
    for name, dockerfile in built.items():
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
        assert dockerfile.parent == DOCKER, name


def test_every_image_is_pinned() -> None:
    for name, service in compose({})["services"].items():
        image, _, tag = service["image"].rpartition(":")
        assert image and tag, f"{name}: image {service['image']!r} has no tag"
        if "build" not in service:
            assert tag != "latest" and re.search(r"\d", tag), f"{name}: {service['image']!r} is not pinned"
    for dockerfile in set(built_services().values()):
        for image, tag in images(dockerfile):
            pinned = tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag)
            assert pinned, f"{dockerfile.name}: FROM {image}:{tag}"


def test_base_images_satisfy_the_package_requirements() -> None:
    project = pyproject()["project"]
    requires_python = SpecifierSet(project["requires-python"])
    airflow_extra = [Requirement(r) for r in project["optional-dependencies"]["airflow"]]
    (airflow_req,) = [r for r in airflow_extra if r.name == "apache-airflow"]

    image, tag = base_image(DOCKER / "airflow.Dockerfile")
    assert image == "apache/airflow"
    match = re.fullmatch(r"(\d+\.\d+\.\d+)-python(\d+\.\d+)", tag)
    assert match, f"pin both Airflow and Python: apache/airflow:<version>-python<x.y>, not {tag!r}"
    airflow_version = Version(match.group(1))
    assert airflow_version in airflow_req.specifier
    assert Version(match.group(2)) in requires_python
    # The image runs the Airflow generation the tests here run (the installed one).
    installed = Version(importlib.metadata.version("apache-airflow"))
    assert airflow_version.major == installed.major

    image, tag = base_image(DOCKER / "jupyter.Dockerfile")
    assert image == "python"
    python = re.match(r"(\d+\.\d+\.\d+)-", tag)
    assert python and Version(python.group(1)) in requires_python


def test_dockerfiles_install_this_repository_with_the_right_extras() -> None:
    extras = pyproject()["project"]["optional-dependencies"]
    wanted = {"jupyter.Dockerfile": "jupyter", "airflow.Dockerfile": "airflow"}
    for filename, extra in wanted.items():
        dockerfile = DOCKER / filename
        installs = [line for line in dockerfile_lines(dockerfile) if "pip install" in line]
        assert any(f'"/opt/bookstore[{extra}]"' in line for line in installs), filename
        assert any(
            "pyproject.toml" in sources and destination.rstrip("/") == "/opt/bookstore"
            for sources, destination in copies(dockerfile)
        ), filename
        # Everything the wheel is built from is copied to where pip installs it from.
        copied = {source for sources, destination in copies(dockerfile) for source in sources}
        needed = {"pyproject.toml", "README.md", "bookstore"}
        shared_data = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
        needed |= {source.split("/")[0] for source in shared_data}
        # hatchling refuses to build at all without its build hook.
        hook = pyproject()["tool"]["hatch"]["build"]["hooks"]["custom"]["path"]
        needed.add(hook)
        assert needed <= copied, f"{filename} does not copy {needed - copied}"
        assert (hook, f"/opt/bookstore/{hook}") in [
            (source, destination) for sources, destination in copies(dockerfile) for source in sources
        ], filename
        assert not any(copy[1].startswith("/opt/bookstore") for copy in copies(dockerfile, "labextension"))
    names = {Requirement(r).name for r in extras["jupyter"]}
    assert "jupyterlab" in names  # the image's command is `jupyter lab`
    names = {Requirement(r).name for r in extras["airflow"]}
    assert {"apache-airflow", "papermill", "ipykernel"} <= names  # tasks run notebooks


def test_dockerfile_sources_exist_and_are_in_the_build_context() -> None:
    ignored = dockerignored()
    assert {".venv", ".stack", ".git", ".env"} <= ignored
    for dockerfile in set(built_services().values()):
        for sources, _ in copies(dockerfile):
            for source in sources:
                assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source}: no such file"
                assert Path(source).parts[0] not in ignored, f"{dockerfile.name}: {source} is docker-ignored"


def test_jupyter_image_builds_and_ships_the_jupyterlab_extension() -> None:
    dockerfile = DOCKER / "jupyter.Dockerfile"
    build = stages(dockerfile)["labextension"]
    image, tag = build[0].split()[1].rpartition(":")[::2]
    assert image == "node" and int(tag.split(".")[0]) >= 20
    # The build stage gets every source the hatch build hook watches, and the lock file.
    hook = ast.parse((REPO / "labextension" / "hatch_build.py").read_text())
    (watched,) = [
        ast.literal_eval(node.value)
        for node in hook.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SOURCES" for t in node.targets)
    ]
    copied = {Path(source).name for sources, _ in copies(dockerfile, "labextension") for source in sources}
    assert set(watched) | {"install.json"} <= copied
    assert any("npm ci" in line for line in build) and any("npm run build" in line for line in build)
    # What it built (the package.json's outputDir) lands where the wheel's shared-data takes it.
    package = json.loads((REPO / "labextension" / "package.json").read_text())
    output = (REPO / "labextension" / package["jupyterlab"]["outputDir"]).resolve().relative_to(REPO)
    shared_data = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared_data[str(output)] == f"share/jupyter/labextensions/{package['name']}"
    final = stages(dockerfile)[""]
    ships = f"COPY --from=labextension /src/{output} /opt/bookstore/{output}"
    assert ships in final
    assert final.index(ships) < next(i for i, line in enumerate(final) if "pip install" in line)


def dockerignored() -> set[str]:
    return {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def lay_out_image(dockerfile: Path, root: Path) -> Path:
    """``/opt/bookstore`` as the final stage's COPY instructions lay it out from this checkout.

    What the ``labextension`` stage builds is taken from the checkout's own build of the
    extension (``make`` builds it the same way, with ``npm run build``).
    """
    ignored = dockerignored()

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).resolve().relative_to(REPO)
        return {n for n in names if n == "__pycache__" or (relative / n).as_posix() in ignored}

    for line in stages(dockerfile)[""]:
        words = line.split()
        if words[0].upper() != "COPY":
            continue
        built = any(word.startswith("--from=") for word in words)
        *sources, destination = [word for word in words[1:] if not word.startswith("--")]
        if not destination.startswith("/opt/bookstore"):
            continue
        for source in sources:
            origin = REPO / (source.removeprefix("/src/") if built else source)
            target = root / destination.lstrip("/")
            if origin.is_dir():
                shutil.copytree(origin, target, ignore=None if built else ignore, dirs_exist_ok=True)
            else:
                if destination.endswith("/"):
                    target = target / origin.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    return root / "opt" / "bookstore"


@pytest.mark.parametrize("dockerfile", ["jupyter.Dockerfile", "airflow.Dockerfile"])
def test_images_build_bookstore_from_what_they_copy(dockerfile: str, tmp_path: Path) -> None:
    """What ``pip install /opt/bookstore[...]`` builds in each image, from exactly what it copies."""
    if not (REPO / "bookstore" / "labextension" / "package.json").exists():
        pytest.fail("the JupyterLab extension is not built: make install builds it")
    source = lay_out_image(DOCKER / dockerfile, tmp_path / "image")
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            wheels,
            source,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "bookstore/jupyter/handlers.py" in names
    extension = [n for n in names if "/share/jupyter/labextensions/notebook-bookstore/" in n]
    if dockerfile == "jupyter.Dockerfile":
        assert any(n.endswith("/package.json") for n in extension), names
        assert any(re.search(r"/static/remoteEntry\.\w+\.js$", n) for n in extension), names
    else:
        # Airflow serves no JupyterLab: its image builds bookstore without the extension.
        assert extension == []


# -- Jupyter --------------------------------------------------------------------------------


def load_jupyter_config(environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return PyFileConfigLoader("jupyter_server_config.py", path=str(DOCKER)).load_config()


def test_jupyter_config_is_where_jupyter_reads_it() -> None:
    from jupyter_core.paths import SYSTEM_CONFIG_PATH

    destinations = {
        destination
        for sources, destination in copies(DOCKER / "jupyter.Dockerfile")
        if sources == ["docker/jupyter_server_config.py"]
    }
    assert len(destinations) == 1
    (destination,) = destinations
    assert Path(destination).name == "jupyter_server_config.py"
    assert str(Path(destination).parent) in SYSTEM_CONFIG_PATH


def test_jupyter_archives_to_the_bucket_minio_init_creates(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore import Bookstore, BookstoreContentsArchiver

    environment = service_env(stack, "jupyter")
    config = load_jupyter_config(environment, monkeypatch)
    assert config.ServerApp.contents_manager_class is BookstoreContentsArchiver
    settings = Bookstore(config=config)
    assert settings.backend == "s3"
    assert settings.s3.bucket == created_bucket(stack)
    assert settings.s3.endpoint_url == S3_ENDPOINT
    # Credentials come from the environment (boto3's chain), as the user minio-init creates.
    assert settings.s3.access_key_id is None and settings.s3.secret_access_key is None
    assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == created_user(stack)
    assert environment["JUPYTER_TOKEN"]


def test_jupyter_serves_its_port_and_keeps_notebooks_and_spool_in_volumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = compose({})
    jupyter = stack["services"]["jupyter"]
    environment = service_env(stack, "jupyter")
    config = load_jupyter_config(environment, monkeypatch)
    assert config.ServerApp.ip == "0.0.0.0"
    assert container_ports(jupyter) == {config.ServerApp.port}
    volumes = named_volumes(jupyter)
    assert config.ServerApp.root_dir in volumes
    # The archive spool (saves not yet uploaded) must survive a container restart.
    assert environment["JUPYTER_DATA_DIR"] in volumes
    # A new notebooks volume starts with the sample notebook the image puts there.
    assert any(
        sources == ["docker/notebooks"] and destination == config.ServerApp.root_dir
        for sources, destination in copies(DOCKER / "jupyter.Dockerfile")
    )


def test_sample_notebook_is_parameterised() -> None:
    notebook = nbformat.read(DOCKER / "notebooks" / SAMPLE_PATH, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"


# -- Airflow --------------------------------------------------------------------------------


def hook_source() -> str:
    return (REPO / "bookstore" / "airflow" / "hooks.py").read_text()


def default_conn_id() -> str:
    """``BookstoreHook.default_conn_name``, read without importing Airflow."""
    for node in ast.walk(ast.parse(hook_source())):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "default_conn_name" for target in node.targets
        ):
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError("BookstoreHook.default_conn_name not found")


def extra_keys_read_by_hook() -> set[str]:
    return set(re.findall(r'(?:extra_value|_prefix)\("(\w+)"', hook_source()))


def operator_calls(path: Path) -> list[ast.Call]:
    """Calls of ``PublishedNotebookOperator(...)``, and of its ``.partial(...)`` (mapped tasks)."""

    def is_operator(node: ast.AST) -> bool:
        return getattr(node, "id", None) == "PublishedNotebookOperator"

    return [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and (
            is_operator(node.func)
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "partial"
                and is_operator(node.func.value)
            )
        )
    ]


def connection(stack: Mapping[str, Any], service: str) -> dict[str, Any]:
    value = service_env(stack, service)[f"AIRFLOW_CONN_{default_conn_id().upper()}"]
    parsed = json.loads(value)
    assert isinstance(parsed, dict)
    return parsed


def test_airflow_services_mount_dags_and_plugins_where_airflow_looks() -> None:
    stack = compose({})
    for name in AIRFLOW_SERVICES:
        mounts = bind_mounts(stack["services"][name])
        # AIRFLOW_HOME is /opt/airflow in the Airflow image: these are its default folders.
        assert mounts.get("/opt/airflow/dags") == "./dags", name
        assert mounts.get("/opt/airflow/plugins") == "./plugins", name
        environment = service_env(stack, name)
        assert "AIRFLOW__CORE__DAGS_FOLDER" not in environment
        assert "AIRFLOW__CORE__PLUGINS_FOLDER" not in environment
    dags = sorted((REPO / "dags").glob("*.py"))
    # Each runs published notebooks: with the operator, or as the schedules in the bucket say.
    assert dags and all(operator_calls(dag) or "schedule_dags(" in dag.read_text() for dag in dags)
    assert sorted((REPO / "plugins").glob("*.py"))


def test_bind_mounts_exist_and_named_volumes_are_declared() -> None:
    stack = compose({})
    used = set()
    for name, service in stack["services"].items():
        for source in bind_mounts(service).values():
            assert (REPO / source).is_dir(), f"{name} mounts {source}, which is not in the repository"
        used |= set(named_volumes(service).values())
    assert used == set(stack["volumes"])


def test_connection_id_is_the_operators_default() -> None:
    name = f"AIRFLOW_CONN_{default_conn_id().upper()}"
    assert name == "AIRFLOW_CONN_BOOKSTORE_DEFAULT"
    stack = compose({})
    for service in AIRFLOW_SERVICES:
        assert name in service_env(stack, service), service
    # The example DAGs use the default connection.
    for dag in (REPO / "dags").glob("*.py"):
        for call in operator_calls(dag):
            assert "bookstore_conn_id" not in {keyword.arg for keyword in call.keywords}, dag.name


def test_connection_points_at_the_bucket_and_user_minio_init_creates(stack: dict[str, Any]) -> None:
    conn = connection(stack, "airflow-scheduler")
    assert conn["conn_type"] == "aws"
    assert (conn["login"], conn["password"]) == created_user(stack)
    extra = conn["extra"]
    assert set(extra) <= extra_keys_read_by_hook(), set(extra) - extra_keys_read_by_hook()
    assert extra["bucket"] == created_bucket(stack)
    assert extra["endpoint_url"] == S3_ENDPOINT
    # Every Airflow component sees the same connection.
    for service in AIRFLOW_SERVICES:
        assert connection(stack, service) == conn, service


def test_minio_init_makes_the_bucket_versioned_and_the_user_its_own(stack: dict[str, Any]) -> None:
    bucket = created_bucket(stack)
    (versioned,) = init_value(stack, r'mc version enable "minio/\$(\w+)"')
    assert versioned == bucket
    access_key, _ = created_user(stack)
    (attached,) = init_value(stack, r'mc admin policy attach minio bookstore --user "\$(\w+)"')
    assert attached == access_key
    # The user signs in with its own key, not MinIO's root.
    root = service_env(stack, "minio")
    assert access_key != root["MINIO_ROOT_USER"]
    assert init_value(stack, r'mc alias set minio \S+ "\$(\w+)" "\$(\w+)"') == [
        root["MINIO_ROOT_USER"],
        root["MINIO_ROOT_PASSWORD"],
    ]


def test_airflow_options_set_in_the_environment_exist() -> None:
    spec = importlib.util.find_spec("airflow")  # found, not imported: importing Airflow configures it
    assert spec and spec.submodule_search_locations
    config_yml = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    known = {
        (section, option)
        for section, body in yaml.safe_load(config_yml.read_text()).items()
        for option in body["options"]
    }
    from bookstore.airflow import get_provider_info

    # The Celery provider's options ([celery] broker_url, ...), read from its provider info
    # file alone: importing the provider would import Airflow.
    celery_info = (
        Path(next(iter(spec.submodule_search_locations))) / "providers" / "celery" / "get_provider_info.py"
    )
    assert celery_info.is_file(), "the Celery provider is not installed: pip install -e '.[celery]'"
    celery_spec = importlib.util.spec_from_file_location("celery_provider_info", celery_info)
    assert celery_spec and celery_spec.loader
    celery_module = importlib.util.module_from_spec(celery_spec)
    celery_spec.loader.exec_module(celery_module)
    for info in (get_provider_info(), celery_module.get_provider_info()):
        for section, body in info["config"].items():
            known |= {(section, option) for option in body["options"]}
    stack = compose({})
    for name in AIRFLOW_SERVICES:
        for variable in service_env(stack, name):
            if variable.startswith("AIRFLOW__"):
                section, option = variable.removeprefix("AIRFLOW__").lower().split("__")
                assert (section, option) in known, f"{name}: {variable} is not an Airflow option"


@pytest.mark.airflow
def test_the_real_hook_reads_the_connection_and_finds_what_jupyter_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookstore.keys import path_to_key

    stack = compose({})
    variable = f"AIRFLOW_CONN_{default_conn_id().upper()}"
    (dag_call,) = operator_calls(REPO / "dags" / "bookstore_daily_report.py")
    (notebook_key,) = [
        keyword.value.value
        for keyword in dag_call.keywords
        if keyword.arg == "notebook_key" and isinstance(keyword.value, ast.Constant)
    ]
    # Airflow runs in a child process: this one must not import it (see test_airflow.py).
    probe = (
        "import json\n"
        "from bookstore.airflow.hooks import BookstoreHook\n"
        "from bookstore.library import PUBLISHED\n"
        "hook = BookstoreHook()\n"
        "print(json.dumps({'bucket': hook.store.bucket, 'endpoint_url': hook.store.endpoint_url,\n"
        "    'region_name': hook.extra_value('region_name'), 'login': hook.connection.login,\n"
        f"    'key': hook.library.key({notebook_key!r}, PUBLISHED)}}))\n"
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_", "AWS_"))
    }
    environment["AIRFLOW_HOME"] = str(tmp_path)
    environment[variable] = service_env(stack, "airflow-scheduler")[variable]
    result = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["bucket"] == created_bucket(stack)
    assert seen["endpoint_url"] == S3_ENDPOINT
    assert seen["region_name"] == "us-east-1"
    assert seen["login"] == created_user(stack)[0]
    # Publishing the sample notebook in Jupyter writes the key the example DAG runs.
    config = load_jupyter_config(service_env(stack, "jupyter"), monkeypatch)
    assert path_to_key(config.Bookstore.published_prefix, SAMPLE_PATH) == seen["key"]


# -- credentials ----------------------------------------------------------------------------


def test_variables_are_documented_in_env_example_with_their_defaults() -> None:
    defaults: dict[str, set[str]] = {}
    for match in _VARIABLE.finditer(COMPOSE.read_text()):
        name = match.group("braced") or match.group("bare")
        if name:
            assert match.group("op") == ":-", f"${{{name}}}: give it a default, ${{{name}:-...}}"
            defaults.setdefault(name, set()).add(match.group("default"))
    documented = env_example()
    assert set(defaults) == set(documented) == set(OVERRIDES)
    for name, values in defaults.items():
        assert values == {documented[name]}, f"{name}: defaults {values} vs .env.example"
    gitignore = (REPO / ".gitignore").read_text().split()
    assert ".env" in gitignore


def test_no_credential_is_written_into_the_file() -> None:
    secret = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET")
    only_variable = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}")
    raw = raw_compose()
    for name, service in raw["services"].items():
        environment = service.get("environment", {})
        for variable, value in environment.items():
            if secret.search(variable):
                assert only_variable.fullmatch(str(value)), f"{name}: {variable} is not from a variable"
    conn = json.loads(raw["x-airflow-common"]["environment"]["AIRFLOW_CONN_BOOKSTORE_DEFAULT"])
    assert only_variable.fullmatch(conn["login"]) and only_variable.fullmatch(conn["password"])
    # Overriding the variables changes every credential the stack uses.
    defaults, overridden = compose({}), compose(OVERRIDES)
    user = (OVERRIDES["BOOKSTORE_S3_ACCESS_KEY"], OVERRIDES["BOOKSTORE_S3_SECRET_KEY"])
    assert created_user(overridden) == user
    assert created_user(defaults) != created_user(overridden)
    assert service_env(overridden, "postgres")["POSTGRES_PASSWORD"] == OVERRIDES["AIRFLOW_DB_PASSWORD"]
    sql = service_env(overridden, "airflow-scheduler")["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert urlsplit(sql).password == OVERRIDES["AIRFLOW_DB_PASSWORD"]
    assert urlsplit(sql).hostname == "postgres"
    # Celery's broker and result backend: the Redis password the broker requires, and the
    # metadata database's.
    worker = service_env(overridden, "airflow-worker")
    broker = urlsplit(worker["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert broker.password == OVERRIDES["AIRFLOW_REDIS_PASSWORD"]
    redis_command = overridden["services"]["redis"]["command"]
    assert redis_command[redis_command.index("--requirepass") + 1] == OVERRIDES["AIRFLOW_REDIS_PASSWORD"]
    assert service_env(overridden, "redis")["REDISCLI_AUTH"] == OVERRIDES["AIRFLOW_REDIS_PASSWORD"]
    backend = urlsplit(worker["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+"))
    assert (backend.hostname, backend.password) == ("postgres", OVERRIDES["AIRFLOW_DB_PASSWORD"])
