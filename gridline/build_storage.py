"""Whether the build database is due for compaction: how much of what its tables store is deleted rows.

A night replaces the rows of the entities it changed (delete, then insert). DuckDB leaves a deleted row
in its row group until a checkpoint vacuums the row group, and vacuuming rewrites every row group a night
deleted from. The changed entities of a night are scattered over the whole history (a late event for an
order of March), so a vacuum on every night costs in proportion to the years behind it (on a generated
city, replacing 24,000 rows of the case and submission tables then checkpointing took 0.1 s after one
month of history and 1.9 s after eleven; 0.13 s without the vacuum). So the nightly build
does not vacuum, and the build that follows a night whose tables hold more than ``DEAD_ROW_LIMIT`` of
deleted rows does: its checkpoint compacts every table it changes, and the space and the scans of the
deleted rows are bounded to a share of the live ones.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Compact once any table's deleted rows reach this share of what it stores (live and deleted).
DEAD_ROW_LIMIT = 0.2
# Tables smaller than this are rebuilt whole or cost nothing to scan: their share does not count.
MIN_ROWS = 10_000


def dead_row_share(database: Path) -> float:
    """The largest share of deleted rows among the build database's tables (0.0 when it has none yet)."""
    if not database.exists():
        return 0.0
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.sql(
            f"""select schema_name, table_name, estimated_size from duckdb_tables()
                where database_name = current_database() and not temporary
                  and estimated_size >= {MIN_ROWS}"""
        ).fetchall()
        share = 0.0
        for schema, table, stored in tables:
            (live,) = con.sql(f'select count(*) from "{schema}"."{table}"').fetchall()[0]
            share = max(share, 1 - live / stored)
        return round(share, 3)
    finally:
        con.close()


def due_for_vacuum(share: float | None) -> bool:
    """Whether a build whose tables hold ``share`` of deleted rows (None: not measured) should vacuum."""
    return share is not None and share >= DEAD_ROW_LIMIT
