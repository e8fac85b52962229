"""The 12345 hotline work-order export (SPEC 2.1): a snapshot of each order, re-exported on every change.

Each row becomes lifecycle events (one per filled timestamp column, plus a reopening when the reopen
count rises) and a ``case.updated`` snapshot event carrying the order's whole pseudonymised state. The log
keeps a snapshot only when the state differs from the order's last known one, so re-sent and overlapping
exports add only what changed.

The whole translation is one streaming SELECT (:func:`candidates_sql`): each readable row fans out into
numbered slots, one per event it yields; :func:`problems_sql` gives the rows that cannot be read. CSV
exports are read by :func:`stream_csv`, which pipes ``read_csv`` through that SELECT straight into the
batch's events file, so memory stays flat whatever the file's size; workbooks go through :func:`load`
into the staging tables.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.events import BATCH_FILE_OPTIONS, event_id_sql
from ingestion.log import OpenBatch
from ingestion.sources import reading
from ingestion.sources.case_events import (
    EMPTY_PAYLOAD,
    LIFECYCLE,
    LIFECYCLE_PAYLOADS,
    state_hash_sql,
    state_json_sql,
)
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


def matches(columns: list[str]) -> bool:
    return all(h in columns for h in REQUIRED_HEADERS)


def _checked_sql(source: str, present: set[str], source_file: str) -> str:
    """CTEs ``orders``, ``parsed`` and ``checked``: each record's fields, its timestamps as UTC, and the
    ``problem`` that keeps it out of the log (null for a readable record). ``source_file`` is the SQL of
    each record's lineage over ``source``, carried as ``_lineage``."""
    selected = ",\n".join(
        f"nullif(trim(\"{zh}\"), '') as {en}" if zh in present else f"null::varchar as {en}"
        for zh, en in HEADERS.items()
    )
    ts_columns = [*LIFECYCLE, "updated_at"]
    # Parsed once, converted once: a macro nesting both would parse each value twice.
    parsed = ", ".join(f"local_wall_clock({c}) as {c}_wall" for c in ts_columns)
    in_utc = ", ".join(f"wall_clock_to_utc({c}_wall) as {c}_utc" for c in ts_columns)
    bad_ts = " ".join(
        f"when {c} is not null and {c}_wall is null then 'unreadable timestamp in {c}: ' || {c}"
        for c in ts_columns
    )
    return f"""
        orders as (
            select _line, {source_file} as _lineage, {selected} from {source}
        ),
        parsed as (
            select *, {parsed}, try_cast(reopen_count as integer) as reopen_n from orders
        ),
        checked as (
            select *, {in_utc},
                case when order_id is null then 'missing 工单编号 (order id)'
                     when received_at is null then 'missing 来电时间 (received time)'
                     {bad_ts}
                     when reopen_count is not null and reopen_n is null
                          then 'unreadable 重办次数: ' || reopen_count
                     when reopen_n not between 0 and {MAX_REOPENINGS}
                          then 'implausible 重办次数: ' || reopen_count
                end as problem
            from parsed
        )"""


def _slot_case(values: list[str], default: str = "null") -> str:
    """A CASE over the slot number ``k``: ``values[k]`` for k below their count, else ``default``."""
    whens = " ".join(f"when {k} then {value}" for k, value in enumerate(values))
    return f"case k {whens} else {default} end"


def candidates_sql(source: str, present: set[str], source_file: str) -> str:
    """One streaming SELECT from ``source`` (text columns named as in the header, plus ``_line``) of the
    candidate events of every readable record (candidate columns plus ``source_line``).

    Each order fans out into numbered slots ``k``: slots 0-6 are the lifecycle steps of ``LIFECYCLE`` (an
    event only when its timestamp is filled), slot 7 the ``case.updated`` snapshot, and slots 8 and up its
    reopenings (the n-th reopening in slot 7 + n). Fanning out plain slot numbers and choosing each
    column with a CASE is several times cheaper than unnesting a list of event structs. Nothing in the
    query blocks (no sort, no join, no window), so DuckDB runs it in parallel in fixed memory.
    """
    steps = list(LIFECYCLE)
    snapshot_slot = len(steps)
    iso = ", ".join(f"{_iso_utc(f'{c}_utc')} as {c}_iso" for c in steps)
    event_type = _slot_case([f"'{LIFECYCLE[c]}'" for c in steps] + ["'case.updated'"], "'case.reopened'")
    occurred_at = _slot_case([f"{c}_utc" for c in steps], "snapshot_at")
    # What makes each event's id unique for its order: the step's time; the snapshot's time and state;
    # a reopening's ordinal (identified by how many reopenings the order has had, not by export time).
    id_key = _slot_case(
        [f"{c}_iso" for c in steps] + [f"{_iso_utc('snapshot_at')} || chr(31) || state_hash"],
        f"(k - {snapshot_slot})::varchar",
    )
    payload = _slot_case(
        [LIFECYCLE_PAYLOADS.get(LIFECYCLE[c], EMPTY_PAYLOAD) for c in steps] + ["state"],
        f"json_object('reopen_count', k - {snapshot_slot})",
    )
    return f"""
        with {_checked_sql(source, present, source_file)},
        -- the case's state in the contract's fields (case_events), personal data pseudonymised
        prepared as (
            select * replace (
                    redact_text(title, caller_name) as title,
                    redact_text(description, caller_name) as description,
                    redact_phones(address) as address,
                    coalesce(reopen_n, 0) as reopen_count),
                '{SOURCE_SYSTEM}:' || order_id as entity_id,
                coalesce(updated_at_utc, received_at_utc) as snapshot_at,
                null::varchar as status_raw, phone_hash(caller_phone) as caller_key,
                pii_hash(caller_name) as caller_name_key, null::double as lat, null::double as lon,
                null::json as extra, {iso}
            from checked
        ),
        shaped as (
            select *, {state_json_sql(stamp=lambda c: f"{c}_iso")} as state from prepared
        ),
        hashed as (
            select *, {state_hash_sql("state")} as state_hash from shaped
        ),
        slots as (
            -- a record that cannot be read has no slots (a WHERE here would be pushed down to the scan,
            -- where DuckDB would parse every timestamp a second time to evaluate it)
            select *, unnest(range(0, if(problem is null, {snapshot_slot + 1} + reopen_count, 0))) as k
            from hashed
        ),
        proposed as (
            select *, {event_type} as event_type, {occurred_at} as occurred_at from slots
        )
        select
            {event_id_sql(f"'{SOURCE_SYSTEM}'", "entity_id", "event_type", id_key)} as event_id,
            '{STREAM}' as stream, event_type, entity_id, occurred_at, '{SOURCE_SYSTEM}' as source_system,
            {payload} as payload,
            case when k = {snapshot_slot} then state_hash end as state_hash,
            _lineage as source_file, _line as source_line
        from proposed
        where occurred_at is not null  -- a lifecycle step the order has not reached yet
    """


def problems_sql(source: str, present: set[str], source_file: str) -> str:
    """The records of ``source`` that cannot be read, as quarantine rows (personal data redacted)."""
    return f"""
        with {_checked_sql(source, present, source_file)}
        select _lineage as source_file, _line as source_line, problem as reason,
               redact_text(concat_ws(' | ', order_id, received_at, title, description), caller_name) as raw
        from checked
        where problem is not null
    """


def stream_csv(
    con: duckdb.DuckDBPyConnection, paths: list[Path], view: str, batch: OpenBatch, workdir: Path
) -> tuple[int, list[Path]]:
    """Translate 12345 CSV exports into the batch's events, written in their committed form to Parquet
    files in the batch's staging folder (one per header the files have); unreadable records go to
    ``quarantine``. Files with one header are read in one scan, so many small daily files cost about
    what one file of their records does.

    Returns the records read and the staged files. Memory stays flat whatever the files' size: every
    step streams. The scratch files hold clear text and live in ``workdir``, outside $GRIDLINE_HOME.
    """
    records, staged = 0, []
    for number, group in enumerate(reading.group_csv_files(paths, workdir)):
        name = f"{view}_{number}"
        numbered = reading.number_csv_records(con, group, name, workdir)
        present = set(group.header)
        part = batch.stage / f"{name}.parquet"
        candidates = candidates_sql(numbered.scan, present, numbered.source_file)
        con.execute("set preserve_insertion_order = false")
        try:
            committed = batch.committed_form_sql(candidates)
            con.execute(f"copy ({committed}) to '{reading.sql_path(part)}' ({BATCH_FILE_OPTIONS})")
        finally:
            con.execute("reset preserve_insertion_order")
        read = con.sql(f"select count(*) from {numbered.scan}").fetchall()[0][0]
        # Every readable record yields exactly one snapshot (the only events with a state digest); only
        # when some record yielded none is the scratch file read again for the reasons.
        readable = con.sql(
            f"select count(state_hash) from read_parquet('{reading.sql_path(part)}')"
        ).fetchall()[0][0]
        if readable < read:
            con.execute(
                f"insert into quarantine by name {problems_sql(numbered.scan, present, numbered.source_file)}"
            )
        for scratch_file in numbered.files:
            scratch_file.unlink()
        records += read
        staged.append(part)
    return records, staged


def load(con: duckdb.DuckDBPyConnection, view: str, source_file: str) -> int:
    """Turn the rows of ``view`` (a registered workbook or CSV) into candidate events and quarantine rows."""
    present = set(columns_of(con, view))
    lineage = "'" + source_file.replace("'", "''") + "'"
    con.execute(f"insert into quarantine by name {problems_sql(view, present, lineage)}")
    con.execute(f"insert into candidate_events {candidates_sql(view, present, lineage)}")
    return con.sql(f"select count(*) from {view}").fetchall()[0][0]
