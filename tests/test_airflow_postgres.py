"""The production topology: docker-compose.yml checked, and the same services proven natively.

There is no Docker engine here, so the compose file is validated structurally (and with
`docker compose config`, or Debian's `docker-compose`), and the services it describes run as child
processes (tests/airflow_stack.py): PostgreSQL metadata DB, api-server, scheduler, dag-processor on the
LocalExecutor. The nightly ingest DAG is triggered over the REST API, and its Asset schedules the
transform, which publishes the marts.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pytest
import yaml

from gridline.orchestration import WRITER_POOL, WRITER_POOL_SLOTS
from tests.conftest import REPO

INGEST = "gridline_ingest_hotline"
TRANSFORM = "gridline_transform"

SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|TOKEN)$", re.IGNORECASE)
REQUIRED_VAR = re.compile(r"\$\{(\w+):\?[^}]*\}")
ANY_VAR = re.compile(r"(?<!\$)\$\{(\w+)(?::?[-?][^}]*)?\}")
LONG_RUNNING = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def strings(node):
    """Every string value in a parsed YAML tree, with the key it sits under."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                yield str(key), value
            else:
                yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from (("", item),) if isinstance(item, str) else strings(item)


def test_compose_has_the_production_services_with_health_checks(compose):
    services = compose["services"]
    assert {"postgres", "airflow-init"} | LONG_RUNNING <= set(services)
    for name in LONG_RUNNING | {"postgres", "redis", "airflow-worker"}:
        check = services[name].get("healthcheck", {})
        assert check.get("test") and check.get("interval"), f"{name} has no health check"
    assert services["postgres"]["image"].startswith("postgres:15")
    for name in LONG_RUNNING:
        after = services[name]["depends_on"]
        assert after["postgres"]["condition"] == "service_healthy"
        assert after["airflow-init"]["condition"] == "service_completed_successfully"
    # The commands are the components tests/airflow_stack.py starts natively.
    commands = {services[n]["command"] for n in LONG_RUNNING}
    assert commands == {"api-server", "scheduler", "dag-processor", "triggerer"}


def test_compose_runs_local_executor_by_default_and_celery_as_a_profile(compose):
    services = compose["services"]
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    profiled = {name for name, s in services.items() if s.get("profiles")}
    assert profiled == {"redis", "airflow-worker", "spark-thrift"}
    assert all(services[n]["profiles"] == ["celery"] for n in ("redis", "airflow-worker"))
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_mounts_dags_dbt_project_and_the_data(compose):
    volumes = compose["services"]["airflow-scheduler"]["volumes"]
    # "source:target[:ro]", where the source may itself be "${VAR:-default}"
    targets = {v.removesuffix(":ro").rsplit(":", 1)[1] for v in volumes}
    assert {"/opt/gridline/dags", "/opt/gridline/dbt_project", "/var/lib/gridline"} <= targets
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["GRIDLINE_HOME"] == "/var/lib/gridline"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/gridline/dags"


def test_compose_init_migrates_creates_the_writer_pool_and_the_admin(compose):
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    assert "airflow db migrate" in script
    assert f'airflow pools set {WRITER_POOL} {WRITER_POOL_SLOTS} "' in script
    assert "AIRFLOW_ADMIN_PASSWORD" in script and init["restart"] == "no"


def test_compose_commits_no_secret(compose):
    for key, value in strings(compose):
        if SECRET_NAME.search(key):
            assert REQUIRED_VAR.fullmatch(value), f"{key} must come from .env as ${{VAR:?...}}, not {value!r}"
        if "://" in value and "@" in value:  # a URL with credentials: the password must be a ${VAR:?}
            credentials = value.split("://", 1)[1].split("@", 1)[0]
            assert REQUIRED_VAR.search(credentials), value
    # Every variable the file uses is documented in .env.example, and no secret there has a value.
    example = dict(
        line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines() if "=" in line[:40]
    )
    used = {name for _, value in strings(compose) for name in ANY_VAR.findall(value)}
    assert used <= set(example), used - set(example)
    for name, value in example.items():
        if SECRET_NAME.search(name):
            assert value == "", f".env.example must not hold a value for {name}"


def test_compose_image_is_airflow_3_3_with_the_project_installed_from_the_lock(compose):
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:3\.3\.\d+", dockerfile, re.MULTILINE)
    assert "uv export --frozen" in dockerfile
    assert compose["x-airflow-common"]["build"] == "."


def test_compose_spark_profile_serves_the_same_event_log_over_thrift(compose):
    """The Spark Thrift server sees the home where Airflow does, so dbt on it reads the log's batch files
    and writes tables under the same home."""
    services = compose["services"]
    spark = services["spark-thrift"]
    assert spark["profiles"] == ["spark"]
    assert spark["command"][0].endswith("start-thriftserver.sh")
    assert "hive.server2.thrift.port=10000" in spark["command"] and "10000" in spark["expose"]
    home = [v for v in services["airflow-scheduler"]["volumes"] if v.endswith(":/var/lib/gridline")]
    assert home and home[0] in spark["volumes"]
    warehouse = next(c for c in spark["command"] if c.startswith("spark.sql.warehouse.dir="))
    assert warehouse.split("=", 1)[1].startswith("/var/lib/gridline/")
    assert spark["healthcheck"]["test"] and spark["environment"]["SPARK_NO_DAEMONIZE"] == "true"
    assert services["airflow-scheduler"]["environment"]["GRIDLINE_ENGINE"] == "${GRIDLINE_ENGINE:-duckdb}"


def compose_command() -> list[str]:
    """`docker compose` where the plugin exists, else Debian's `docker-compose` (make system-deps)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    assert standalone, "neither `docker compose` nor `docker-compose` is installed: run `make system-deps`"
    return [standalone]


def test_docker_compose_config_accepts_the_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(
            f"{n}=x"
            for n in (
                "POSTGRES_PASSWORD",
                "AIRFLOW_FERNET_KEY",
                "AIRFLOW_JWT_SECRET",
                "AIRFLOW_ADMIN_PASSWORD",
                "GRIDLINE_PII_KEY",
            )
        )
    )
    compose_file = str(REPO / "docker-compose.yml")
    command = compose_command()
    checked = subprocess.run(
        [*command, "--env-file", str(env_file), "-f", compose_file, "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    with_spark = subprocess.run(
        [*command, "--env-file", str(env_file), "-f", compose_file, "--profile", "spark", "config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert with_spark.returncode == 0, with_spark.stderr
    assert "spark-thrift" in yaml.safe_load(with_spark.stdout)["services"]
    no_secrets = tmp_path / "empty.env"
    no_secrets.write_text("")
    missing = subprocess.run(
        [*command, "--env-file", str(no_secrets), "-f", compose_file, "config"],
        capture_output=True,
        cwd=tmp_path,
    )
    assert missing.returncode != 0  # without the secrets compose refuses to start


@pytest.mark.slow
def test_nightly_dag_triggered_over_rest_reaches_success_on_postgres(airflow_stack):
    stack = airflow_stack
    assert stack.request("GET", "/api/v2/pools/gridline_duckdb_writer")["slots"] == 1
    # What the scheduler would create for the night of 2025-09-30: logical date = interval start.
    run = stack.request(
        "POST",
        f"/api/v2/dags/{INGEST}/dagRuns",
        {
            "dag_run_id": "rest__2025-09-30",
            "logical_date": "2025-09-30T00:00:00+08:00",
            "data_interval_start": "2025-09-30T00:00:00+08:00",
            "data_interval_end": "2025-10-01T00:00:00+08:00",
        },
    )
    done = stack.wait_for_run(INGEST, run["dag_run_id"], timeout=150)
    assert done["state"] == "success", stack.log_tail("scheduler")
    xcom = stack.request(
        "GET",
        f"/api/v2/dags/{INGEST}/dagRuns/{run['dag_run_id']}/taskInstances/ingest_landing_files"
        "/xcomEntries/return_value",
    )
    result = xcom["value"]
    assert result["days"] == ["2025-09-30"]
    assert result["appended"] > 100 and result["files"]

    # The ingest's Asset event schedules the transform; wait for that asset-triggered run.
    def transformed():
        runs = stack.request("GET", f"/api/v2/dags/{TRANSFORM}/dagRuns")["dag_runs"]
        finished = [
            r for r in runs if r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")
        ]
        return finished[0] if finished else None

    transform = stack.wait_until("the asset-triggered transform", transformed, timeout=240, every=2)
    assert transform["state"] == "success", stack.log_tail("scheduler")
    con = duckdb.connect(str(stack.home / "warehouse" / "published.duckdb"), read_only=True)
    try:
        assert con.sql("select count(*) from marts.cases").fetchall()[0][0] > 50
    finally:
        con.close()
