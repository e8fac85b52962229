"""What the Airflow DAGs share: the Assets that chain them, retry policy, the writer pool, alerting.

Imported by the DAG files at parse time, so it imports nothing heavy.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from functools import wraps

from airflow.sdk import Asset

STREAM_ASSETS = {
    "hotline": Asset("gridline://log/hotline"),
    "grid": Asset("gridline://log/grid"),
    "volunteer": Asset("gridline://log/volunteer"),
}
PUBLISHED_MARTS = Asset("gridline://warehouse/marts")
# DuckDB allows one writing process per file: every task that writes the warehouse takes this pool's slot.
WRITER_POOL = "gridline_duckdb_writer"

log = logging.getLogger("gridline.alerts")


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
        "look_at": {"run_reports": str(settings.runs_dir), "log": str(settings.log_dir)},
    }
    log.error("gridline task failed: %s", json.dumps(alert, ensure_ascii=False))
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "alerts.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(alert, ensure_ascii=False) + "\n")


def default_args() -> dict:
    return {
        "owner": "gridline",
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": alert_on_failure,
    }


def fail_fast_on_bad_data(function):
    """Bad input will not get better by retrying: turn it into a failure Airflow does not retry."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        from airflow.sdk.exceptions import AirflowFailException

        from gridline.errors import GridlineError

        try:
            return function(*args, **kwargs)
        except GridlineError as exc:
            raise AirflowFailException(str(exc)) from exc

    return wrapper
