"""A build on Spark inside write-audit-publish (issue 18, docs/scale-out.md).

dbt on Spark writes every model as a Parquet table under the Spark warehouse folder of the home
(``warehouse/spark/tables/<schema>.db/<table>/``). The audit and the publish step read a DuckDB build
database; after a Spark build that file holds one view per table over the Parquet files Spark wrote,
so the Great Expectations suites validate exactly what Spark wrote, and publishing copies those rows into
the published catalog's partition files, which DuckDB readers query as after a DuckDB build.

A Spark build is always whole: Parquet tables cannot replace a night's rows (a table format that can is
var ``spark_table_format``), so every Spark build starts from an empty Spark warehouse.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from gridline.config import Settings


def dbt_build_args() -> list[str]:
    """``dbt build`` on Spark: whole, and without the unit tests, which check the project's SQL on DuckDB
    (its incremental cases mock a fold's previous state, which a whole Spark build never reads)."""
    return ["build", "--full-refresh", "--exclude-resource-type", "unit_test"]


def tables_dir(settings: Settings) -> Path:
    """Where the local Spark writes its tables: one folder per database, ``<schema>.db``."""
    return settings.spark_dir / "tables"


def discard(settings: Settings) -> None:
    """Empty the Spark warehouse and its metastore before a whole build: a table folder an interrupted
    build left behind, unknown to the metastore, makes Spark refuse to create the table again."""
    shutil.rmtree(settings.spark_dir, ignore_errors=True)


def create_build_views(settings: Settings, database: Path) -> list[str]:
    """Make ``database`` (a new DuckDB file) the build database of the Spark build just made: a view
    ``<schema>.<table>`` over the Parquet files of each table Spark wrote. Returns the views' names."""
    database.unlink(missing_ok=True)
    created = []
    con = duckdb.connect(str(database))
    try:
        for folder in sorted(tables_dir(settings).glob("*.db/*")):
            if not any(folder.glob("*.parquet")):
                continue  # a view dbt made on Spark has no files: its rows are in the tables it reads
            schema, table = folder.parent.name.removesuffix(".db"), folder.name
            files = str(folder / "*.parquet").replace("'", "''")
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f"""create view "{schema}"."{table}" as select * from read_parquet('{files}')""")
            created.append(f"{schema}.{table}")
        con.execute("checkpoint")
    finally:
        con.close()
    return created
