"""The production topology, proven natively: PostgreSQL metadata DB, api-server, scheduler, dag-processor.

There is no Docker engine here, so the services docker-compose.yml describes run as child processes
(tests/airflow_stack.py). The nightly ingest DAG is triggered over the REST API, runs on the
LocalExecutor, and its Asset schedules the transform, which publishes the marts.
"""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.slow

INGEST = "gridline_ingest_hotline"
TRANSFORM = "gridline_transform"


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
    assert result["appended"] > 500 and result["quarantined"] == 0

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
        assert con.sql("select count(*) from marts.cases").fetchall()[0][0] > 200
    finally:
        con.close()
