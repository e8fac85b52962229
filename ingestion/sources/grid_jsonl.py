"""Grid workers' app submissions (SPEC 2.4): JSON Lines, one submission per line, as ``grid.submitted``.

Lines are read as plain text first and parsed in DuckDB, so a line that is not JSON, not an object, has
no id or an unreadable time becomes a quarantine record with its line number instead of failing the
file. A submission is a fact that happened once: re-sent lines get the same event id and add nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from gridline.errors import GridlineError
from ingestion.events import event_id_sql
from ingestion.sources import reading
from ingestion.sources.case_events import iso_utc

SOURCE_SYSTEM = "grid-app"
STREAM = "grid"
KINDS = ("visit", "issue", "dispute", "service", "info")
STATUSES = ("reported", "in_progress", "resolved", "escalated")
TEXT_KEYS = (
    "submission_id",
    "worker_id",
    "grid_code",
    "submitted_at",
    "kind",
    "category_path",
    "description",
    "address",
    "lat",
    "lon",
    "status",
    "resolved_on_site",
    "related_submission_id",
    "order_id",
    "resident_phone",
    "photos",
)


def matches_line(first_line: str) -> bool:
    """Whether the first non-blank line of a file looks like a grid-app submission."""
    text = first_line.strip()
    return text.startswith("{") and '"submission_id"' in text


def register_lines(con: duckdb.DuckDBPyConnection, path: Path, view: str, workdir: Path) -> None:
    """Register ``view`` with one row per non-blank line: ``_line`` (1-based) and its text ``line``."""
    if not path.exists():
        raise GridlineError(f"{path}: no such file")
    encoding = reading.detect_encoding(path)
    readable = path if encoding == "utf-8" else reading._transcode_to_utf8(path, encoding, workdir)
    literal = str(readable).replace("'", "''")
    # One column, no quoting: every physical line is one value. A byte 0x01 would split a line, but it
    # cannot occur unescaped in valid JSON, so such a line is quarantined as invalid either way.
    con.execute(
        f"""create or replace temp table {view}_raw as
            select row_number() over () as _line, line
            from read_csv('{literal}', columns = {{'line': 'VARCHAR'}}, header = false, auto_detect = false,
                          delim = chr(1), quote = '', escape = '', strict_mode = false)"""
    )
    # A UTF-8 byte-order mark is not JSON; take it off the first line.
    con.execute(
        f"""create or replace temp view {view} as
            select _line, ltrim(line, chr(65279)) as line
            from {view}_raw where nullif(trim(line), '') is not null"""
    )


def load(con: duckdb.DuckDBPyConnection, view: str, source_file: str) -> int:
    """Turn the lines of ``view`` (see :func:`register_lines`) into candidate events and quarantine rows."""
    paths = ", ".join(f"'$.{key}'" for key in TEXT_KEYS)
    extracted = ", ".join(f"nullif(trim(vals[{i}]), '') as {key}" for i, key in enumerate(TEXT_KEYS, start=1))
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    # Each line is parsed once (one list of every field), in a materialised step: referring to a JSON
    # expression field by field would have DuckDB parse the line again for each field.
    con.execute(
        f"""
        create or replace temp table {view}_checked as
        with typed as materialized (
            select _line, line, case when json_valid(line) then json_type(line) else 'INVALID' end as doc_type
            from {view}
        ),
        docs as materialized (
            select _line, line, doc_type,
                   case when doc_type = 'OBJECT' then json_extract_string(line, [{paths}]) end as vals
            from typed
        ),
        fields as (
            select _line, line, doc_type, {extracted} from docs
        )
        select * exclude (line, doc_type), try_cast(submitted_at as timestamptz) as submitted_at_utc,
            case when doc_type = 'INVALID' then 'invalid JSON'
                 when doc_type <> 'OBJECT' then 'not a JSON object (' || lower(doc_type) || ')'
                 when submission_id is null then 'missing submission_id'
                 when submitted_at is null then 'missing submitted_at'
                 when try_cast(submitted_at as timestamptz) is null
                      then 'unreadable submitted_at: ' || submitted_at
                 when kind is null or kind not in ({kinds})
                      then 'unknown kind: ' || coalesce(kind, '(none)')
                 when status is not null and status not in ({statuses}) then 'unknown status: ' || status
            end as problem,
            -- the line itself is kept only where it is needed: for the quarantine record
            case when problem is not null then redact_personal(left(line, 2000)) end as raw
        from fields
        """
    )
    file_literal = source_file.replace("'", "''")
    con.execute(
        f"""insert into quarantine
            select '{file_literal}', _line, problem, raw from {view}_checked where problem is not null"""
    )
    payload = """json_object(
        'submission_id', submission_id, 'worker_key', pii_hash(worker_id), 'grid_code', grid_code,
        'kind', kind, 'category_path', category_path, 'description', redact_personal(description),
        'address', redact_phones(address), 'lat', try_cast(lat as double), 'lon', try_cast(lon as double),
        'status', status, 'resolved_on_site', try_cast(resolved_on_site as boolean),
        'related_submission_id', related_submission_id, 'order_id', order_id,
        'resident_key', phone_hash(resident_phone), 'photos', try_cast(photos as integer))"""
    entity = f"'{STREAM}:' || submission_id"
    event_id = event_id_sql(f"'{SOURCE_SYSTEM}'", entity, "'grid.submitted'", iso_utc("submitted_at_utc"))
    con.execute(
        f"""insert into candidate_events
            select {event_id},
                   '{STREAM}', 'grid.submitted', {entity}, submitted_at_utc, '{SOURCE_SYSTEM}', {payload},
                   null, '{file_literal}', _line
            from {view}_checked where problem is null"""
    )
    return con.sql(f"select count(*) from {view}_checked").fetchall()[0][0]
