"""Transform DAG: when any stream's log Asset is updated, build, audit and publish the marts.

One task runs the whole write-audit-publish (dbt build, dbt docs, Great Expectations, atomic publish)
in the single DuckDB writer pool; docs/operations-airflow.md says why this is one task and not one
per dbt model.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from gridline.orchestration import (
    PUBLISHED_MARTS,
    START_DATE,
    STREAM_ASSETS,
    WRITER_POOL,
    default_args,
    fail_fast_on_bad_data,
    task_settings,
)


@dag(
    dag_id="gridline_transform",
    description="Build → audit → publish the marts from the event log",
    schedule=STREAM_ASSETS["hotline"] | STREAM_ASSETS["grid"] | STREAM_ASSETS["volunteer"],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["gridline", "transform"],
)
def gridline_transform():
    @task(pool=WRITER_POOL, outlets=[PUBLISHED_MARTS])
    @fail_fast_on_bad_data
    def build_audit_publish() -> dict:
        from dataclasses import asdict

        from gridline.run import build_audit_publish as run

        return asdict(run(task_settings()))

    build_audit_publish()


gridline_transform()
