"""What two equal publications share: a fingerprint of every published mart, for tests and drills that
compare a build with a clean one (after a kill, a retry, a backfill, a damaged file)."""

from __future__ import annotations

from pathlib import Path

from gridline.config import Settings
from gridline.publish import read_only_connection


def marts_fingerprint(home: Path) -> dict[str, tuple[int, str]]:
    """Per published mart under ``home``: its row count and a digest of its rows in sorted order.

    Empty when nothing is published yet, so a build that never published compares unequal to one that did.
    """
    settings = Settings(home=home)
    if not settings.published_db.exists():
        return {}
    # gridline's own reader: the published files of this home, wherever it was copied from
    con = read_only_connection(settings)
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
