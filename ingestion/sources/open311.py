"""Open311 GeoReport v2 requests (SPEC 2.2): from ``requests.json`` files and pulled from an endpoint.

Reading: a response is a JSON array of requests. Each request is a snapshot of a case (``case.received``
at ``requested_datetime``, ``case.dispatched`` at its first follow-on work order, ``case.resolved`` at its
``closed`` note, a ``case.updated`` snapshot at ``updated_datetime``), and every entry of its ``notes[]``
status history (Chicago's extension) becomes a ``case.noted`` event. Chicago's ``extended_attributes``
and ``attributes`` are kept in the state's ``extra``. The source name (``chicago311``) namespaces ids.

Pulling: :func:`pull` asks an endpoint for the requests updated in a window, page by page, retrying
transient failures with exponential backoff. Each page is spooled under ``$GRIDLINE_HOME`` and a cursor
records the window and the next page, so a pull that fails part-way resumes where it stopped; once every
page is in, they are ingested as one batch and the cursor moves to the window's end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.events import event_id_sql
from ingestion.log import BatchResult
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


# -- pulling --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PullOptions:
    """How to talk to an endpoint; the defaults suit Chicago's GeoReport v2 with its extensions."""

    page_size: int = 500
    attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 30.0
    since_param: str = "updated_after"
    until_param: str = "updated_before"
    max_pages: int = 10_000


class _Transient(Exception):
    """A failure worth retrying: the server was busy or the connection broke."""


def _fetch_page(client: httpx.Client, url: str, params: dict, options: PullOptions) -> list:
    def attempt() -> list:
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (429, 500, 502, 503, 504):
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise GridlineError(f"{url}: HTTP {response.status_code} for page {params.get('page')}")
        try:
            body = response.json()
        except ValueError:
            raise GridlineError(f"{url}: page {params.get('page')} is not JSON") from None
        if not isinstance(body, list):
            raise GridlineError(f"{url}: page {params.get('page')} is not a JSON array of requests")
        return body

    retrying = Retrying(
        stop=stop_after_attempt(options.attempts),
        wait=wait_exponential(multiplier=options.backoff_seconds, max=options.max_backoff_seconds),
        retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Transient as exc:
        raise GridlineError(
            f"{url}: page {params.get('page')} failed {options.attempts} times ({exc}); "
            "the pages fetched so far are kept, and the next pull of this window resumes there"
        ) from None


def _iso(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise GridlineError(f"Open311 window bounds need a time zone: {instant.isoformat()}")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cursor:
    """Where a source's pulls stand, kept in ``$GRIDLINE_HOME/open311/<source>/cursor.json``."""

    def __init__(self, settings: Settings, source: str):
        self.root = settings.home / "open311" / check_source_name(source)
        self.path = self.root / "cursor.json"
        self.spool = self.root / "spool"

    def read(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def write(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=2))
        os.replace(partial, self.path)

    def last_until(self) -> datetime | None:
        value = self.read().get("last_until")
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _write_page(spool: Path, page: int, url: str, body: list) -> None:
    spool.mkdir(parents=True, exist_ok=True)
    target = spool / f"page-{page:05d}.json"
    partial = spool / f".page-{page:05d}.partial"
    # Pages hold clear text from the endpoint until they are ingested: owner-only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, ensure_ascii=False)
    target.with_suffix(".url").write_text(url, encoding="utf-8")
    os.replace(partial, target)


def pull(
    settings: Settings,
    endpoint_url: str,
    source_name: str,
    start: datetime | None,
    end: datetime | None = None,
    stream: str | None = None,
    options: PullOptions | None = None,
) -> BatchResult:
    """Pull the requests updated in [start, end) into the log as one batch.

    ``start`` defaults to where the previous pull of this source ended; ``end`` to now. A window whose
    pages were partly fetched by a failed pull resumes at the first missing page.
    """
    from ingestion.ingest import IngestRequest, ingest

    options = options or PullOptions()
    cursor = Cursor(settings, source_name)
    start = start or cursor.last_until()
    if start is None:
        raise GridlineError(f"no earlier pull of {source_name}: give the start of the window (--since)")
    end = end or datetime.now(UTC)
    window = [_iso(start), _iso(end)]
    if window[0] >= window[1]:
        raise GridlineError(f"empty Open311 window: {window[0]} is not before {window[1]}")
    state = cursor.read()
    pending = state.get("pending") or {}
    if pending.get("window") == window and pending.get("endpoint") == endpoint_url:
        page = pending["next_page"]
    else:
        shutil.rmtree(cursor.spool, ignore_errors=True)
        page = 1
        pending = {"endpoint": endpoint_url, "window": window, "next_page": 1, "complete": False}
    with httpx.Client(timeout=options.timeout_seconds, follow_redirects=True) as client:
        while not pending["complete"]:
            if page > options.max_pages:
                raise GridlineError(f"{endpoint_url}: more than {options.max_pages} pages; narrow the window")
            params = {
                options.since_param: window[0],
                options.until_param: window[1],
                "page": page,
                "page_size": options.page_size,
                "extensions": "true",
            }
            body = _fetch_page(client, endpoint_url, params, options)
            _write_page(cursor.spool, page, str(httpx.URL(endpoint_url, params=params)), body)
            page += 1
            pending.update(next_page=page, complete=len(body) < options.page_size)
            cursor.write({**state, "pending": pending})
    pages = sorted(cursor.spool.glob("page-*.json"))
    nonempty = [p for p in pages if p.stat().st_size > 2]
    if nonempty:
        result = ingest(
            IngestRequest(paths=nonempty, stream=stream, format="open311", source=source_name), settings
        )
    else:
        result = BatchResult(batch_id=None, rows_read=0, appended=0, already_known=0, quarantined=0)
    # Committed (or nothing to commit): the window is done. A crash before this line re-ingests the
    # spooled pages on the next pull, which adds nothing new.
    cursor.write({"last_until": window[1], "endpoint": endpoint_url, "pending": None})
    shutil.rmtree(cursor.spool, ignore_errors=True)
    return result
