"""Nightly ingest DAGs, one per stream: the day's landing files into the event log.

Each run reads the landing folders of its data interval (local days, Asia/Shanghai) and emits the
stream's Asset, which schedules the transform DAG. The work is in ``gridline.tasks``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from gridline.orchestration import STREAM_ASSETS, default_args, fail_fast_on_bad_data


def build_ingest_dag(stream: str):
    @dag(
        dag_id=f"gridline_ingest_{stream}",
        description=f"Nightly: {stream} landing files into the gridline event log",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Shanghai"),
        start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["gridline", "ingest", stream],
    )
    def ingest_dag():
        @task(outlets=[STREAM_ASSETS[stream]])
        @fail_fast_on_bad_data
        def ingest_landing_files(data_interval_start=None, data_interval_end=None) -> dict:
            from gridline.config import load_settings
            from gridline.tasks import ingest_interval

            return ingest_interval(load_settings(), stream, data_interval_start, data_interval_end)

        ingest_landing_files()

    return ingest_dag()


for _stream in STREAM_ASSETS:
    build_ingest_dag(_stream)
