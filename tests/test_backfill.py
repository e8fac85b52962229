"""Backfill reprocesses a range with the same result as the nightly runs that range would have had.

The nightly runs go through ``airflow dags test`` on the SQLite metadata DB, one per night; the
backfill goes through ``airflow backfill create`` against the PostgreSQL-backed scheduler (Airflow 3
backfills are executed by the scheduler). What an ingest run produces is the event log, so the two
logs must hold exactly the same events. (That the marts are a function of the log, unchanged by a
re-run, is tests/test_dags.py's idempotency test.)
"""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.airflow_stack import (
    BACKFILL_DAYS,
    log_event_ids,
    three_day_landing,
)
from tests.conftest import BIN, TEST_KEY

pytestmark = pytest.mark.slow

INGEST = "gridline_ingest_hotline"
TRANSFORM = "gridline_transform"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def nightly_runs(airflow_db, tiny_landing, tmp_path):
    """Three nights through `airflow dags test`: the reference event log."""
    home = tmp_path / "nightly-home"
    env = {
        **os.environ,
        "GRIDLINE_HOME": str(home),
        "GRIDLINE_PII_KEY": TEST_KEY,
        "GRIDLINE_LANDING": str(three_day_landing(tiny_landing, tmp_path / "landing")),
    }
    for day in BACKFILL_DAYS:
        # A manual run at local midnight after day D covers day D, like the scheduled run of that night.
        run_at = f"{date.fromisoformat(day) + timedelta(days=1)}T00:00:00+08:00"
        proc = subprocess.run(
            [str(BIN / "airflow"), "dags", "test", INGEST, run_at], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home


def test_backfill_over_three_days_equals_three_nightly_runs(
    airflow_stack, airflow_db, tiny_landing, tmp_path
):
    stack = airflow_stack
    nightly_home = nightly_runs(airflow_db, tiny_landing, tmp_path)
    # The marts are not under test here: keep the asset-triggered transform from rebuilding them.
    stack.request("PATCH", f"/api/v2/dags/{TRANSFORM}", {"is_paused": True})

    stack.airflow(
        "backfill",
        "create",
        "--dag-id",
        INGEST,
        "--from-date",
        f"{BACKFILL_DAYS[0]}T00:00:00+08:00",
        "--to-date",
        f"{BACKFILL_DAYS[-1]}T00:00:00+08:00",
        # Reprocess nights that already ran, one night at a time in date order (the log is a history).
        "--reprocess-behavior",
        "completed",
        "--max-active-runs",
        "1",
    )

    def backfill_runs():
        runs = stack.request("GET", f"/api/v2/dags/{INGEST}/dagRuns?run_type=backfill")["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return runs if len(done) == len(BACKFILL_DAYS) else None

    runs = stack.wait_until("the three backfill runs", backfill_runs, timeout=240, every=2)
    assert all(r["state"] == "success" for r in runs), runs
    local_days = sorted(
        datetime.fromisoformat(r["data_interval_start"]).astimezone(SHANGHAI).date().isoformat() for r in runs
    )
    assert local_days == list(BACKFILL_DAYS)

    assert log_event_ids(stack.home) == log_event_ids(nightly_home)
