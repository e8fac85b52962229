"""What two equal publications share: a fingerprint of every published mart, for tests and drills that
compare a build with a clean one (after a kill, a retry, a backfill, a damaged file)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def marts_fingerprint(home: Path) -> dict[str, tuple[int, str]]:
    """Per published mart under ``home``: its row count and a digest of its rows in sorted order.

    Empty when nothing is published yet, so a build that never published compares unequal to one that did.
    """
    database = home / "warehouse" / "published.duckdb"
    if not database.exists():
        return {}
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            name
            for (name,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {
            name: con.sql(
                f"select count(*), md5(coalesce(string_agg(r, chr(10) order by r), '')) "
                f'from (select cast(x as varchar) as r from marts."{name}" as x)'
            ).fetchall()[0]
            for name in tables
        }
    finally:
        con.close()
