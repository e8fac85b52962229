"""The dual report-in (双报到) volunteer log (SPEC 2.5): CSV or XLSX, one row per service session.

A session becomes ``volunteer.checked_in`` at its check-in time and, once it has one,
``volunteer.checked_out`` at its check-out time. A later export that adds the check-out to a session seen
before adds only the check-out event. Files are read by ``reading`` (encoding detection, XLSX, record
numbers); rows without an id or with unreadable times are quarantined.
"""

from __future__ import annotations

import duckdb

from gridline.errors import GridlineError
from ingestion.events import event_id_sql
from ingestion.sources.case_events import iso_utc
from ingestion.sources.reading import columns_of

SOURCE_SYSTEM = "volunteer"
STREAM = "volunteer"

HEADERS = {
    "记录编号": "record_id",
    "报到单位": "unit_name",
    "单位类型": "unit_type",
    "党员编号": "member_id",
    "姓名": "member_name",
    "报到社区": "community",
    "所属街道": "street",
    "所属区县": "district",
    "活动类型": "activity",
    "签到时间": "checked_in_at",
    "签退时间": "checked_out_at",
    "服务时长": "hours",
    "关联工单": "order_id",
    "备注": "note",
}
REQUIRED_HEADERS = ("记录编号", "签到时间", "报到社区")


def matches(columns: list[str]) -> bool:
    return all(h in columns for h in REQUIRED_HEADERS)


def load(con: duckdb.DuckDBPyConnection, view: str, source_file: str) -> int:
    """Turn the rows of ``view`` into candidate events and quarantine rows; returns rows read."""
    present = set(columns_of(con, view))
    missing = [h for h in REQUIRED_HEADERS if h not in present]
    if missing:
        raise GridlineError(f"{source_file}: not a volunteer log (no {', '.join(missing)} column)")
    selected = ",\n".join(
        f"nullif(trim(\"{zh}\"), '') as {en}" if zh in present else f"null::varchar as {en}"
        for zh, en in HEADERS.items()
    )
    con.execute(f"create or replace temp view {view}_sessions as select _line, {selected} from {view}")
    con.execute(
        f"""
        create or replace temp table {view}_checked as
        select *, local_ts(checked_in_at) as checked_in_utc, local_ts(checked_out_at) as checked_out_utc,
            case when record_id is null then 'missing 记录编号 (record id)'
                 when checked_in_at is null then 'missing 签到时间 (check-in time)'
                 when local_ts(checked_in_at) is null
                      then 'unreadable timestamp in 签到时间: ' || checked_in_at
                 when checked_out_at is not null and local_ts(checked_out_at) is null
                      then 'unreadable timestamp in 签退时间: ' || checked_out_at
                 when hours is not null and try_cast(hours as double) is null
                      then 'unreadable 服务时长: ' || hours
            end as problem
        from {view}_sessions
        """
    )
    file_literal = source_file.replace("'", "''")
    con.execute(
        f"""insert into quarantine
            select '{file_literal}', _line, problem,
                   redact_text(concat_ws(' | ', record_id, unit_name, community, checked_in_at,
                                         checked_out_at, note), member_name)
            from {view}_checked where problem is not null"""
    )
    payload = f"""json_object(
        'record_id', record_id, 'unit_name', unit_name, 'unit_type', unit_type,
        'member_key', pii_hash(member_id), 'member_name_key', pii_hash(member_name),
        'community', community, 'street', street, 'district', district, 'activity', activity,
        'hours', try_cast(hours as double), 'order_id', order_id, 'note', redact_text(note, member_name),
        'checked_in_at', {iso_utc("checked_in_utc")}, 'checked_out_at', {iso_utc("checked_out_utc")})"""
    entity = f"'{STREAM}:' || record_id"
    checked_in, checked_out = iso_utc("checked_in_utc"), iso_utc("checked_out_utc")
    con.execute(
        f"""insert into candidate_events
            select {event_id_sql(f"'{SOURCE_SYSTEM}'", entity, "'volunteer.checked_in'", checked_in)},
                   '{STREAM}', 'volunteer.checked_in', {entity}, checked_in_utc, '{SOURCE_SYSTEM}', {payload},
                   null, '{file_literal}', _line
            from {view}_checked where problem is null
            union all
            select {event_id_sql(f"'{SOURCE_SYSTEM}'", entity, "'volunteer.checked_out'", checked_out)},
                   '{STREAM}', 'volunteer.checked_out', {entity}, checked_out_utc, '{SOURCE_SYSTEM}',
                   json_object('hours', try_cast(hours as double)), null, '{file_literal}', _line
            from {view}_checked where problem is null and checked_out_utc is not null"""
    )
    return con.sql(f"select count(*) from {view}_sessions").fetchall()[0][0]
