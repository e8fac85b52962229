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
from ingestion.integrity import damage_message, quick_problem
from ingestion.log import EMPTY_EVENTS_SQL, EMPTY_QUARANTINE_SQL, EventLog, read_manifest, sql_path_list


def prepare_candidate(settings: Settings, from_published: bool) -> Path:
    """The private build target: a copy of the published warehouse (so incremental models only add what
    is new) or, for a full refresh, an empty file. Leftovers of a failed run are discarded first; the
    published file is only ever read here."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    discard_candidate(settings)
    if from_published and settings.published_db.exists():
        # copy under a temporary name so a crash mid-copy never leaves a plausible-looking candidate
        partial = settings.candidate_db.with_suffix(".partial")
        shutil.copyfile(settings.published_db, partial)
        os.replace(partial, settings.candidate_db)
    return settings.candidate_db


def discard_candidate(settings: Settings) -> None:
    """Remove what a failed build leaves: the candidate, its write-ahead log and a partial copy."""
    for leftover in (
        settings.candidate_db,
        settings.candidate_db.with_suffix(".duckdb.wal"),
        settings.candidate_db.with_suffix(".partial"),
    ):
        leftover.unlink(missing_ok=True)


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


class DamagedWarehouse(GridlineError):
    """The published database cannot be opened: the next run rebuilds it from the log."""


def read_only_connection(settings: Settings, database: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A contained connection to a published warehouse (the report's and the evaluation's)."""
    database = database or settings.published_db
    con, unavailable = contained_connection(settings, database)
    if unavailable:
        con.close()
        raise GridlineError(unavailable)
    return con


def contained_connection(settings: Settings, database: Path) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """A contained, read-only connection: ``marts.*`` are the marts of ``database``, ``log.events`` and
    ``log.quarantine`` the committed log, and nothing else on disk or on the network can be reached.
    Also returns why the marts are not there (nothing published yet, a damaged file), or None.

    The views and the attachment are set up first; then the only files the engine may open are the
    log's batch files and the database (``allowed_paths``), external access and extension loading are
    switched off, and the configuration is locked so no statement can undo it. DuckDB checks permissions
    when it opens a file, so the views over the batch files keep working (measured on DuckDB 2.0; a
    view over a path outside ``allowed_paths`` fails). A batch whose files no longer match their
    manifest turns the log's views into an error naming it, leaving the marts usable.
    """
    con = duckdb.connect(config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    try:
        con.execute(f"set TimeZone = '{settings.timezone}'")
        allowed = _create_log_views(con, EventLog(settings.log_dir).snapshot())
        unavailable = _attach_published(con, database)
        if unavailable:
            con.execute("use log")
        else:
            allowed.append(database)
        con.execute(f"set allowed_paths = {sql_path_list(allowed)}")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con, unavailable


def _refusing(empty_sql: str, message: str) -> str:
    """A relation of the same columns as ``empty_sql`` whose every read fails with ``message``."""
    refusal = "where error('" + message.replace("'", "''") + "') is null"
    return f"select * from ({empty_sql.replace('where false', refusal)})"


def _create_log_views(con: duckdb.DuckDBPyConnection, log: EventLog) -> list[Path]:
    """``log.events`` and ``log.quarantine`` over the log's batches; returns the files they read."""
    con.execute("attach ':memory:' as log")
    damaged = []
    for path in log.batch_dirs():
        try:
            problem = quick_problem(path, read_manifest(path))
        except GridlineError as exc:  # an unreadable manifest: the batch cannot be checked
            damaged.append(str(exc))
            continue
        if problem:
            damaged.append(damage_message(path.name, problem))
    if damaged:
        con.execute(f"create view log.events as {_refusing(EMPTY_EVENTS_SQL, damaged[0])}")
        con.execute(f"create view log.quarantine as {_refusing(EMPTY_QUARANTINE_SQL, damaged[0])}")
        return []
    con.execute(f"create view log.events as {log.events_sql()}")
    con.execute(f"create view log.quarantine as {log.quarantine_sql()}")
    return log.events_files() + log.quarantine_files()


def _attach_published(con: duckdb.DuckDBPyConnection, database: Path) -> str | None:
    """Attach the warehouse read-only as the default database; returns why it cannot be, or None."""
    if not database.exists():
        return f"nothing published yet at {database}: run `gridline run` first"
    try:
        con.execute(f"attach '{database}' as published (read_only)")
        con.execute("use published")
        con.execute("select count(*) from information_schema.tables").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        return (
            f"the published warehouse {database} is damaged ({reason}); "
            "the next `gridline run` rebuilds it from the log"
        )
    return None
