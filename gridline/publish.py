"""Write-audit-publish on files: a candidate warehouse becomes the published one by an atomic rename.

Readers open the published file read-only. Publishing renames a finished, checkpointed candidate over
it, so a reader that already has the old file open keeps reading the old marts to the end of its query
and the next reader opens the new ones: never a lock error, never a half-built warehouse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.log import EventLog


def prepare_candidate(settings: Settings, from_published: bool) -> Path:
    """The private build target: a copy of the published warehouse (so incremental models only add what
    is new) or, for a full refresh, an empty file. Leftovers of a failed run are discarded first; the
    published file is only ever read here."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    for leftover in (settings.candidate_db, settings.candidate_db.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    if from_published and settings.published_db.exists():
        # copy under a temporary name so a crash mid-copy never leaves a plausible-looking candidate
        partial = settings.candidate_db.with_suffix(".partial")
        shutil.copyfile(settings.published_db, partial)
        os.replace(partial, settings.candidate_db)
    return settings.candidate_db


def fresh_candidate(settings: Settings) -> Path:
    """An empty private build target."""
    return prepare_candidate(settings, from_published=False)


def seal(database: Path) -> None:
    """Fold the write-ahead log into the file so the file alone is the whole warehouse."""
    con = duckdb.connect(str(database))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    if database.with_suffix(".duckdb.wal").exists():
        raise GridlineError(f"{database}: write-ahead log still present after checkpoint")


def publish(candidate: Path, published: Path) -> None:
    seal(candidate)
    with open(candidate, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(candidate, published)
    fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_published(settings: Settings, target: Path) -> None:
    shutil.copyfile(settings.published_db, target)


def read_only_connection(settings: Settings, database: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A connection where ``marts.*`` are the published marts and ``log.events`` is the whole event log."""
    database = database or settings.published_db
    if not database.exists():
        raise GridlineError(f"nothing published yet at {database}: run `gridline run` first")
    con = duckdb.connect(config={"access_mode": "automatic"})
    con.execute(f"set TimeZone = '{settings.timezone}'")
    con.execute("attach ':memory:' as log")
    con.execute(f"create view log.events as {EventLog(settings.log_dir).events_sql()}")
    con.execute(f"create view log.quarantine as {EventLog(settings.log_dir).quarantine_sql()}")
    con.execute(f"attach '{database}' as published (read_only)")
    con.execute("use published")
    return con
