"""Shared fixtures: a private gridline home, generated landing data, a migrated Airflow metadata DB.

Everything is real: files on disk, DuckDB, dbt, Great Expectations and Airflow, each test under its own
temporary folders. The environment is set before anything imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The shared real data sets: ``../shared`` beside the checkout as CI lays it out, or where
# GRIDLINE_SHARED points. A test module that needs them imports REAL_DATA from here, and only then.
SHARED = Path(os.environ.get("GRIDLINE_SHARED") or REPO.parent / "shared").absolute()
REAL_DATA = SHARED / "data" / "real"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="gridline-test-airflow-"))
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
    }
)
os.environ.pop("GRIDLINE_PII_KEY", None)
os.environ.pop("GRIDLINE_LANDING", None)

TEST_KEY = "test-key-not-a-secret"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Stop in one line, before any test runs, when a selected test needs the real data and it is absent."""
    needing = [item for item in items if _reads_real_data(item)]
    if needing and not REAL_DATA.is_dir():
        pytest.exit(
            f"missing {REAL_DATA}: {len(needing)} selected tests read the shared real data "
            "(put ../shared beside the checkout, or set GRIDLINE_SHARED)",
            returncode=4,
        )


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


@pytest.fixture(scope="session")
def tiny_landing(tmp_path_factory) -> Path:
    """Landing files of the tiny synthetic city (seed 11), generated once per session."""
    from ingestion.generate.scenario import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, "tiny", seed=11)
    return out


@pytest.fixture(scope="session")
def published_home(tmp_path_factory, tiny_landing) -> Path:
    """A home with every stream of the tiny city ingested and published by one `gridline run`, shared by
    the tests that only read a publication (a run costs ~20 s). Tests must not change it."""
    from tests.demo_reference import import_demo_reference

    home = tmp_path_factory.mktemp("published") / "home"
    import_demo_reference(tiny_landing, home)
    for stream in ("hotline", "grid", "volunteer"):
        files = sorted(str(p) for p in (tiny_landing / stream).glob("*/*") if p.is_file())
        gridline_cli("ingest", "--stream", stream, *files, env_home=home)
    gridline_cli("run", env_home=home)
    return home


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite Airflow metadata DB with the writer pool, once per session."""
    env = os.environ.copy()
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(BIN / "airflow"), "pools", "set", "gridline_duckdb_writer", "1", "single DuckDB writer"],
        env=env,
        check=True,
        capture_output=True,
    )
    return _AIRFLOW_HOME


def gridline_cli(*args: str, env_home: Path, check: bool = True, **extra_env) -> subprocess.CompletedProcess:
    """Run the installed `gridline` command as a user would."""
    env = {**os.environ, "GRIDLINE_HOME": str(env_home), "GRIDLINE_PII_KEY": TEST_KEY, **extra_env}
    proc = subprocess.run([str(BIN / "gridline"), *args], env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"gridline {' '.join(args)} failed:\n{proc.stderr}")
    return proc
