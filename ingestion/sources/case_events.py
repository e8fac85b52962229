"""Case events from a table of normalised case rows: shared by the Open311 and mapping adapters.

An adapter first brings its rows to one shape (the temp table described by ``CASE_ROW_COLUMNS``: text
fields already redacted, timestamps already UTC), then calls :func:`emit` here, which writes the
lifecycle events, the duplicate closures and the ``case.updated`` snapshot of each row into
``candidate_events`` exactly as docs/events.md describes. Keeping this in one place means every mapped
city and every Open311 endpoint produce the same events the dbt models expect.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from ingestion.events import event_id_sql

# Timestamp field -> the lifecycle event it marks (the same ladder as the 12345 adapter).
LIFECYCLE = {
    "received_at": "case.received",
    "dispatched_at": "case.dispatched",
    "accepted_at": "case.accepted",
    "first_contact_at": "case.contacted",
    "escalated_at": "case.escalated",
    "resolved_at": "case.resolved",
    "rated_at": "case.rated",
}

# Text fields of a case's state, in the order of the contract.
TEXT_FIELDS = (
    "order_id",
    "channel",
    "appeal_type",
    "category_path",
    "title",
    "description",
    "address",
    "district",
    "street",
    "community",
    "grid_code",
    "handling_unit",
    "status",
    "status_raw",
    "resolution",
    "satisfaction",
)

# What an adapter's normalised table must hold (besides _line); documented here, built by each adapter.
CASE_ROW_COLUMNS = (
    "_line, entity_id, stream, <TEXT_FIELDS> (varchar), caller_key, caller_name_key, lat, lon (double), "
    "reopen_count (integer), <LIFECYCLE>_utc and updated_at_utc (timestamptz), is_duplicate (boolean), "
    "duplicate_of (varchar entity id), extra (json or null)"
)


def state_hash_sql(state: str) -> str:
    """The digest of a snapshot's state (SQL over the ``json`` expression ``state``): equal states, and
    only they, share it, which is how the log drops a snapshot that repeats its predecessor."""
    return f"left(sha256({state}::varchar), 32)"


def iso_utc(column: str) -> str:
    """A timestamptz as ISO UTC text that does not depend on the connection's TimeZone (for ids, payloads)."""
    # epoch_us is the instant itself, so the text needs no time-zone rules (ICU is slow per value).
    return f"strftime(make_timestamp(epoch_us({column})), '%Y-%m-%dT%H:%M:%SZ')"


# What each lifecycle event carries besides its time; the state itself travels once, on the snapshot.
LIFECYCLE_PAYLOADS = {
    "case.dispatched": "json_object('handling_unit', handling_unit)",
    "case.resolved": "json_object('resolution', resolution)",
    "case.rated": "json_object('satisfaction', satisfaction)",
}
EMPTY_PAYLOAD = "json_object()"


def _utc_text(field: str) -> str:
    return iso_utc(f"{field}_utc")


def state_json_sql(
    snapshot_times: list[str] | tuple[str, ...] = (), stamp: Callable[[str], str] = _utc_text
) -> str:
    """The ``json_object`` of a case's whole state over a normalised row.

    ``snapshot_times`` (e.g. ``due_at``) are added only when a source has them, so the state, and with it
    the snapshot's id, of sources without them stays what it was. ``stamp`` gives a timestamp field's
    ISO UTC text (by default from its ``<field>_utc`` column; a scan that has the text already passes it).
    """
    text = ", ".join(f"'{c}', {c}" for c in TEXT_FIELDS)
    stamps = ", ".join(f"'{c}', {stamp(c)}" for c in (*LIFECYCLE, *snapshot_times))
    return (
        f"json_object({text}, {stamps}, 'reopen_count', reopen_count, 'caller_key', caller_key, "
        f"'caller_name_key', caller_name_key, 'lat', lat, 'lon', lon, 'extra', extra)"
    )


def emit(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    source_system: str,
    source_file: str,
    snapshot_times: list[str] | tuple[str, ...] = (),
) -> None:
    """Insert the candidate events of every row of the normalised table ``rows``.

    ``source_file`` is a SQL expression (a quoted literal or a column) giving each event's lineage.
    """
    system = "'" + source_system.replace("'", "''") + "'"
    con.execute(
        f"create or replace temp table {rows}_state as "
        f"select *, {state_json_sql(snapshot_times)} as state from {rows}"
    )
    parts = []
    for column, event_type in LIFECYCLE.items():
        parts.append(
            f"""select {event_id_sql(system, "entity_id", f"'{event_type}'", iso_utc(f"{column}_utc"))},
                       stream, '{event_type}', entity_id, {column}_utc, {system},
                       {LIFECYCLE_PAYLOADS.get(event_type, EMPTY_PAYLOAD)}, null, {source_file}, _line
                from {rows}_state where {column}_utc is not null"""
        )
    # A reopening is identified by how many reopenings the case has had, not by when it was exported.
    parts.append(
        f"""select {event_id_sql(system, "entity_id", "'case.reopened'", "n")},
                   stream, 'case.reopened', entity_id, coalesce(updated_at_utc, received_at_utc), {system},
                   json_object('reopen_count', n), null, {source_file}, _line
            from (select *, unnest(range(1, reopen_count + 1)) as n
                  from {rows}_state where reopen_count > 0)"""
    )
    # A duplicate closure happens once per case, whenever the export first shows it.
    parts.append(
        f"""select {event_id_sql(system, "entity_id", "'case.closed_duplicate'")},
                   stream, 'case.closed_duplicate', entity_id,
                   coalesce(resolved_at_utc, updated_at_utc, received_at_utc), {system},
                   json_object('duplicate_of', duplicate_of), null, {source_file}, _line
            from {rows}_state where is_duplicate"""
    )
    snapshot_hash = state_hash_sql("state")
    snapshot_id = event_id_sql(
        system, "entity_id", "'case.updated'", iso_utc("updated_at_utc"), snapshot_hash
    )
    parts.append(
        f"""select {snapshot_id}, stream, 'case.updated', entity_id,
                   coalesce(updated_at_utc, received_at_utc), {system}, state, {snapshot_hash},
                   {source_file}, _line
            from {rows}_state"""
    )
    con.execute("insert into candidate_events " + "\nunion all\n".join(parts))
