"""Whether the build database is due for compaction: how much of what its tables store is deleted rows.

A night replaces the rows of the entities it changed (delete, then insert). DuckDB leaves a deleted row
in its row group until a checkpoint vacuums the row group, and vacuuming rewrites every row group a night
deleted from. The changed entities of a night are scattered over the whole history (a late event for an
order of March), so a vacuum on every night costs in proportion to the years behind it (on a generated
city, replacing 24,000 rows of the case and submission tables then checkpointing took 0.1 s after one
month of history and 1.9 s after eleven; 0.13 s without the vacuum). So the nightly build
does not vacuum, and the build that follows a night after which deleted rows make up ``DEAD_ROW_LIMIT``
of what the large tables store does: its checkpoint compacts every table it changes, so the space and
the scans of deleted rows stay bounded. Most deleted rows are the quarter-by-quarter ticket tables'
(a night replaces the current quarter's rows whole), which cost little to vacuum; the share is of all
large tables together, so that they bring a vacuum every few nights, not every night.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Vacuum once deleted rows make up this share of what the large tables store (live and deleted).
DEAD_ROW_LIMIT = 0.15
# Tables smaller than this are rebuilt whole or cost nothing to scan: they do not count.
MIN_ROWS = 10_000


def dead_row_share(database: Path) -> float:
    """The share of deleted rows in what the build database's large tables store (0.0 when it has none)."""
    if not database.exists():
        return 0.0
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.sql(
            f"""select schema_name, table_name, estimated_size from duckdb_tables()
                where database_name = current_database() and not temporary
                  and estimated_size >= {MIN_ROWS}"""
        ).fetchall()
        stored = sum(size for _, _, size in tables)
        live = sum(
            con.sql(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
            for schema, table, _ in tables
        )
        return round(1 - live / stored, 3) if stored else 0.0
    finally:
        con.close()


def due_for_vacuum(share: float | None) -> bool:
    """Whether a build whose tables hold ``share`` of deleted rows (None: not measured) should vacuum."""
    return share is not None and share >= DEAD_ROW_LIMIT
