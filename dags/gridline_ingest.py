"""Nightly ingest DAGs, one per stream: the day's landing files into the event log.

Each run reads the landing folders of its data interval (local days, Asia/Shanghai) and emits the
stream's Asset, which schedules the transform DAG. A night with nothing landed is skipped and emits
nothing, so it does not rebuild the marts. The work is in ``gridline.tasks``.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from gridline.config import INGEST_TIMEOUT
from gridline.orchestration import (
    START_DATE,
    STREAM_ASSETS,
    default_args,
    fail_fast_on_bad_data,
    nightly_timetable,
    task_settings,
)


def build_ingest_dag(stream: str):
    @dag(
        dag_id=f"gridline_ingest_{stream}",
        description=f"Nightly: {stream} landing files into the gridline event log",
        schedule=nightly_timetable(),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["gridline", "ingest", stream],
    )
    def ingest_dag():
        @task(outlets=[STREAM_ASSETS[stream]], execution_timeout=INGEST_TIMEOUT)
        @fail_fast_on_bad_data
        def ingest_landing_files(data_interval_start=None, data_interval_end=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException

            from gridline.tasks import ingest_interval

            result = ingest_interval(task_settings(), stream, data_interval_start, data_interval_end)
            if not result["files"]:
                raise AirflowSkipException(f"nothing landed for {stream} on {', '.join(result['days'])}")
            return result

        ingest_landing_files()

    return ingest_dag()


for _stream in STREAM_ASSETS:
    build_ingest_dag(_stream)
