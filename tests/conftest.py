"""Shared fixtures: a private gridline home, generated landing data, a migrated Airflow metadata DB.

Everything is real: files on disk, DuckDB, dbt, Great Expectations and Airflow, each test under its own
temporary folders. The environment is set before anything imports Airflow.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The shared real data sets: ``../shared`` beside the checkout as CI lays it out, or where
# GRIDLINE_SHARED points. A test module that needs them imports REAL_DATA from here, and only then.
SHARED = Path(os.environ.get("GRIDLINE_SHARED") or REPO.parent / "shared").absolute()
REAL_DATA = SHARED / "data" / "real"


def _airflow_home_of_this_process() -> Path:
    """One temporary Airflow home per test process. pytest imports this file as ``conftest`` and the test
    modules import it again as ``tests.conftest``: both copies must take the same folder (else one is
    left behind), while a child pytest (tests/test_shared_data.py) inherits the variable and makes its own."""
    owner, _, path = os.environ.get("GRIDLINE_TEST_AIRFLOW_HOME", "").partition(":")
    if owner == str(os.getpid()):
        return Path(path)
    home = Path(tempfile.mkdtemp(prefix="gridline-test-airflow-"))
    os.environ["GRIDLINE_TEST_AIRFLOW_HOME"] = f"{os.getpid()}:{home}"
    return home


_AIRFLOW_HOME = _airflow_home_of_this_process()
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "SCARF_ANALYTICS": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # A full refresh runs the project's dbt unit tests, which check its SQL, not the data: the same
        # 25 on every new home, a third of a tiny city's build. The suite runs them once, through
        # `gridline run` (tests/test_run.py::test_ingest_run_sql_end_to_end, which sets this empty).
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
    }
)
os.environ.pop("GRIDLINE_PII_KEY", None)
os.environ.pop("GRIDLINE_LANDING", None)

TEST_KEY = "test-key-not-a-secret"


# Modules whose tests share a costly set-up per test process run on one pytest-xdist worker each (the
# Makefile runs `--dist loadgroup`): the parity tests wait for one Spark build of the published tiny city
# (five minutes or more), which kept every other worker that reached one of them idle for as long; the
# portable-SQL tests start a Spark session and compile the project twice, a minute or more per worker. Two
# groups, not one: the two Spark jobs then run beside each other instead of one after the other.
_ONE_WORKER = {"test_spark_parity.py": "spark_parity", "test_portable_sql.py": "spark_sql"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist names the tests by their group
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Stop in one line, before any test runs, when a selected test needs the real data and it is absent;
    keep the tests of ``_ONE_WORKER``'s modules on one worker."""
    for item in items:
        group = _ONE_WORKER.get(item.path.name)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    needing = [item for item in items if _reads_real_data(item)]
    if needing and not REAL_DATA.is_dir():
        pytest.exit(
            f"missing {REAL_DATA}: {len(needing)} selected tests read the shared real data "
            "(put ../shared beside the checkout, or set GRIDLINE_SHARED)",
            returncode=4,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """The Airflow home made at import goes with the session (each xdist worker removes its own)."""
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


def _reads_real_data(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return module is not None and "REAL_DATA" in vars(module)


# The PostgreSQL-backed Airflow deployment (session fixture ``airflow_stack``), shared by the tests
# that need a running scheduler.
pytest_plugins = ["tests.airflow_stack"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh $GRIDLINE_HOME with a pseudonymisation key in the environment."""
    path = tmp_path / "home"
    monkeypatch.setenv("GRIDLINE_HOME", str(path))
    monkeypatch.setenv("GRIDLINE_PII_KEY", TEST_KEY)
    return path


@pytest.fixture
def settings(home):
    from gridline.config import load_settings

    return load_settings()


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name`` of this test run, filled by ``build`` once: pytest-xdist workers are separate
    processes with session fixtures of their own, so the first to ask builds it under a lock in the run's
    shared temporary folder and the others wait for it and reuse it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a worker that failed left half built
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def tiny_landing(tmp_path_factory) -> Path:
    """Landing files of the tiny synthetic city (seed 11), generated once per test run."""
    from ingestion.generate.scenario import generate

    return built_once(tmp_path_factory, "landing", lambda out: generate(out, "tiny", seed=11))


def _publish_tiny_city(tiny_landing: Path, home: Path) -> None:
    from tests.demo_reference import import_demo_reference

    import_demo_reference(tiny_landing, home)
    for stream in ("hotline", "grid", "volunteer"):
        files = sorted(str(p) for p in (tiny_landing / stream).glob("*/*") if p.is_file())
        gridline_cli("ingest", "--stream", stream, *files, env_home=home)
    gridline_cli("run", env_home=home)


@pytest.fixture(scope="session")
def published_home(tmp_path_factory, tiny_landing) -> Path:
    """A home with every stream of the tiny city ingested and published by one `gridline run`, shared by
    the tests that only read a publication (a run costs ~60 s). Tests must not change it: a test that
    writes works on a copy (``shutil.copytree(published_home, ..., symlinks=True)``)."""
    folder = built_once(
        tmp_path_factory, "published", lambda out: _publish_tiny_city(tiny_landing, out / "home")
    )
    return folder / "home"


def _migrate_airflow_db(folder: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(folder)}
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "airflow"), "pools", "set", "gridline_duckdb_writer", "1", "single DuckDB writer"],
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory) -> Path:
    """A migrated SQLite Airflow metadata DB with the writer pool in this process's $AIRFLOW_HOME: migrated
    once per test run and copied (SQLite is one file) into each xdist worker's own home."""
    migrated = built_once(tmp_path_factory, "airflow-db", _migrate_airflow_db)
    shutil.copyfile(migrated / "airflow.db", _AIRFLOW_HOME / "airflow.db")
    return _AIRFLOW_HOME


def gridline_cli(*args: str, env_home: Path, check: bool = True, **extra_env) -> subprocess.CompletedProcess:
    """Run the installed `gridline` command as a user would."""
    env = {**os.environ, "GRIDLINE_HOME": str(env_home), "GRIDLINE_PII_KEY": TEST_KEY, **extra_env}
    proc = subprocess.run([str(BIN / "gridline"), *args], env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"gridline {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def latest_dbt_log(home: Path, command: str) -> str:
    """What the latest dbt invocation of ``command`` in ``home`` logged: dbt.log keeps every invocation,
    each starting with its command line."""
    log = (home / "dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    return log[log.rindex(f"'invocation_command': 'dbt {command}'") :]


def block_releases(home: Path, command: str) -> list[tuple[int, int]]:
    """(MiB dropped, MiB cached) of each release of DuckDB's cached table blocks (gridline/dbt_plugin.py)
    logged by the latest dbt invocation of ``command`` in ``home``."""
    found = re.findall(r"released (\d+) of (\d+) MiB of cached table blocks", latest_dbt_log(home, command))
    return [(int(released), int(cached)) for released, cached in found]
