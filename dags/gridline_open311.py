"""Nightly Open311 pull: the service requests updated in the data interval, into the hotline stream.

Configured by the Airflow Variables ``gridline_open311_endpoint`` and ``gridline_open311_source`` (or
the GRIDLINE_OPEN311_ENDPOINT / GRIDLINE_OPEN311_SOURCE environment); without an endpoint each run is
skipped. Network errors are retried with backoff; a malformed answer fails at once.
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
    open311_config,
    task_settings,
)


@dag(
    dag_id="gridline_pull_open311",
    description="Nightly: Open311 GeoReport v2 requests of the data interval into the event log",
    schedule=nightly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["gridline", "ingest", "open311"],
)
def gridline_pull_open311():
    @task(outlets=[STREAM_ASSETS["hotline"]], execution_timeout=INGEST_TIMEOUT)
    @fail_fast_on_bad_data
    def pull_open311(data_interval_start=None, data_interval_end=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from gridline.tasks import pull_open311_interval

        endpoint, source = open311_config()
        if not endpoint:
            raise AirflowSkipException("no Open311 endpoint configured (Variable gridline_open311_endpoint)")
        return pull_open311_interval(
            task_settings(), endpoint, source, data_interval_start, data_interval_end
        )

    pull_open311()


gridline_pull_open311()
