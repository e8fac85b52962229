"""The Airflow DAGs: they parse cleanly, keep the single-writer design, fail fast on bad data, retry
what is transient, alert with where to look, and re-running an interval changes nothing.

Runs go through ``airflow dags test`` on the session's SQLite metadata DB: the real DAGs, the real
task code, real files.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from gridline.config import INGEST_TIMEOUT
from gridline.orchestration import WRITER_POOL, alert_on_failure
from gridline.tasks import ingest_interval
from tests.airflow_stack import log_event_ids
from tests.conftest import BIN, REAL_DATA, REPO, TEST_KEY
from tests.fingerprints import marts_fingerprint

EXPECTED_DAGS = {
    "gridline_ingest_hotline",
    "gridline_ingest_grid",
    "gridline_ingest_volunteer",
    "gridline_pull_open311",
    "gridline_transform",
    "gridline_quarterly_review",
}
INGEST = "gridline_ingest_hotline"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == EXPECTED_DAGS


def test_transform_is_one_writer_task_in_the_single_writer_pool(dagbag):
    # One `dbt build` task, not one task per model: see docs/operations-airflow.md.
    transform = dagbag.dags["gridline_transform"]
    assert [t.task_id for t in transform.tasks] == ["build_audit_publish"]
    assert transform.get_task("build_audit_publish").pool == WRITER_POOL == "gridline_duckdb_writer"


def test_every_task_that_writes_the_warehouse_takes_the_writer_slot(dagbag):
    writers = {
        (dag_id, t.task_id)
        for dag_id, dag in dagbag.dags.items()
        for t in dag.tasks
        if any(o.uri == "gridline://warehouse/marts" for o in t.outlets)
    }
    assert writers == {
        ("gridline_transform", "build_audit_publish"),
        ("gridline_quarterly_review", "publish_and_report"),
    }
    for dag_id, task_id in writers:
        assert dagbag.dags[dag_id].get_task(task_id).pool == WRITER_POOL


def test_the_pool_is_created_with_one_slot_by_make_and_by_compose():
    makefile = (REPO / "Makefile").read_text()
    assert 'pools set gridline_duckdb_writer 1 "' in makefile
    assert "airflow-init: $(AIRFLOW_HOME)/.migrated" in makefile
    compose = (REPO / "docker-compose.yml").read_text()
    assert 'airflow pools set gridline_duckdb_writer 1 "' in compose


def test_ingest_dags_emit_their_stream_asset(dagbag):
    for stream in ("hotline", "grid", "volunteer"):
        task = dagbag.dags[f"gridline_ingest_{stream}"].get_task("ingest_landing_files")
        assert [o.uri for o in task.outlets] == [f"gridline://log/{stream}"]
    pull = dagbag.dags["gridline_pull_open311"].get_task("pull_open311")
    assert [o.uri for o in pull.outlets] == ["gridline://log/hotline"]


def test_every_task_retries_with_backoff_and_alerts(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.retries == 2, task
            assert task.retry_exponential_backoff, task
            assert task.max_retry_delay == timedelta(minutes=10), task
            assert (
                task.on_failure_callback == [alert_on_failure] or task.on_failure_callback is alert_on_failure
            )


def test_ingest_tasks_end_when_hung(dagbag):
    ingest_tasks = [task for dag in dagbag.dags.values() for task in dag.tasks if "ingest" in dag.tags]
    assert len(ingest_tasks) >= 3
    for task in ingest_tasks:
        assert task.execution_timeout == INGEST_TIMEOUT, task


def test_alert_says_what_failed_and_where_to_look(home):
    class TaskInstance:
        dag_id, task_id, run_id, try_number = INGEST, "ingest_landing_files", "scheduled__2025-10-01", 3

    alert_on_failure({"task_instance": TaskInstance(), "exception": ValueError("disk full\nmore")})
    (alert,) = [json.loads(line) for line in (home / "alerts.jsonl").read_text().splitlines()]
    assert alert["dag_id"] == INGEST and alert["task_id"] == "ingest_landing_files"
    assert alert["error"] == "disk full" and alert["try_number"] == 3
    assert alert["look_at"]["run_reports"] == str(home / "runs")
    assert "scheduled__2025-10-01" in alert["look_at"]["task_log"]


# ---- real runs through `airflow dags test` ------------------------------------------------------------


def dags_test(dag_id: str, logical_date: str | None, env: dict) -> subprocess.CompletedProcess:
    args = [str(BIN / "airflow"), "dags", "test", dag_id] + ([logical_date] if logical_date else [])
    return subprocess.run(args, env=env, capture_output=True, text=True)


def last_try(dag_id: str) -> tuple[str, int, int]:
    """State and try number of the newest run's task, and how many earlier tries Airflow recorded."""
    # The environment, not the fixture's return value, is what the `airflow` subprocesses used.
    con = sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
    try:
        run_id, state, try_number = con.execute(
            "select ti.run_id, ti.state, ti.try_number from task_instance ti join dag_run dr "
            "on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id "
            "where ti.dag_id = ? order by dr.id desc limit 1",
            (dag_id,),
        ).fetchone()
        (earlier,) = con.execute(
            "select count(*) from task_instance_history where dag_id = ? and run_id = ?", (dag_id, run_id)
        ).fetchone()
    finally:
        con.close()
    return state, try_number, earlier


def one_day_landing(tiny_landing: Path, out: Path, day: str) -> Path:
    source = sorted((tiny_landing / "hotline").iterdir())[0]
    shutil.copytree(source, out / "hotline" / day)
    return out


@pytest.mark.slow
def test_bad_config_fails_at_once_without_retry_and_alerts(airflow_db, tiny_landing, tmp_path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "GRIDLINE_HOME": str(home),
        "GRIDLINE_LANDING": str(one_day_landing(tiny_landing, tmp_path / "landing", "2025-03-01")),
        "GRIDLINE_RETRY_DELAY_SECONDS": "1",
    }
    env.pop("GRIDLINE_PII_KEY", None)  # no key: a configuration error, which no retry can fix
    proc = dags_test(INGEST, "2025-03-02T00:00:00+08:00", env)
    assert proc.returncode != 0
    assert last_try(INGEST) == ("failed", 1, 0)
    (alert,) = [json.loads(line) for line in (home / "alerts.jsonl").read_text().splitlines()]
    assert alert["task_id"] == "ingest_landing_files" and "no pseudonymisation key" in alert["error"]

    # Fixed the way a deployment would: the key as an Airflow Variable (here from the environment
    # secrets backend; Vault or a cloud secret manager work the same way). The re-run succeeds.
    proc = dags_test(INGEST, "2025-03-02T00:00:00+08:00", {**env, "AIRFLOW_VAR_GRIDLINE_PII_KEY": TEST_KEY})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert last_try(INGEST) == ("success", 1, 0)
    assert len(log_event_ids(home)) > 100


@pytest.mark.slow
def test_a_transient_error_is_retried_with_backoff(airflow_db, tiny_landing, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # the log folder cannot be created under a file: an OSError, not bad data
    env = {
        **os.environ,
        "GRIDLINE_HOME": str(blocker / "home"),
        "GRIDLINE_PII_KEY": TEST_KEY,
        "GRIDLINE_LANDING": str(one_day_landing(tiny_landing, tmp_path / "landing", "2025-03-02")),
        "GRIDLINE_RETRY_DELAY_SECONDS": "1",
    }
    proc = dags_test(INGEST, "2025-03-03T00:00:00+08:00", env)
    assert proc.returncode != 0
    assert last_try(INGEST) == ("failed", 3, 2)  # the first try and two retries


def local_midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(), ZoneInfo("Asia/Shanghai"))


def night_after(day: str) -> str:
    """The logical date that makes a manual run cover ``day``: local midnight after it."""
    return (local_midnight(day) + timedelta(days=1)).isoformat()


@pytest.mark.slow
def test_airflow_runs_ingest_then_transform_and_a_rerun_changes_nothing(
    airflow_db, settings, tiny_landing, monkeypatch
):
    monkeypatch.setenv("GRIDLINE_LANDING", str(tiny_landing))
    home = settings.home
    env = dict(os.environ)
    days = sorted(p.name for p in (tiny_landing / "hotline").iterdir())
    # The months before the last arrive as one catch-up interval, through the task's own function; the
    # last night and the publish go through Airflow.
    ingest_interval(settings, "hotline", local_midnight(days[0]), local_midnight(days[-1]))
    proc = dags_test(INGEST, night_after(days[-1]), env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = dags_test("gridline_transform", None, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    con = duckdb.connect(str(home / "warehouse" / "published.duckdb"), read_only=True)
    cases = con.sql("select count(*) from marts.cases").fetchall()[0][0]
    tickets = con.sql("select count(*) from marts.problem_class_tickets").fetchall()[0][0]
    members = con.sql("select count(*) from marts.problem_class_ticket_cases").fetchall()[0][0]
    con.close()
    assert cases > 500 and tickets >= 8 and members >= 4 * 8

    # Re-run the last night and publish again: the log and the marts stay exactly as they were.
    events, marts = log_event_ids(home), marts_fingerprint(home)
    assert dags_test(INGEST, night_after(days[-1]), env).returncode == 0
    assert last_try(INGEST) == ("success", 1, 0)
    assert log_event_ids(home) == events
    assert dags_test("gridline_transform", None, env).returncode == 0
    assert marts_fingerprint(home) == marts


@pytest.mark.slow
def test_quarterly_review_publishes_and_writes_the_closed_quarters_report(
    airflow_db, settings, tiny_landing, monkeypatch
):
    pytest.importorskip("gridline.report", reason="the quarterly report module is not installed")
    monkeypatch.setenv("GRIDLINE_LANDING", str(tiny_landing))
    home = settings.home
    days = sorted(p.name for p in (tiny_landing / "hotline").iterdir())
    ingest_interval(
        settings, "hotline", local_midnight(days[0]), local_midnight(days[-1]) + timedelta(days=1)
    )
    env = dict(os.environ)
    # Triggered at the end of 2025Q4 (local midnight of 2026-01-01), it reviews 2025Q4.
    proc = dags_test("gridline_quarterly_review", "2026-01-01T00:00:00+08:00", env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (home / "warehouse" / "published.duckdb").exists()
    reports = [p for p in home.rglob("*2025Q4*") if p.is_file()]
    assert reports, sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())[:50]


@pytest.fixture
def open311_server():
    """A real GeoReport v2 endpoint on 127.0.0.1 serving Chicago's sample; it records each query."""
    import http.server
    import threading
    from urllib.parse import parse_qs, urlparse

    body = (REAL_DATA / "chicago_open311" / "requests.json").read_bytes()
    queries: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            queries.append(query)
            payload = body if query.get("page", "1") == "1" else b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/open311/v2/requests.json", queries
    server.shutdown()


@pytest.mark.slow
def test_open311_pull_is_skipped_unconfigured_and_pulls_its_data_interval(airflow_db, home, open311_server):
    pytest.importorskip("ingestion.sources.open311")
    endpoint, queries = open311_server
    env = dict(os.environ)
    night = "2025-10-01T00:00:00+08:00"  # covers the local day 2025-09-30

    assert dags_test("gridline_pull_open311", night, env).returncode == 0
    assert last_try("gridline_pull_open311")[0] == "skipped" and queries == []

    # Configured as a deployment would, by Airflow Variables (here from the environment backend).
    env |= {
        "AIRFLOW_VAR_GRIDLINE_OPEN311_ENDPOINT": endpoint,
        "AIRFLOW_VAR_GRIDLINE_OPEN311_SOURCE": "chicago",
    }
    proc = dags_test("gridline_pull_open311", night, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert last_try("gridline_pull_open311") == ("success", 1, 0)
    # The window asked for is the run's data interval, in UTC.
    assert (queries[0]["updated_after"], queries[0]["updated_before"]) == (
        "2025-09-29T16:00:00Z",
        "2025-09-30T16:00:00Z",
    )
    assert len(log_event_ids(home)) >= 50
