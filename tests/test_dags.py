"""The Airflow DAGs: they parse cleanly, and the real DAGs run the whole path on a real metadata DB."""

from __future__ import annotations

import os
import subprocess
from datetime import date, timedelta

import duckdb
import pytest

from tests.conftest import BIN, REPO, TEST_KEY

EXPECTED_DAGS = {
    "gridline_ingest_hotline",
    "gridline_ingest_grid",
    "gridline_ingest_volunteer",
    "gridline_transform",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) >= EXPECTED_DAGS


def test_transform_runs_in_the_single_writer_pool(dagbag):
    task = dagbag.dags["gridline_transform"].get_task("build_audit_publish")
    assert task.pool == "gridline_duckdb_writer"


def test_ingest_dags_emit_their_stream_asset(dagbag):
    for stream in ("hotline", "grid", "volunteer"):
        task = dagbag.dags[f"gridline_ingest_{stream}"].get_task("ingest_landing_files")
        assert [o.uri for o in task.outlets] == [f"gridline://log/{stream}"]


@pytest.mark.slow
def test_airflow_runs_ingest_then_transform(airflow_db, tmp_path, tiny_landing):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "GRIDLINE_HOME": str(home),
        "GRIDLINE_PII_KEY": TEST_KEY,
        "GRIDLINE_LANDING": str(tiny_landing),
    }
    for day in sorted(p.name for p in (tiny_landing / "hotline").iterdir()):
        run_at = (date.fromisoformat(day) + timedelta(days=1)).isoformat() + "T00:00:00+08:00"
        proc = subprocess.run(
            [str(BIN / "airflow"), "dags", "test", "gridline_ingest_hotline", run_at],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "gridline_transform"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    con = duckdb.connect(str(home / "warehouse" / "published.duckdb"), read_only=True)
    cases = con.sql("select count(*) from marts.cases").fetchall()[0][0]
    tickets = con.sql("select count(*) from marts.problem_class_tickets").fetchall()[0][0]
    members = con.sql("select count(*) from marts.problem_class_ticket_cases").fetchall()[0][0]
    assert cases > 500 and tickets >= 8 and members >= 4 * 8
