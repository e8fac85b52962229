"""Open311 GeoReport v2 ``requests.json`` files (SPEC 2.2), read into candidate events.

A response is a JSON array of requests. Each request is a snapshot of a case (``case.received``
at ``requested_datetime``, ``case.dispatched`` at its first follow-on work order, ``case.resolved`` at its
``closed`` note, a ``case.updated`` snapshot at ``updated_datetime``), and every entry of its ``notes[]``
status history (Chicago's extension) becomes a ``case.noted`` event. Chicago's ``extended_attributes``
and ``attributes`` are kept in the state's ``extra``. The source name (``chicago311``) namespaces ids.

Pulling from an endpoint is ``ingestion/open311_pull.py``, which sits above ``ingest``: it spools pages
and ingests them as files, which this module reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from gridline.errors import GridlineError
from ingestion.events import event_id_sql
from ingestion.sources import case_events

STREAM = "hotline"
DEFAULT_SOURCE = "open311"
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")

# Fields read from each request; anything else in a record is ignored.
REQUEST_COLUMNS = {
    "service_request_id": "VARCHAR",
    "status": "VARCHAR",
    "status_notes": "VARCHAR",
    "service_name": "VARCHAR",
    "service_code": "VARCHAR",
    "description": "VARCHAR",
    "agency_responsible": "VARCHAR",
    "requested_datetime": "VARCHAR",
    "updated_datetime": "VARCHAR",
    "address": "VARCHAR",
    "lat": "VARCHAR",
    "long": "VARCHAR",
    "attributes": "JSON",
    "extended_attributes": "JSON",
    "notes": "JSON",
}
# GeoReport statuses onto the 12345 ladder.
STATUS_MAP = {"open": "办理中", "closed": "已办结"}


def check_source_name(name: str) -> str:
    if not SOURCE_NAME.match(name or ""):
        raise GridlineError(f"bad Open311 source name {name!r}: use lower-case letters, digits, - or _")
    return name


def matches_text(head: str) -> bool:
    """Whether the start of a file looks like a GeoReport ``requests.json`` array."""
    return head.lstrip().startswith("[") and '"service_request_id"' in head


# -- reading --------------------------------------------------------------------------------------
def register_file(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> None:
    """Register ``view`` with one row per request of a ``requests.json`` file, ``_line`` its position."""
    if not path.exists():
        raise GridlineError(f"{path}: no such file")
    columns = ", ".join(f"'{k}': '{v}'" for k, v in REQUEST_COLUMNS.items())
    literal = str(path).replace("'", "''")
    try:
        con.execute(
            f"""create or replace temp table {view} as
                select row_number() over () as _line, *
                from read_json('{literal}', format = 'array', columns = {{{columns}}},
                               maximum_object_size = 67108864)"""
        )
    except duckdb.Error as exc:
        raise GridlineError(f"{path}: not a GeoReport requests array ({str(exc).splitlines()[0]})") from None


def load(
    con: duckdb.DuckDBPyConnection, view: str, source_file: str, source: str, stream: str | None = None
) -> int:
    """Turn the requests of ``view`` into candidate events and quarantine rows; returns requests read."""
    check_source_name(source)
    if stream not in (None, STREAM, "grid"):
        raise GridlineError(f"Open311 requests belong to the hotline (or grid) stream, not {stream}")
    stream_literal = f"'{stream or STREAM}'"
    file_literal = "'" + source_file.replace("'", "''") + "'"
    status_case = " ".join(f"when '{raw}' then '{mapped}'" for raw, mapped in STATUS_MAP.items())
    con.execute(
        f"""
        create or replace temp table {view}_notes as
        select _line, n.note_index, n.note->>'type' as note_type, n.note->>'summary' as summary,
               n.note->>'description' as note_description,
               n.note->'extended_attributes'->>'service_request_id' as follow_on_id,
               n.note->'extended_attributes'->>'agency_responsible' as follow_on_agency,
               try_cast(n.note->>'datetime' as timestamptz) as noted_at
        from (select _line, unnest(cast(notes as json[])) as note,
                     generate_subscripts(cast(notes as json[]), 1) as note_index
              from {view} where json_type(notes) = 'ARRAY') as n
        """
    )
    con.execute(
        f"""
        create or replace temp table {view}_checked as
        with firsts as (
            select _line,
                   min(noted_at) filter (where note_type = 'follow_on_created') as dispatched_at_utc,
                   arg_min(follow_on_agency, noted_at) filter (where note_type = 'follow_on_created')
                       as first_follow_on_agency,
                   max(noted_at) filter (where note_type = 'closed') as closed_at_utc
            from {view}_notes group by _line
        )
        select r.*, f.dispatched_at_utc, f.closed_at_utc,
               try_cast(r.requested_datetime as timestamptz) as received_at_utc,
               try_cast(r.updated_datetime as timestamptz) as updated_at_utc,
               case when nullif(trim(r.service_request_id), '') is null then 'missing service_request_id'
                    when r.requested_datetime is null then 'missing requested_datetime'
                    when try_cast(r.requested_datetime as timestamptz) is null
                         then 'unreadable requested_datetime: ' || r.requested_datetime
                    when r.updated_datetime is not null
                         and try_cast(r.updated_datetime as timestamptz) is null
                         then 'unreadable updated_datetime: ' || r.updated_datetime
               end as problem
        from {view} r left join firsts f using (_line)
        """
    )
    con.execute(
        f"""insert into quarantine
            select {file_literal}, _line, problem,
                   redact_phones(concat_ws(' | ', service_request_id, requested_datetime, service_name,
                                           address))
            from {view}_checked where problem is not null"""
    )
    prefix = f"'{source}:'"
    con.execute(
        f"""
        create or replace temp table {view}_cases as
        select _line, {prefix} || trim(service_request_id) as entity_id, {stream_literal} as stream,
               trim(service_request_id) as order_id, extended_attributes->>'channel' as channel,
               null::varchar as appeal_type, service_name as category_path, null::varchar as title,
               redact_personal(description) as description, redact_phones(address) as address,
               null::varchar as district, null::varchar as street, null::varchar as community,
               null::varchar as grid_code, agency_responsible as handling_unit,
               case lower(status) {status_case} end as status, status as status_raw,
               status_notes as resolution, null::varchar as satisfaction, 0 as reopen_count,
               null::varchar as caller_key, null::varchar as caller_name_key,
               try_cast(lat as double) as lat, try_cast(long as double) as lon,
               received_at_utc, dispatched_at_utc, null::timestamptz as accepted_at_utc,
               null::timestamptz as first_contact_at_utc, null::timestamptz as escalated_at_utc,
               case when lower(status) = 'closed' then coalesce(closed_at_utc, updated_at_utc) end
                   as resolved_at_utc,
               null::timestamptz as rated_at_utc, updated_at_utc,
               false as is_duplicate, null::varchar as duplicate_of,
               json_object('service_code', service_code, 'attributes', attributes,
                           'extended_attributes', extended_attributes) as extra
        from {view}_checked where problem is null
        """
    )
    case_events.emit(con, f"{view}_cases", source, file_literal)
    entity = f"{prefix} || trim(c.service_request_id)"
    note_id = event_id_sql(
        f"'{source}'",
        entity,
        "'case.noted'",
        case_events.iso_utc("n.noted_at"),
        "n.note_type",
        "n.summary",
        "n.follow_on_id",
    )
    con.execute(
        f"""insert into candidate_events
            select {note_id}, {stream_literal}, 'case.noted', {entity}, n.noted_at, '{source}',
                   json_object('note_type', n.note_type, 'summary', redact_phones(n.summary),
                               'description', redact_phones(n.note_description),
                               'follow_on_id', n.follow_on_id, 'handling_unit', n.follow_on_agency),
                   null, {file_literal}, c._line
            from {view}_notes n join {view}_checked c using (_line)
            where c.problem is null and n.noted_at is not null"""
    )
    return con.sql(f"select count(*) from {view}").fetchall()[0][0]


def lineage_label(path: Path) -> str:
    """The endpoint URL a spooled page came from (kept beside it), else the file itself."""
    label = path.with_suffix(".url")
    return label.read_text(encoding="utf-8").strip() if label.exists() else str(path)
