"""Quarterly review DAG: at each local quarter's end, publish the marts and write the closed quarter's report.

The data interval is one local quarter (Asia/Shanghai); the run starts at 00:00 on the first day of
the next quarter. It writes the warehouse, so it takes the single DuckDB writer slot like the
transform. The work is in ``gridline.tasks.quarterly_review``.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from gridline.orchestration import (
    PUBLISHED_MARTS,
    START_DATE,
    WRITER_POOL,
    default_args,
    fail_fast_on_bad_data,
    quarterly_timetable,
    task_settings,
)


@dag(
    dag_id="gridline_quarterly_review",
    description="Quarter end: build → audit → publish, then the class-of-problem review report",
    schedule=quarterly_timetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["gridline", "review"],
)
def gridline_quarterly_review():
    @task(pool=WRITER_POOL, outlets=[PUBLISHED_MARTS])
    @fail_fast_on_bad_data
    def publish_and_report(data_interval_start=None, data_interval_end=None) -> dict:
        from gridline.tasks import quarterly_review

        return quarterly_review(task_settings(), data_interval_start, data_interval_end)

    publish_and_report()


gridline_quarterly_review()
