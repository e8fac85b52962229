"""The log's case count per source system, kept up to date batch by batch for the conservation audit.

The conservation suite recounts cases straight from the events, independently of dbt: per source system
the distinct case entities among the hotline and Open311 case events, and the grid submissions whose
latest word is an issue of its own (not a follow-up, not handling a hotline order). Recounting from the
whole log every night reads the years behind it, so the counts are folded in per batch instead:

- ``case_entities``: every (source system, entity) seen in a case event;
- ``grid_latest``: per grid submission its latest event's key and whether that event makes it a case;
- ``folded_batches``: the batches folded in so far.

They live in the build database's schema ``audit`` beside the marts built from the same batches: a
full refresh starts an empty build database, so they are recounted then, and a batch that is no longer
built (retracted, flagged) empties them too (a count cannot take a batch back out).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.log import SYSTEM_STREAM, EventLog

SCHEMA = "audit"

# A grid submission is a case when its latest word reports a problem of its own.
_GRID_CASE = """json_extract_string(payload, '$.kind') = 'issue'
    and coalesce(trim(json_extract_string(payload, '$.related_submission_id')), '') = ''
    and coalesce(trim(json_extract_string(payload, '$.order_id')), '') = ''"""


def _create(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    con.execute(
        f"create table if not exists {prefix}.case_entities (source_system varchar, entity_id varchar)"
    )
    con.execute(
        f"""create table if not exists {prefix}.grid_latest (source_system varchar, entity_id varchar,
            occurred_at timestamptz, recorded_at timestamptz, event_id varchar, is_case boolean)"""
    )
    con.execute(f"create table if not exists {prefix}.folded_batches (batch_id varchar)")


def fold(con: duckdb.DuckDBPyConnection, prefix: str, log: EventLog, batch_ids: list[str]) -> None:
    """Fold the events of ``batch_ids`` (of ``log``) into the counts under ``prefix`` (``db.schema``)."""
    _create(con, prefix)
    if not batch_ids:
        return
    con.execute(
        f"""create or replace temp table fold_events as
            select source_system, entity_id, event_type, occurred_at, recorded_at, event_id,
                   case when event_type = 'grid.submitted' then {_GRID_CASE} end as is_case
            from ({log.snapshot(batch_ids).events_sql()})
            where stream != '{SYSTEM_STREAM}'
              and (event_type like 'case.%' or event_type = 'grid.submitted')"""
    )
    con.execute(
        f"""insert into {prefix}.case_entities
            select distinct source_system, entity_id from fold_events where event_type like 'case.%'
            except select source_system, entity_id from {prefix}.case_entities"""
    )
    # the latest event of each submission the batches touched, among its known latest and the new ones
    con.execute(
        f"""create or replace temp table fold_grid as
            with touched as (
                select source_system, entity_id, occurred_at, recorded_at, event_id, is_case
                from fold_events where event_type = 'grid.submitted'
            ),
            known as (
                select g.* from {prefix}.grid_latest g
                semi join touched t
                  on t.entity_id = g.entity_id and t.source_system is not distinct from g.source_system
            )
            select * from (select * from touched union all select * from known)
            qualify row_number() over (
                partition by source_system, entity_id
                order by occurred_at desc, recorded_at desc, event_id desc
            ) = 1"""
    )
    con.execute(
        f"""delete from {prefix}.grid_latest g using fold_grid t
            where t.entity_id = g.entity_id and t.source_system is not distinct from g.source_system"""
    )
    con.execute(f"insert into {prefix}.grid_latest select * from fold_grid")
    con.execute(f"insert into {prefix}.folded_batches select unnest(?::varchar[])", [batch_ids])
    con.execute("drop table fold_events")
    con.execute("drop table fold_grid")


def folded(con: duckdb.DuckDBPyConnection, prefix: str) -> set[str] | None:
    """The batches folded into the counts under ``prefix``, or None when there are no counts there."""
    try:
        return {b for (b,) in con.execute(f"select batch_id from {prefix}.folded_batches").fetchall()}
    except duckdb.CatalogException:
        return None


def bring_up_to_date(
    database: Path, log: EventLog, built: list[str], vacuum: bool = True, memory_limit: str | None = None
) -> None:
    """Make the counts in ``database`` (the build database) those of exactly the ``built`` batches.
    Without ``vacuum`` its checkpoint leaves deleted rows in place, as the build before it did
    (gridline/build_storage.py). Past ``memory_limit`` the fold spills beside the database: a
    megacity's first run folds 57 M events, 9.6 GB unbounded and 6.0 GB held to 6GB."""
    config = {} if vacuum else {"max_vacuum_tasks": 0}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(str(database), config=config)
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        done = folded(con, SCHEMA) or set()
        if not done <= set(built):
            for table in ("case_entities", "grid_latest", "folded_batches"):
                con.execute(f"drop table if exists {SCHEMA}.{table}")
            done = set()
        con.execute("begin")
        fold(con, SCHEMA, log, [b for b in built if b not in done])
        con.execute("commit")
    finally:
        con.close()


def conservation_sql(prefix: str, cases_mart: str = "marts.cases") -> str:
    """Per source system the cases the counts under ``prefix`` hold and the rows of ``cases_mart``."""
    return f"""
        with log_cases as (
            select source_system, count(*) as log_cases from {prefix}.case_entities group by source_system
            union all
            select source_system, count(*) as log_cases from {prefix}.grid_latest where is_case
            group by source_system
        ),
        mart_cases as (
            select source_system, count(*) as mart_cases from {cases_mart} group by source_system
        )
        select l.source_system, l.log_cases, coalesce(m.mart_cases, 0) as mart_cases
        from log_cases l left join mart_cases m using (source_system)
    """
