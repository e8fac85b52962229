"""The 12345 hotline work-order export (SPEC 2.1): a snapshot of each order, re-exported on every change.

Each row becomes lifecycle events (one per filled timestamp column, plus a reopening when the reopen
count rises) and a ``case.updated`` snapshot event carrying the order's whole pseudonymised state. The log
keeps a snapshot only when the state differs from the order's last known one, so re-sent and overlapping
exports add only what changed.
"""

from __future__ import annotations

import duckdb

from ingestion.events import event_id_sql
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

# Timestamp column -> the lifecycle event it marks.
LIFECYCLE = {
    "received_at": "case.received",
    "dispatched_at": "case.dispatched",
    "accepted_at": "case.accepted",
    "first_contact_at": "case.contacted",
    "escalated_at": "case.escalated",
    "resolved_at": "case.resolved",
    "rated_at": "case.rated",
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


def matches(columns: list[str]) -> bool:
    return all(h in columns for h in REQUIRED_HEADERS)


def load(con: duckdb.DuckDBPyConnection, view: str, source_file: str) -> int:
    """Turn the rows of ``view`` into candidate events and quarantine rows; returns rows read."""
    present = set(columns_of(con, view))
    selected = ",\n".join(
        f"nullif(trim(\"{zh}\"), '') as {en}" if zh in present else f"null::varchar as {en}"
        for zh, en in HEADERS.items()
    )
    con.execute(f"create or replace temp view {view}_orders as select _line, {selected} from {view}")
    ts_columns = [*LIFECYCLE, "updated_at"]
    parsed = ", ".join(f"local_ts({c}) as {c}_utc" for c in ts_columns)
    bad_ts = " ".join(
        f"when {c} is not null and local_ts({c}) is null then 'unreadable timestamp in {c}: ' || {c}"
        for c in ts_columns
    )
    con.execute(
        f"""
        create or replace temp table {view}_checked as
        select *, {parsed},
            case when order_id is null then 'missing 工单编号 (order id)'
                 when received_at is null then 'missing 来电时间 (received time)'
                 {bad_ts}
                 when reopen_count is not null and try_cast(reopen_count as integer) is null
                      then 'unreadable 重办次数: ' || reopen_count
            end as problem
        from {view}_orders
        """
    )
    file_literal = source_file.replace("'", "''")
    con.execute(
        f"""insert into quarantine
            select '{file_literal}', _line, problem,
                   redact_phones(concat_ws(' | ', order_id, received_at, title, description))
            from {view}_checked where problem is not null"""
    )
    state_fields = ", ".join(f"'{c}', {c}" for c in TEXT_STATE)
    ts_fields = ", ".join(f"'{c}', strftime({c}_utc, '%Y-%m-%dT%H:%M:%SZ')" for c in LIFECYCLE)
    con.execute(
        f"""
        create or replace temp table {view}_state as
        select _line, '{SOURCE_SYSTEM}:' || order_id as entity_id, updated_at_utc, received_at_utc,
               coalesce(try_cast(reopen_count as integer), 0) as reopen_count,
               {", ".join(f"{c}_utc" for c in LIFECYCLE)}, resolution, satisfaction, handling_unit,
               json_object(
                   'order_id', order_id, {state_fields}, {ts_fields},
                   'reopen_count', coalesce(try_cast(reopen_count as integer), 0),
                   'title', redact_text(title, caller_name),
                   'description', redact_text(description, caller_name),
                   'address', redact_phones(address),
                   'caller_key', phone_hash(caller_phone),
                   'caller_name_key', pii_hash(caller_name)
               ) as state
        from {view}_checked where problem is null
        """
    )
    parts = []
    for column, event_type in LIFECYCLE.items():
        payload = {
            "case.received": "state",
            "case.dispatched": "json_object('handling_unit', handling_unit)",
            "case.resolved": "json_object('resolution', resolution)",
            "case.rated": "json_object('satisfaction', satisfaction)",
        }.get(event_type, "json_object()")
        parts.append(
            f"""select {event_id_sql(f"'{SOURCE_SYSTEM}'", "entity_id", f"'{event_type}'", f"{column}_utc")},
                       '{STREAM}', '{event_type}', entity_id, {column}_utc,
                       '{SOURCE_SYSTEM}', {payload}, null, '{file_literal}', _line
                from {view}_state where {column}_utc is not null"""
        )
    # A reopening is identified by how many reopenings the order has had, not by when it was exported.
    parts.append(
        f"""select {event_id_sql(f"'{SOURCE_SYSTEM}'", "entity_id", "'case.reopened'", "n")},
                   '{STREAM}', 'case.reopened', entity_id,
                   coalesce(updated_at_utc, received_at_utc), '{SOURCE_SYSTEM}',
                   json_object('reopen_count', n), null, '{file_literal}', _line
            from (select *, unnest(range(1, reopen_count + 1)) as n
                  from {view}_state where reopen_count > 0)"""
    )
    snapshot_hash = "left(sha256(state::varchar), 32)"
    snapshot_id = event_id_sql(
        f"'{SOURCE_SYSTEM}'", "entity_id", "'case.updated'", "updated_at_utc", snapshot_hash
    )
    parts.append(
        f"""select {snapshot_id},
                   '{STREAM}', 'case.updated', entity_id, coalesce(updated_at_utc, received_at_utc),
                   '{SOURCE_SYSTEM}', state, {snapshot_hash}, '{file_literal}', _line
            from {view}_state"""
    )
    con.execute("insert into candidate_events " + "\nunion all\n".join(parts))
    return con.sql(f"select count(*) from {view}_orders").fetchall()[0][0]
