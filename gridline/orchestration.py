"""What the Airflow DAGs share: schedules, the Assets that chain them, retry policy, pools, alerting.

Imported by the DAG files at parse time, so it imports nothing heavy: no DuckDB, dbt or gridline
modules beyond the config, and those only inside functions.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from functools import wraps

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable

from gridline.config import LOCAL_TIMEZONE

STREAM_ASSETS = {
    "hotline": Asset("gridline://log/hotline"),
    "grid": Asset("gridline://log/grid"),
    "volunteer": Asset("gridline://log/volunteer"),
}
PUBLISHED_MARTS = Asset("gridline://warehouse/marts")
# DuckDB allows one writing process per file: every task that writes the warehouse takes this pool's
# one slot, so the transform and the quarterly review never open the candidate at the same time.
WRITER_POOL = "gridline_duckdb_writer"
WRITER_POOL_SLOTS = 1
WRITER_POOL_DESCRIPTION = "DuckDB allows one writer per file"


# The first local day any gridline DAG has runs for; backfills cannot reach before it.
START_DATE = pendulum.datetime(2025, 1, 1, tz=LOCAL_TIMEZONE)

# Both schedules are in the deployment's local time: a data interval is one local day (nightly) or one
# local quarter (quarterly), and the run starts when its interval has closed.
NIGHTLY_CRON = "0 0 * * *"
QUARTERLY_CRON = "0 0 1 1,4,7,10 *"

# Open311 pulls are configured by Airflow Variables, falling back to the environment.
OPEN311_ENDPOINT_VARIABLE = "gridline_open311_endpoint"
OPEN311_SOURCE_VARIABLE = "gridline_open311_source"

log = logging.getLogger("gridline.alerts")


def nightly_timetable() -> CronDataIntervalTimetable:
    return CronDataIntervalTimetable(NIGHTLY_CRON, timezone=LOCAL_TIMEZONE)


def quarterly_timetable() -> CronDataIntervalTimetable:
    return CronDataIntervalTimetable(QUARTERLY_CRON, timezone=LOCAL_TIMEZONE)


def alert_on_failure(context) -> None:
    """Say what failed and where to look, in the task log and in $GRIDLINE_HOME/alerts.jsonl."""
    from gridline.config import load_settings

    ti = context.get("task_instance") or context.get("ti")
    error = context.get("exception")
    settings = load_settings()
    alert = {
        "at": datetime.now(UTC).isoformat(),
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": str(error).splitlines()[0] if error else None,
        "look_at": {
            "task_log": f"Airflow UI: Dags > {getattr(ti, 'dag_id', '?')} > {getattr(ti, 'run_id', '?')}",
            "run_reports": str(settings.runs_dir),
            "event_log": str(settings.log_dir),
        },
    }
    log.error("gridline task failed: %s", json.dumps(alert, ensure_ascii=False))
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        with open(settings.home / "alerts.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert, ensure_ascii=False) + "\n")
    except OSError as exc:  # the home itself may be what failed; the task log still has the alert
        log.error("could not append to %s: %s", settings.home / "alerts.jsonl", exc)


def retry_delay() -> timedelta:
    """The first retry's wait; GRIDLINE_RETRY_DELAY_SECONDS shortens it for drills and tests."""
    return timedelta(seconds=float(os.environ.get("GRIDLINE_RETRY_DELAY_SECONDS", "30")))


def default_args() -> dict:
    """Transient failures (a busy disk, a flaky endpoint) are retried with exponential backoff."""
    return {
        "owner": "gridline",
        "retries": 2,
        "retry_delay": retry_delay(),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": alert_on_failure,
    }


def fail_fast_on_bad_data(function):
    """Bad input will not get better by retrying: turn it into a failure Airflow does not retry (the
    machine failing is retried as usual)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        from gridline.errors import GridlineError, MachineError

        try:
            return function(*args, **kwargs)
        except MachineError:
            raise  # a full disk or a missing mount may be gone by the next try
        except GridlineError as exc:
            raise AirflowFailException(str(exc)) from exc

    return wrapper


def task_settings():
    """gridline settings inside a task. The key is looked up by ``gridline.config``: the environment,
    then the Airflow Variable ``GRIDLINE_PII_KEY`` (so it can live in a secrets backend), then a key file.
    """
    from gridline.config import load_settings

    return load_settings()


def open311_config() -> tuple[str | None, str]:
    """The Open311 endpoint and source name: Airflow Variables first, then GRIDLINE_OPEN311_* env."""
    from airflow.sdk import Variable

    endpoint = Variable.get(OPEN311_ENDPOINT_VARIABLE, default=None) or os.environ.get(
        "GRIDLINE_OPEN311_ENDPOINT"
    )
    source = Variable.get(OPEN311_SOURCE_VARIABLE, default=None) or os.environ.get(
        "GRIDLINE_OPEN311_SOURCE", "open311"
    )
    return (endpoint.strip() or None) if endpoint else None, source
