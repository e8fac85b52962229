"""The log's compact state: what a new batch is compared with, kept per batch instead of read from history.

Deciding which candidates of a batch are new needs four facts about the log: the event ids it holds,
each entity's snapshot states (to drop a snapshot equal to its predecessor), the quarantine records it
has reported, and the files it has read (by digest, so a file committed before is skipped unparsed).
Reading them from the batches' Parquet files costs time in proportion to the whole log. Instead they
live, on narrow columns only, in one DuckDB database beside the batches (``log/state.duckdb``), and each
committed batch adds its own rows: a batch's work follows the batch.

The event log stays the system of record. The state lists the batches it has taken in; a batch
committed without reaching the state (a crash between the commit's rename and the state's update) is
taken in by the next writer, and a state that names a batch the log lacks, is damaged, or has an older
layout is rebuilt from the batches. :func:`rebuild_differences` shows whether a state rebuilt from the log
equals the maintained one.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import duckdb

from ingestion.events import install_event_key

STATE_FILE = "state.duckdb"
SCHEMA = "log_state"
# Raised whenever the tables below change shape: an older state is then rebuilt from the log.
LAYOUT_VERSION = 4

_TABLES = {
    "applied_batches": "batch_id varchar primary key",
    # Ids and state digests as numbers (ingestion.events.install_event_key).
    "known_events": "event_key uhugeint not null, batch_id varchar not null",
    "snapshots": (
        "entity_key ubigint not null, entity_id varchar not null, occurred_at timestamptz not null, "
        "state_key uhugeint not null, event_key uhugeint not null, batch_id varchar not null"
    ),
    # gridline's own decisions (retractions, verdicts), with the columns the exclusion rule reads.
    "system_events": (
        "stream varchar, event_type varchar, recorded_at timestamptz, payload json, batch_id varchar not null"
    ),
    "known_quarantine": "source_file varchar, source_line bigint, reason varchar, batch_id varchar not null",
    # Files read (not skipped) by a batch, with what they gave: records and candidate events.
    "known_files": (
        "path varchar, sha256 varchar, bytes bigint, rows bigint, events bigint, stream varchar, "
        "format varchar, mapping varchar, source varchar, batch_id varchar not null"
    ),
}

# The tables' rows for one committed batch, from its files alone.
_BATCH_ROWS = {
    "known_events": "select event_key(event_id), batch_id from {events}",
    "snapshots": (
        "select entity_key(entity_id), entity_id, occurred_at, event_key(state_hash), event_key(event_id), "
        "batch_id "
        "from {events} "
        "where state_hash is not null"
    ),
    "system_events": (
        "select stream, event_type, recorded_at, payload, batch_id from {events} where stream = 'system'"
    ),
}


# What a manifest's ``inputs`` entry records of a file read, as ``known_files`` keeps it.
_FILE_FACTS = ("path", "sha256", "bytes", "rows", "events", "stream", "format", "mapping", "source")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class LogState:
    """The state database of the log under ``log_root``, attached to a connection as ``log_state``.

    Only a writer holding the log's lock opens it; :meth:`catch_up` must run before it is read.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path, schema: str = SCHEMA):
        self.con = con
        self.path = folder / STATE_FILE
        self.schema = schema
        self._attach()

    def _attach(self) -> None:
        install_event_key(self.con)
        try:
            self.con.execute(f"attach {_sql_text(str(self.path))} as {self.schema}")
            version = self._layout_version()
        except duckdb.Error:
            # A damaged state is only a cache of the log: start it again.
            self._detach_quietly()
            self.path.unlink(missing_ok=True)
            self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
            self.con.execute(f"attach {_sql_text(str(self.path))} as {self.schema}")
            version = None
        if version != LAYOUT_VERSION:
            self._create_tables()

    def _detach_quietly(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute(f"detach {self.schema}")

    def _layout_version(self) -> int | None:
        try:
            return self.con.sql(f"select version from {self.schema}.layout").fetchall()[0][0]
        except duckdb.CatalogException:
            return None

    def _create_tables(self) -> None:
        self.con.execute("begin")
        for name in (*_TABLES, "layout"):
            self.con.execute(f"drop table if exists {self.schema}.{name}")
        for name, columns in _TABLES.items():
            self.con.execute(f"create table {self.schema}.{name} ({columns})")
        self.con.execute(f"create table {self.schema}.layout as select {LAYOUT_VERSION} as version")
        self.con.execute("commit")

    def close(self) -> None:
        self._detach_quietly()

    # -- keeping up with the log ----------------------------------------------------------------
    def applied(self) -> set[str]:
        rows = self.con.sql(f"select batch_id from {self.schema}.applied_batches").fetchall()
        return {row[0] for row in rows}

    def catch_up(self, batch_dirs: list[Path]) -> None:
        """Take in every committed batch the state lacks; rebuild it when it names a batch the log lacks."""
        in_log = {p.name for p in batch_dirs}
        if self.applied() - in_log:
            self._create_tables()
        missing = in_log - self.applied()
        for batch_dir in batch_dirs:
            if batch_dir.name in missing:
                self.apply(batch_dir)

    def apply(self, batch_dir: Path) -> None:
        """Add one committed batch's rows, all or nothing."""
        manifest = json.loads((batch_dir / "manifest.json").read_text(encoding="utf-8"))
        batch_id = manifest["batch_id"]
        events = batch_dir / "events.parquet"
        quarantine = batch_dir / "quarantine.parquet"
        self.con.execute("begin")
        try:
            if events.exists():
                scan = f"read_parquet({_sql_text(str(events))})"
                for table, select in _BATCH_ROWS.items():
                    self.con.execute(f"insert into {self.schema}.{table} {select.format(events=scan)}")
            if quarantine.exists():
                self.con.execute(
                    f"""insert into {self.schema}.known_quarantine
                        select source_file, source_line, reason, batch_id
                        from read_parquet({_sql_text(str(quarantine))})"""
                )
            for item in manifest.get("inputs") or []:
                if "rows" not in item or item.get("same_as_batch"):
                    continue  # skipped unread, or read by an adapter whose rows cannot be counted per file
                values = ", ".join(f"${name}" for name in (*_FILE_FACTS, "batch_id"))
                self.con.execute(
                    f"insert into {self.schema}.known_files values ({values})",
                    {name: item.get(name) for name in _FILE_FACTS} | {"batch_id": batch_id},
                )
            self.con.execute(f"insert into {self.schema}.applied_batches values ($id)", {"id": batch_id})
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise

    # -- what a new batch is compared with -----------------------------------------------------
    def create_views(self, excluded_rule_sql: str) -> None:
        """Temp relations over the state for the commit's queries: ``excluded_batches`` (from the
        system events, by ``excluded_rule_sql``), and the ``known_event_ids``, ``known_snapshots``,
        ``known_quarantine`` and ``known_files`` of every batch not excluded."""
        self.con.execute(f"create or replace temp table excluded_batches as {excluded_rule_sql}")
        # Usually nothing is excluded: the views then read the tables as they are, without testing
        # every row of a long history against an empty list.
        excluded = self.con.sql("select count(*) from excluded_batches").fetchall()[0][0]
        counted = "batch_id not in (select batch_id from excluded_batches)" if excluded else "true"
        self.con.execute(
            f"create or replace temp view known_event_ids as "
            f"select event_key from {self.schema}.known_events where {counted}"
        )
        for table in ("snapshots", "known_quarantine", "known_files"):
            alias = "known_snapshots" if table == "snapshots" else table
            self.con.execute(
                f"create or replace temp view {alias} as select * from {self.schema}.{table} where {counted}"
            )

    def system_events_relation(self) -> str:
        return f"{self.schema}.system_events"

    def differs_from(self, other: LogState) -> list[str]:
        """The tables whose rows differ between this state and ``other`` (as multisets)."""
        differing = []
        for name in _TABLES:
            mine, theirs = f"{self.schema}.{name}", f"{other.schema}.{name}"
            count = self.con.sql(
                f"""select count(*) from (
                        (select * from {mine} except all select * from {theirs})
                        union all
                        (select * from {theirs} except all select * from {mine}))"""
            ).fetchall()[0][0]
            if count:
                differing.append(name)
        return differing


def rebuild_differences(log_root: Path, batch_dirs: list[Path], workdir: Path) -> list[str]:
    """The state tables that a state rebuilt from ``batch_dirs`` (in ``workdir``) would hold differently
    from the maintained one; empty when the maintained state is exact. A check: it repairs nothing
    beyond taking in batches the maintained state has not seen yet."""
    con = duckdb.connect()
    try:
        maintained = LogState(con, log_root)
        maintained.catch_up(batch_dirs)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / STATE_FILE).unlink(missing_ok=True)
        rebuilt = LogState(con, workdir, schema="rebuilt_state")
        rebuilt.catch_up(batch_dirs)
        return maintained.differs_from(rebuilt)
    finally:
        con.close()
        (workdir / STATE_FILE).unlink(missing_ok=True)
