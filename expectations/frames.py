"""The relations the expectation suites validate, prepared set-based in DuckDB.

Batch suites read ``audit_new_events`` (only the Parquet files of the batches being audited) and
``audit_batch_metrics`` (one row per new batch, stream and source system: how many new cases,
submissions or sessions arrived per day, and what share of them lack a category or a place, beside the
same figures for the same source over the trailing 28 days in batches committed before it, retracted and
flagged ones left out, from per-day statistics kept batch by batch). A source is judged against its own
history only: its first batch is checked for schema, ids and timestamps by the other batch suites, not
for volume or completeness against nothing, and a field the source has never carried is not held
against it.

Marts suites read the candidate's ``marts.*`` and derived relations: ``audit_rates`` (every ``*_rate``
column of every mart, summarised), ``audit_conservation`` (case entities in the log against rows of
``marts.cases``, per source system, from counts kept per batch: ``expectations.case_counts``),
``audit_mart_keys`` (rows and repeated keys of ``marts.cases``) and ``audit_changed_cases`` (the rows
of ``marts.cases`` that differ from the published mart's, in the quarters whose fingerprints differ:
only they are pulled into pandas, so a night audits what it changed, not the years behind it).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from expectations import case_counts
from gridline.publish import PARTITION_COLUMN
from ingestion.log import SYSTEM_STREAM, EventLog, is_system

TRAILING_DAYS = 28
# Below these sizes a share or a daily rate says more about chance than about the data.
MIN_ARRIVALS = 20
MIN_BASELINE = 50

# The event that brings a new thing into each stream (a case's category and place are on its snapshot).
ARRIVAL_EVENTS = ("case.received", "grid.submitted", "volunteer.checked_in")


def _sql_list(values: list[str] | set[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))
    return f"[{quoted}]" if quoted else "[]::varchar[]"


def _arrivals_sql(events: str, timezone: str) -> str:
    """One row per arrival (a new case, submission or session) among ``events``: its batch, source and
    local day, and whether it lacks a category or a place."""
    return f"""
        with arrived as (select * from ({events}) where event_type in {ARRIVAL_EVENTS}),
        -- a case's category and place are on its snapshots, not on case.received: its first one in the
        -- batch that brought the case says what the source knew when the case arrived
        case_places as (
            select entity_id, arg_min(
                {{'category_path': json_extract_string(payload, '$.category_path'),
                  'community': json_extract_string(payload, '$.community'),
                  'grid_code': json_extract_string(payload, '$.grid_code')}}, occurred_at) as first_state
            from ({events})
            where event_type = 'case.updated'
              and entity_id in (select entity_id from arrived where event_type = 'case.received')
            group by entity_id
        )
        select
            batch_id,
            stream,
            source_system,
            (occurred_at at time zone '{timezone}')::date as local_day,
            -- a grid worker's visit or service has no category to lack; issues and disputes do
            case when event_type != 'grid.submitted'
                   or json_extract_string(payload, '$.kind') in ('issue', 'dispute')
                 then nullif(trim(coalesce(first_state.category_path,
                                           json_extract_string(payload, '$.category_path'),
                                           json_extract_string(payload, '$.activity'))), '') is null
            end as lacks_category,
            nullif(trim(coalesce(first_state.community, first_state.grid_code,
                                 json_extract_string(payload, '$.community'),
                                 json_extract_string(payload, '$.grid_code'))), '') is null as lacks_place
        from arrived left join case_places using (entity_id)
        where stream != '{SYSTEM_STREAM}'
    """


def _keep_arrival_days(
    con: duckdb.DuckDBPyConnection, log: EventLog, batch_ids: list[str], timezone: str
) -> None:
    """Bring ``stats.arrival_days`` (per batch, stream, source and local day: arrivals, how many could
    lack a category, how many do, how many lack a place) up to every data batch of ``log`` up to the
    newest of ``batch_ids``: the new batches from ``audit_new_arrivals``, and any earlier batch not
    kept yet (a home from before the statistics were kept) read once from its files."""
    con.execute(
        """create table if not exists stats.arrival_days (batch_id varchar, stream varchar,
           source_system varchar, local_day date, arrivals bigint, category_judged bigint,
           lacking_category bigint, lacking_place bigint)"""
    )
    # every batch whose days were kept, also one that brought no arrivals (updates only)
    con.execute("create table if not exists stats.kept_batches (batch_id varchar)")
    kept = {b for (b,) in con.execute("select batch_id from stats.kept_batches").fetchall()}
    newest = max(batch_ids)
    missing = [
        m["batch_id"]
        for m in log.manifests()
        if not is_system(m)
        and m["batch_id"] not in kept
        and m["batch_id"] not in batch_ids
        and m["batch_id"] < newest
    ]
    daily = """select batch_id, stream, source_system, local_day, count(*), count(lacks_category),
                      count(*) filter (where lacks_category), count(*) filter (where lacks_place)
               from {} group by all"""
    for table in ("arrival_days", "kept_batches"):
        con.execute(f"delete from stats.{table} where list_contains(?, batch_id)", [batch_ids])
    con.execute("insert into stats.arrival_days " + daily.format("audit_new_arrivals"))
    if missing:
        earlier = _arrivals_sql(log.snapshot(missing).events_sql(), timezone)
        con.execute("insert into stats.arrival_days " + daily.format(f"({earlier})"))
    con.execute("insert into stats.kept_batches select unnest(?::varchar[])", [[*batch_ids, *missing]])


def prepare_batch_frames(
    con: duckdb.DuckDBPyConnection,
    log: EventLog,
    batch_ids: list[str],
    excluded: set[str],
    timezone: str,
    statistics: Path | None = None,
) -> None:
    """Create ``audit_new_events`` and ``audit_batch_metrics`` for ``batch_ids`` in ``con``.

    The new batches' files are read; the trailing days of earlier batches come from per-day statistics
    kept in the DuckDB file ``statistics`` (the run's, ``$GRIDLINE_HOME/audit/arrivals.duckdb``),
    updated here with the new batches, so a night reads what arrived, not the weeks behind it. Without
    a file they are computed in memory from the log."""
    files = [str(log.batches_dir / b / "events.parquet") for b in batch_ids]
    con.execute(
        f"create or replace temp view audit_new_events as select * from read_parquet({_sql_list(files)})"
    )
    con.execute(
        "create or replace temp table audit_new_arrivals as "
        + _arrivals_sql("select * from audit_new_events", timezone)
    )
    con.execute(f"attach '{statistics or ':memory:'}' as stats")
    try:
        con.execute("begin")
        _keep_arrival_days(con, log, batch_ids, timezone)
        con.execute("commit")
        _batch_metrics(con, excluded)
    finally:
        con.execute("detach stats")


def _batch_metrics(con: duckdb.DuckDBPyConnection, excluded: set[str]) -> None:
    con.execute(
        f"""
        create or replace temp table audit_batch_metrics as
        with spans as (
            -- the batch's days start at the 5th percentile of its arrival days: a few late arrivals
            -- from weeks ago must not stretch the span and dilute the daily rate
            select batch_id, stream, source_system, quantile_disc(local_day, 0.05) as first_day,
                   max(local_day) as last_day
            from audit_new_arrivals group by batch_id, stream, source_system
        ),
        per_batch as (
            select s.batch_id, s.stream, s.source_system, s.first_day, s.last_day, count(*) as arrivals,
                   count(*) filter (where a.local_day >= s.first_day) as arrivals_in_span,
                   avg(a.lacks_category::int) as category_share, avg(a.lacks_place::int) as place_share
            from spans s join audit_new_arrivals a
              on a.batch_id = s.batch_id and a.stream = s.stream
             and a.source_system is not distinct from s.source_system
            group by s.batch_id, s.stream, s.source_system, s.first_day, s.last_day
        ),
        baseline as (
            -- the same source's trailing days in batches committed before it, excluded ones left out
            select p.batch_id, p.stream, p.source_system, sum(d.arrivals) as baseline_arrivals,
                   min(d.local_day) as baseline_first_day,
                   sum(d.lacking_category) / nullif(sum(d.category_judged), 0) as baseline_category_share,
                   sum(d.lacking_place) / sum(d.arrivals) as baseline_place_share
            from per_batch p
            join stats.arrival_days d
              on d.stream = p.stream and d.source_system is not distinct from p.source_system
             and d.batch_id < p.batch_id  -- batch ids sort by commit time
             and not list_contains({_sql_list(excluded)}, d.batch_id)
             and d.local_day >= p.first_day - {TRAILING_DAYS} and d.local_day < p.first_day
            group by p.batch_id, p.stream, p.source_system
        ),
        measured as (
            select
                p.batch_id, p.stream, p.source_system, p.arrivals, p.first_day, p.last_day,
                p.arrivals_in_span / (p.last_day - p.first_day + 1) as arrivals_per_day,
                coalesce(b.baseline_arrivals, 0) as baseline_arrivals,
                b.baseline_arrivals / (p.first_day - b.baseline_first_day) as baseline_per_day,
                p.category_share, p.place_share, b.baseline_category_share, b.baseline_place_share
            from per_batch p left join baseline b
              on b.batch_id = p.batch_id and b.stream = p.stream
             and b.source_system is not distinct from p.source_system
        )
        select
            *,
            -- judged only against the source's own history, where there is enough data to judge (nulls
            -- are not checked), and only on fields the source has carried before
            case when baseline_arrivals >= {MIN_BASELINE}
                 then round(arrivals_per_day / baseline_per_day, 3) end as volume_ratio,
            case when arrivals >= {MIN_ARRIVALS} and baseline_arrivals >= {MIN_BASELINE}
                  and baseline_category_share < 1
                 then round(category_share, 3) end as lacks_category_share,
            case when arrivals >= {MIN_ARRIVALS} and baseline_arrivals >= {MIN_BASELINE}
                  and baseline_place_share < 1
                 then round(place_share, 3) end as lacks_place_share,
            case when arrivals >= {MIN_ARRIVALS} and baseline_arrivals >= {MIN_BASELINE}
                 then round(category_share - baseline_category_share, 3) end as lacks_category_excess,
            case when arrivals >= {MIN_ARRIVALS} and baseline_arrivals >= {MIN_BASELINE}
                 then round(place_share - baseline_place_share, 3) end as lacks_place_excess
        from measured
        order by batch_id, stream
        """
    )


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = ? and table_schema = 'marts' and table_name = ? order by ordinal_position""",
        [database, table],
    ).fetchall()


def _changed_rows_sql(
    con: duckdb.DuckDBPyConnection,
    candidate: str,
    table: str,
    published: str | None,
    parts: list[str] | None = None,
) -> str:
    """The rows of ``marts.<table>`` not in the published mart, or all of them when there is none with
    the same columns (a first run, a changed project). With ``parts`` (the partitions whose
    fingerprints differ from the publication's, ``gridline.publish``), only those are compared, so a
    night reads the quarters it touched, not the years behind it.

    Rows are compared by their hashes (as the fingerprints are), and only the rows whose hash the
    publication lacks are read whole: a late event in last quarter makes its whole partition differ,
    and comparing whole rows held the published quarters' rows, text and all, in memory (400 MB of a
    city's two quarters). A row repeated in the candidate comes twice when it differs."""
    columns = _columns(con, candidate, table)
    if published is None or _columns(con, published, table) != columns:
        return f'select * from {candidate}.marts."{table}"'
    if parts is None or "all" in parts:  # no fingerprints, or a mart published as one file
        scope = "true"
    elif not parts:
        scope = "false"
    else:
        scope = f"coalesce({PARTITION_COLUMN}::varchar, 'none') in {_sql_tuple(parts)}"
    return f"""
        select * from {candidate}.marts."{table}" mart_row
        where {scope} and hash(mart_row) in (
            select hash(mart_row) from {candidate}.marts."{table}" mart_row where {scope}
            except all
            select hash(mart_row) from {published}.marts."{table}" mart_row where {scope}
        )"""


def _sql_tuple(values: list[str]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def prepare_marts_frames(
    con: duckdb.DuckDBPyConnection,
    log: EventLog,
    excluded: set[str],
    candidate: str = "candidate",
    published: str | None = None,
    changed: dict[str, list[str]] | None = None,
    counts: str | None = None,
) -> None:
    """Create the marts suites' relations over the attached ``candidate`` database in ``con``; with the
    attached ``published`` one, the changed rows are those that differ from it (in the partitions
    ``changed`` names per mart, when given). ``counts`` names the schema of the log's case counts kept
    for the candidate's batches (``expectations.case_counts``); without it they are recounted."""
    parts = None if changed is None else changed.get("cases", [])
    changed_rows = _changed_rows_sql(con, candidate, "cases", published, parts)
    con.execute(f"create or replace temp view audit_changed_cases as {changed_rows}")
    con.execute(
        """create or replace temp view audit_mart_keys as
           select count(*) as mart_rows, count(*) - count(distinct case_id) as duplicate_keys
           from marts.cases"""
    )
    # the candidate's marts only: the published ones are attached too, and may hold a mart the
    # candidate has not (a build on Spark makes no ticket marts yet)
    rate_columns = con.sql(
        rf"""select table_name, column_name from information_schema.columns
            where table_catalog = '{candidate}' and table_schema = 'marts'
              and column_name like '%\_rate' escape '\'
              and (data_type in ('DOUBLE', 'FLOAT', 'REAL') or data_type like 'DECIMAL%')
            order by 1, 2"""
    ).fetchall()
    parts = [
        f"""select '{t}.{c}' as mart_column, min("{c}") as min_value, max("{c}") as max_value,
                   count(*) filter (where "{c}" < 0 or "{c}" > 1) as out_of_range
            from marts."{t}" """
        for t, c in rate_columns
    ]
    empty = "select null::varchar, null::double, null::double, null::bigint where false"
    con.execute(
        "create or replace temp view audit_rates(mart_column, min_value, max_value, out_of_range) as "
        + (" union all ".join(parts) or empty)
    )
    if counts is None:  # no counts kept beside this build: recount the log's (not excluded) batches
        con.execute("attach ':memory:' as audit_counts")
        counts = "audit_counts.main"
        kept = [p.name for p in log.batch_dirs() if p.name not in excluded]
        case_counts.fold(con, counts, log, kept)
    con.execute(f"create or replace temp view audit_conservation as {case_counts.conservation_sql(counts)}")
