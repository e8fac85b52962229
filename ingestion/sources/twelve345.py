"""The 12345 hotline work-order export (SPEC 2.1): a snapshot of each order, re-exported on every change.

Each row becomes lifecycle events (one per filled timestamp column, plus a reopening when the reopen
count rises) and a ``case.updated`` snapshot event carrying the order's whole pseudonymised state. The log
keeps a snapshot only when the state differs from the order's last known one, so re-sent and overlapping
exports add only what changed.

The whole translation is one streaming SELECT (:func:`candidates_sql`): each row yields a list of event
structs that is unnested, and rows that cannot be read yield one row with a ``problem``. CSV exports are
read by :func:`stream_csv`, which pipes ``read_csv`` through that SELECT straight into a Parquet file, so
memory stays flat whatever the file's size; workbooks go through :func:`load` into the staging tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.events import BATCH_FILE_OPTIONS, event_id_sql
from ingestion.sources import reading
from ingestion.sources.case_events import LIFECYCLE
from ingestion.sources.case_events import iso_utc as _iso_utc
from ingestion.sources.reading import columns_of

SOURCE_SYSTEM = "12345"
STREAM = "hotline"

HEADERS = {
    "工单编号": "order_id",
    "来电时间": "received_at",
    "来电号码": "caller_phone",
    "来电人": "caller_name",
    "诉求渠道": "channel",
    "诉求类型": "appeal_type",
    "诉求分类": "category_path",
    "诉求标题": "title",
    "诉求内容": "description",
    "事发地址": "address",
    "区县": "district",
    "街道": "street",
    "社区": "community",
    "网格": "grid_code",
    "承办单位": "handling_unit",
    "工单状态": "status",
    "派单时间": "dispatched_at",
    "签收时间": "accepted_at",
    "首次联系时间": "first_contact_at",
    "吹哨时间": "escalated_at",
    "办结时间": "resolved_at",
    "回访时间": "rated_at",
    "办理结果": "resolution",
    "满意度": "satisfaction",
    "重办次数": "reopen_count",
    "更新时间": "updated_at",
}
REQUIRED_HEADERS = ("工单编号", "来电时间")
MAX_REOPENINGS = 99  # more is a typing error, not a history: quarantined rather than expanded

# What each lifecycle event carries besides its time (case.received carries the whole state).
LIFECYCLE_PAYLOAD = {
    "case.dispatched": "json_object('handling_unit', handling_unit)",
    "case.resolved": "json_object('resolution', resolution)",
    "case.rated": "json_object('satisfaction', satisfaction)",
}
TEXT_STATE = (
    "channel",
    "appeal_type",
    "category_path",
    "district",
    "street",
    "community",
    "grid_code",
    "handling_unit",
    "status",
    "resolution",
    "satisfaction",
)

# The columns of a candidate row as the streaming SELECT produces them (problem rows fill only the last
# three and source_file / source_line).
CANDIDATE_ROW = (
    "event_id, stream, event_type, entity_id, occurred_at, source_system, payload, state_hash, "
    "source_file, source_line, problem, raw"
)


def matches(columns: list[str]) -> bool:
    return all(h in columns for h in REQUIRED_HEADERS)


def _proposal(event_type: str, at: str, payload: str, key: str, state_hash: str = "null") -> str:
    """One candidate event of a row, as a struct; ``key`` is what makes its id unique for the entity."""
    return (
        f"{{'event_type': {event_type}, 'occurred_at': {at}, 'payload': {payload}, "
        f"'id_key': {key}, 'state_hash': {state_hash}}}"
    )


def candidates_sql(source: str, present: set[str], source_file: str) -> str:
    """One streaming SELECT from ``source`` (text columns named as in the header, plus ``_line``).

    It yields every candidate event of every readable row, and one row with ``problem`` and a redacted
    ``raw`` for every row that cannot be read. Nothing in it blocks (no sort, no join, no window), so
    DuckDB runs it in parallel in fixed memory.
    """
    selected = ",\n".join(
        f"nullif(trim(\"{zh}\"), '') as {en}" if zh in present else f"null::varchar as {en}"
        for zh, en in HEADERS.items()
    )
    ts_columns = [*LIFECYCLE, "updated_at"]
    parsed = ", ".join(f"local_ts({c}) as {c}_utc" for c in ts_columns)
    iso = ", ".join(f"{_iso_utc(f'{c}_utc')} as {c}_iso" for c in LIFECYCLE)
    bad_ts = " ".join(
        f"when {c} is not null and {c}_utc is null then 'unreadable timestamp in {c}: ' || {c}"
        for c in ts_columns
    )
    file_literal = source_file.replace("'", "''")
    state_fields = ", ".join(f"'{c}', {c}" for c in TEXT_STATE)
    ts_fields = ", ".join(f"'{c}', {c}_iso" for c in LIFECYCLE)
    payloads = {"case.received": "state", **LIFECYCLE_PAYLOAD}
    lifecycle = ", ".join(
        _proposal(f"'{event_type}'", f"{c}_utc", payloads.get(event_type, "'{}'::json"), f"{c}_iso")
        for c, event_type in LIFECYCLE.items()
    )
    snapshot_at = "coalesce(updated_at_utc, received_at_utc)"
    # A reopening is identified by how many reopenings the order has had, not by when it was exported.
    reopened = _proposal("'case.reopened'", snapshot_at, "json_object('reopen_count', n)", "n::varchar")
    snapshot = _proposal(
        "'case.updated'",
        snapshot_at,
        "state",
        f"{_iso_utc(snapshot_at)} || chr(31) || state_hash",
        "state_hash",
    )
    nothing = _proposal("null::varchar", "null::timestamptz", "null::json", "null::varchar", "null::varchar")
    return f"""
        with orders as (
            select _line, {selected} from {source}
        ),
        parsed as (
            select *, {parsed}, try_cast(reopen_count as integer) as reopen_n from orders
        ),
        checked as (
            select *, {iso},
                case when order_id is null then 'missing 工单编号 (order id)'
                     when received_at is null then 'missing 来电时间 (received time)'
                     {bad_ts}
                     when reopen_count is not null and reopen_n is null
                          then 'unreadable 重办次数: ' || reopen_count
                     when reopen_n not between 0 and {MAX_REOPENINGS}
                          then 'implausible 重办次数: ' || reopen_count
                end as problem
            from parsed
        ),
        shaped as (
            select *, '{SOURCE_SYSTEM}:' || order_id as entity_id,
                json_object(
                    'order_id', order_id, {state_fields}, {ts_fields},
                    'reopen_count', coalesce(reopen_n, 0),
                    'title', redact_text(title, caller_name),
                    'description', redact_text(description, caller_name),
                    'address', redact_phones(address),
                    'caller_key', phone_hash(caller_phone),
                    'caller_name_key', pii_hash(caller_name)
                ) as state
            from checked
        ),
        hashed as (
            select *, md5(state::varchar) as state_hash from shaped
        ),
        proposed as (
            select _line, problem, entity_id,
                unnest([{nothing}, {lifecycle}]
                    || list_transform(
                        range(1, if(problem is null, coalesce(reopen_n, 0), 0) + 1), lambda n: {reopened}
                    )
                    || [{snapshot}]) as e,
                case when problem is not null then
                    redact_text(concat_ws(' | ', order_id, received_at, title, description), caller_name)
                end as raw
            from hashed
        )
        select
            case when problem is null
                 then {event_id_sql(f"'{SOURCE_SYSTEM}'", "entity_id", "e.event_type", "e.id_key")} end
                as event_id,
            case when problem is null then '{STREAM}' end as stream,
            e.event_type, entity_id, e.occurred_at,
            case when problem is null then '{SOURCE_SYSTEM}' end as source_system,
            e.payload, e.state_hash, '{file_literal}' as source_file, _line as source_line, problem, raw
        from proposed
        -- a readable row keeps its events that happened; a problem row keeps only the empty first one
        where if(problem is null, e.occurred_at is not null, e.event_type is null)
    """


def stream_csv(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, out: Path, workdir: Path
) -> tuple[int, str | None]:
    """Translate a 12345 CSV export into candidate rows in the Parquet file ``out``, in one pass.

    Returns the rows read and the line-correction table of :func:`reading.finish_stream_csv` (None when
    every record was well-formed); malformed records are already in ``quarantine``.
    """
    source = reading.stream_csv_relation(con, path, view, workdir)
    present = set(columns_of(con, source))
    # Numbering the records needs one ordered pass, which DuckDB runs on one thread; so that pass only
    # copies the text into a scratch Parquet file, and the costly part (hashing, redaction, JSON) then
    # runs over that file on every core. The scratch file holds clear text and lives in ``workdir``,
    # outside $GRIDLINE_HOME, removed with it.
    numbered = workdir / f"{view}.numbered.parquet"
    con.execute(
        f"copy (select * from {source}) to '{reading.sql_path(numbered)}' "
        "(format parquet, compression zstd, compression_level 1)"
    )
    line_fix = reading.finish_stream_csv(con, path, view)
    scan = f"read_parquet('{reading.sql_path(numbered)}')"
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute(
            f"copy ({candidates_sql(scan, present, str(path))}) to '{reading.sql_path(out)}' "
            f"({BATCH_FILE_OPTIONS})"
        )
    finally:
        con.execute("reset preserve_insertion_order")
    numbered.unlink()
    # Every good record yields at least one row (its snapshot, or its problem), numbered from 2 on.
    last = con.sql(f"select max(source_line) from read_parquet('{reading.sql_path(out)}')").fetchall()[0][0]
    return (last - 1 if last else 0), line_fix


def load(con: duckdb.DuckDBPyConnection, view: str, source_file: str) -> int:
    """Turn the rows of ``view`` (a registered workbook or CSV) into candidate events and quarantine rows."""
    present = set(columns_of(con, view))
    con.execute(
        f"create or replace temp table {view}_candidates as {candidates_sql(view, present, source_file)}"
    )
    con.execute(
        f"""insert into quarantine select source_file, source_line, problem, raw
            from {view}_candidates where problem is not null"""
    )
    con.execute(
        f"""insert into candidate_events
            select * exclude (problem, raw) from {view}_candidates where problem is null"""
    )
    return con.sql(f"select count(*) from {view}").fetchall()[0][0]
