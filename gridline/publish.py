"""Write-audit-publish on files: the build database is private, the published marts are immutable files.

dbt builds into ``warehouse/build.duckdb``, which persists between runs so incremental models only add
what is new; no reader ever opens it. Publishing writes the marts' rows that the audit passed as Parquet
files under ``warehouse/marts/<mart>/`` (one per quarter where a mart has a ``quarter`` column or is a
mart of days), only those whose fingerprint changed, and then renames a small catalog database over
``warehouse/published.duckdb``: a schema ``marts`` of views over those files and a table
``gridline.partitions`` listing them. A reader that opened the old catalog keeps reading the old files to
the end of its query and the next reader opens the new ones: never a lock error, never a half-built
warehouse, and a publication costs what the night changed, not a copy of the warehouse.

The catalog's views name their files by absolute path, so any DuckDB client can open it; DuckDB resolves
relative paths in a view against the working directory, not the database's folder (measured on DuckDB
2.0), so gridline's own readers rebuild the views from ``gridline.partitions`` against the folder the
catalog is in now, and a copied or moved home reads its own files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from gridline.block_cache import release_cached_blocks
from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.work_connection import work_connection
from ingestion.integrity import damage_message, quick_problem
from ingestion.log import EMPTY_EVENTS_SQL, EMPTY_QUARANTINE_SQL, EventLog, read_manifest, sql_path_list


def build_db(settings: Settings) -> Path:
    """The private, persistent build database: dbt's incremental models live here between runs."""
    return settings.warehouse_dir / "build.duckdb"


def marts_dir(settings: Settings) -> Path:
    """Where the published marts' partition files live (each written once, never changed)."""
    return settings.warehouse_dir / "marts"


def discard_build(settings: Settings) -> None:
    """Remove the build database and its write-ahead log (a full refresh starts from an empty file)."""
    for leftover in (build_db(settings), build_db(settings).with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)


def discard_leftovers(settings: Settings) -> None:
    """Remove what an interrupted run leaves: a catalog not yet switched in, partly written partition
    files and state files (``*.partial``)."""
    catalog = _next_catalog(settings.published_db)
    for leftover in (catalog, catalog.with_suffix(catalog.suffix + ".wal")):
        leftover.unlink(missing_ok=True)
    for pattern in ("*.partial", "marts/*/*.partial"):
        for partial in settings.warehouse_dir.glob(pattern):
            partial.unlink(missing_ok=True)


def seal(database: Path) -> None:
    """Fold the write-ahead log into the file so the file alone is the whole warehouse."""
    con = duckdb.connect(str(database))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    if database.with_suffix(".duckdb.wal").exists():
        raise GridlineError(f"{database}: write-ahead log still present after checkpoint")


# A mart with this column is published one file per value (a quarter), so a night rewrites only the
# quarters whose rows it changed. A mart of days (a date column DAY_COLUMN, no quarter) is published one
# file per calendar quarter of its days: one file would be rewritten whole on every night that changes
# one day, a cost that grows with the years behind it. Any other mart is one file.
PARTITION_COLUMN = "quarter"
DAY_COLUMN = "local_day"
CATALOG_SCHEMA = "gridline"


@dataclass(frozen=True)
class Partition:
    """One published file of a mart: the rows of one partition value (``all`` for a whole mart)."""

    mart: str
    part: str
    fingerprint: str
    rows: int
    file: str = ""  # relative to the warehouse folder; empty until written


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = ? and table_schema = 'marts' and table_name = ? order by ordinal_position""",
        [database, table],
    ).fetchall()


def _part_expression(columns: list[tuple[str, str]]) -> str:
    types = dict(columns)
    if PARTITION_COLUMN in types:
        return f"coalesce({PARTITION_COLUMN}::varchar, 'none')"
    if types.get(DAY_COLUMN) == "DATE":
        return f"coalesce(year({DAY_COLUMN}) || 'Q' || quarter({DAY_COLUMN}), 'none')"
    return "'all'"


def build_partitions(
    con: duckdb.DuckDBPyConnection, database: str, memory_limit: str | None = None
) -> dict[tuple[str, str], Partition]:
    """Every partition of every mart of the attached ``database`` with a fingerprint of its rows and
    columns, computed set-based in DuckDB (a sum of row hashes: order-free, and a repeated row counts).
    Given ``memory_limit`` (the one ``con`` was opened with), each mart's blocks are dropped from memory
    once it is fingerprinted: every row of every mart is read, and the blocks would all stay."""
    marts = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = ? "
            "and table_schema = 'marts' order by 1",
            [database],
        ).fetchall()
    ]
    partitions = {}
    for mart in marts:
        columns = _columns(con, database, mart)
        schema = hashlib.sha256(repr(columns).encode()).hexdigest()[:16]
        rows = con.execute(
            f"""select {_part_expression(columns)} as part, count(*), sum(hash(m))::hugeint::varchar
                from {database}.marts."{mart}" m group by part"""
        ).fetchall()
        for part, count, digest in rows or [("all", 0, "0")]:
            partitions[(mart, part)] = Partition(mart, part, f"{schema}-{digest}", count)
        if memory_limit:
            release_cached_blocks(con, memory_limit)
    return partitions


def published_partitions(settings: Settings) -> dict[tuple[str, str], Partition]:
    """The partitions the published catalog lists, or none when there is no readable catalog (nothing
    published, a damaged file, a warehouse of the layout before catalogs): then every one is written."""
    catalog = settings.published_db
    if not catalog.exists():
        return {}
    try:
        con = duckdb.connect(str(catalog), read_only=True)
    except duckdb.Error:
        return {}
    try:
        rows = con.execute(
            f"select mart, part, fingerprint, rows, file from {CATALOG_SCHEMA}.partitions"
        ).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    found = {(m, p): Partition(m, p, f, n, file) for m, p, f, n, file in rows}
    if any(not (settings.warehouse_dir / p.file).exists() for p in found.values()):
        return {}  # a file went missing: trust nothing and write every partition again
    return found


def publish(settings: Settings, build: Path, run_id: str, built: dict[tuple[str, str], Partition]) -> None:
    """Publish the marts of ``build``: write the partitions whose fingerprint differs from the published
    one, then switch the catalog (a small DuckDB file of views over the partition files) in one rename.

    A reader that opened the previous catalog keeps reading its files: they are deleted only when a
    later publication no longer needs them either (files of the last two publications are kept)."""
    current = published_partitions(settings)
    con = work_connection(settings, "publish")
    try:
        con.execute(f"attach '{build}' as build (read_only)")
        written = {}
        for key, partition in sorted(built.items()):
            same = current.get(key)
            if same is not None and same.fingerprint == partition.fingerprint:
                written[key] = same
                continue
            written[key] = replace(partition, file=_write_partition(con, settings, run_id, partition))
            # the blocks this partition was read from would stay for the rest of the publication
            release_cached_blocks(con, settings.build_memory)
    finally:
        con.close()
    _switch_catalog(settings, written)
    _remove_unreferenced(settings, keep={p.file for p in [*written.values(), *current.values()]})


def _write_partition(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, partition: Partition
) -> str:
    folder = marts_dir(settings) / partition.mart
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{partition.part}-{run_id}.parquet"
    partial = target.with_name(target.name + ".partial")
    columns = _columns(con, "build", partition.mart)
    where = "" if partition.part == "all" else f"where {_part_expression(columns)} = ?"
    parameters = [] if partition.part == "all" else [partition.part]
    con.execute(
        f"""copy (select * from build.marts."{partition.mart}" {where}) to '{partial}' (format parquet)""",
        parameters,
    )
    _fsync(partial)
    os.replace(partial, target)
    return str(target.relative_to(settings.warehouse_dir))


def _next_catalog(published: Path) -> Path:
    return published.with_name(published.name + ".next")


def _switch_catalog(settings: Settings, partitions: dict[tuple[str, str], Partition]) -> None:
    """Write the catalog under a temporary name and rename it over the published one."""
    catalog = _next_catalog(settings.published_db)
    catalog.unlink(missing_ok=True)
    con = duckdb.connect(str(catalog))
    try:
        con.execute(f"create schema {CATALOG_SCHEMA}")
        con.execute(
            f"""create table {CATALOG_SCHEMA}.partitions (mart varchar, part varchar, fingerprint varchar,
                rows bigint, file varchar)"""
        )
        con.executemany(
            f"insert into {CATALOG_SCHEMA}.partitions values (?, ?, ?, ?, ?)",
            [(p.mart, p.part, p.fingerprint, p.rows, p.file) for p in partitions.values()],
        )
        con.execute("create schema marts")
        # Absolute paths, for any DuckDB client that opens the catalog as it stands; gridline's own
        # readers resolve the files against the current home instead (see attach_published_marts).
        for mart, files in _files_by_mart(settings.warehouse_dir, partitions.values()).items():
            con.execute(f'create view marts."{mart}" as {_read_files_sql(files)}')
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(catalog)
    os.replace(catalog, settings.published_db)
    _fsync(settings.warehouse_dir)


def _files_by_mart(warehouse: Path, partitions: Iterable[Partition]) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for p in sorted(partitions, key=lambda p: (p.mart, p.part)):
        files.setdefault(p.mart, []).append(warehouse / p.file)
    return files


def _read_files_sql(files: list[Path]) -> str:
    return f"select * from read_parquet({sql_path_list(files)})"


def _remove_unreferenced(settings: Settings, keep: set[str]) -> None:
    if not marts_dir(settings).exists():
        return
    for path in marts_dir(settings).rglob("*.parquet"):
        if str(path.relative_to(settings.warehouse_dir)) not in keep:
            path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_catalog(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    """Whether the attached ``database`` is a published catalog (views over partition files) rather
    than a whole warehouse (a replay, a build, a publication of the layout before catalogs)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = ? "
            "and table_schema = ? and table_name = 'partitions'",
            [database, CATALOG_SCHEMA],
        ).fetchall()[0][0]
    )


def attach_published_marts(con: duckdb.DuckDBPyConnection, database: Path, alias: str) -> list[Path]:
    """Attach the marts of a published ``database`` as ``alias`` (read-only); returns the files it reads.

    A catalog's views are recreated in memory over its partition files resolved against the folder the
    catalog is in now, so a home that was copied or moved reads its own files, never the old home's.
    A whole warehouse file is attached as it is."""
    con.execute(f"attach '{database}' as {alias}_catalog (read_only)")
    if not is_catalog(con, f"{alias}_catalog"):
        con.execute(f"detach {alias}_catalog")
        con.execute(f"attach '{database}' as {alias} (read_only)")
        return [database]
    rows = con.execute(
        f"select mart, part, fingerprint, rows, file from {alias}_catalog.{CATALOG_SCHEMA}.partitions"
    ).fetchall()
    con.execute(f"detach {alias}_catalog")
    partitions = [Partition(*row) for row in rows]
    con.execute(f"attach ':memory:' as {alias}")
    con.execute(f"create schema {alias}.marts")
    files = _files_by_mart(database.parent, partitions)
    for mart, paths in files.items():
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise duckdb.IOException(f"partition file {missing[0]} is missing")
        con.execute(f'create view {alias}.marts."{mart}" as {_read_files_sql(paths)}')
    return [path for paths in files.values() for path in paths]


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
        unavailable, files = _attach_published(con, database)
        if unavailable:
            con.execute("use log")
        else:
            allowed += files
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


def _attach_published(con: duckdb.DuckDBPyConnection, database: Path) -> tuple[str | None, list[Path]]:
    """Attach the published marts read-only as the default database; returns why they cannot be (or
    None) and the files they read."""
    if not database.exists():
        return f"nothing published yet at {database}: run `gridline run` first", []
    try:
        files = attach_published_marts(con, database, "published")
        con.execute("use published")
        con.execute("select count(*) from information_schema.tables").fetchall()
    except duckdb.Error as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        return (
            f"the published warehouse {database} is damaged ({reason}); "
            "the next `gridline run` rebuilds it from the log"
        ), []
    return None, files
