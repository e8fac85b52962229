"""The shape of an event and of a quarantine record, shared by every source adapter.

Adapters fill two temporary DuckDB tables, ``candidate_events`` and ``quarantine``, created here; the log
then decides which candidates are new. An event id is a digest of the source fact (source system, entity,
event type, when it happened and what it says), so the same fact read twice gets the same id.
"""

from __future__ import annotations

import duckdb

STREAMS = ("hotline", "grid", "volunteer")

# Columns of an event as an adapter proposes it; the log adds recorded_at and batch_id on commit.
CANDIDATE_COLUMNS = """
    event_id      varchar not null,
    stream        varchar not null,
    event_type    varchar not null,
    entity_id     varchar not null,
    occurred_at   timestamptz not null,
    source_system varchar not null,
    payload       json,
    state_hash    varchar,
    source_file   varchar,
    source_line   bigint
"""

QUARANTINE_COLUMNS = """
    source_file   varchar not null,
    source_line   bigint,
    reason        varchar not null,
    raw           varchar
"""

# How event files (batches, and the scans' scratch files) are written. Payloads and ids are nearly all
# distinct, so the writer's attempts at dictionary encoding cost time for nothing (measured: a fifth of
# the write); zstd at its fastest level compresses the JSON as well as its default level does.
# A row group is capped by bytes as well as rows: each writing thread holds one in memory, and a group of
# snapshot payloads at the default 122,880 rows takes a large part of the ingest's memory ceiling.
BATCH_FILE_OPTIONS = (
    "format parquet, compression zstd, compression_level 1, dictionary_size_limit 0, "
    "row_group_size_bytes '48MB'"
)

# The committed event: what `log.events` shows and what dbt reads.
EVENT_COLUMNS = (
    "event_id, stream, event_type, entity_id, occurred_at, recorded_at, source_system, batch_id, "
    "payload, state_hash, source_file, source_line"
)


def install_event_key(con: duckdb.DuckDBPyConnection) -> None:
    """The SQL macros ``event_key(text)`` and ``entity_key(text)``. ``event_key``: an event id (or a
    snapshot's state digest), 32 hex characters, as the 128-bit number it spells. The log's state keeps
    ids in this form: half the bytes of the text, several times cheaper to write, and ordered as the text
    is."""
    con.execute("create or replace temp macro event_key(hex) as ('0x' || hex)::uhugeint")
    # An entity id as a 64-bit number (the upper half of its MD5, stable across DuckDB versions, unlike
    # hash()): the state finds an entity's snapshots by it, scanning 8 bytes a row instead of the text.
    # Two entities may share one; the comparison partitions by the id itself, so a shared key only
    # brings another entity's snapshots along, never mixes them.
    con.execute("create or replace temp macro entity_key(id) as (md5_number(id) >> 64)::ubigint")


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    install_event_key(con)
    con.execute(f"create or replace temp table candidate_events ({CANDIDATE_COLUMNS})")
    con.execute(f"create or replace temp table quarantine ({QUARANTINE_COLUMNS})")


def event_id_sql(*parts: str) -> str:
    """SQL for a deterministic event id over the given SQL expressions (nulls count as empty).

    The id is the MD5 of the parts joined by the unit separator: 128 bits, 32 hex characters. It names a
    fact so that duplicates collide; it guards no secret (personal data is HMAC-SHA256'd before it gets
    here), and MD5 is several times cheaper than SHA-256 in DuckDB, which matters at millions of events.
    Pass timestamps as text in UTC (not as timestamptz, whose text form follows the session time zone).
    """
    joined = ", ".join(f"coalesce(cast({part} as varchar), '')" for part in parts)
    return f"md5(concat_ws(chr(31), {joined}))"
