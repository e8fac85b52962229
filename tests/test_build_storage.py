"""The build database's deleted rows: their share of what its large tables store, and vacuumed only by the
builds asked to."""

from __future__ import annotations

from pathlib import Path

import duckdb

from gridline.build_storage import DEAD_ROW_LIMIT, dead_row_share, due_for_vacuum
from gridline.warehouse import run_dbt


def _table_with_deleted_rows(database: Path, vacuum_tasks: int) -> None:
    """A table of 500,000 rows (five row groups) of which every third was deleted (as a night deletes the
    old rows of the entities it replaces), then a checkpoint."""
    con = duckdb.connect(str(database))
    try:
        con.execute(f"set max_vacuum_tasks = {vacuum_tasks}")
        con.execute("create table cases as select range as case_id, 'open' as status from range(500000)")
        con.execute("checkpoint")
        con.execute("delete from cases where case_id % 3 = 0")
        con.execute("checkpoint")
    finally:
        con.close()


def test_deleted_rows_are_measured_and_a_vacuuming_checkpoint_reclaims_them(tmp_path):
    kept = tmp_path / "kept.duckdb"
    _table_with_deleted_rows(kept, vacuum_tasks=0)
    share = dead_row_share(kept)
    assert 0.33 < share < 0.34  # 166,667 deleted of 500,000 stored
    assert due_for_vacuum(share) and share >= DEAD_ROW_LIMIT

    vacuumed = tmp_path / "vacuumed.duckdb"
    _table_with_deleted_rows(vacuumed, vacuum_tasks=100)
    assert dead_row_share(vacuumed) < share / 2  # row groups merged: 377,120 stored for 333,333
    assert dead_row_share(tmp_path / "not-built-yet.duckdb") == 0.0
    assert not due_for_vacuum(None)


def test_a_build_vacuums_only_when_asked(settings, tmp_path):
    query = ["show", "--inline", "select current_setting('max_vacuum_tasks') as tasks", "--output", "json"]
    asked = run_dbt(settings, tmp_path / "a.duckdb", query, vacuum=True)
    not_asked = run_dbt(settings, tmp_path / "b.duckdb", query, vacuum=False)
    assert asked.returncode == 0 and not_asked.returncode == 0, not_asked.output[-1000:]
    assert '"tasks": 100' in asked.output
    assert '"tasks": 0' in not_asked.output
