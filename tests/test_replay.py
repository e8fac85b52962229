"""Replay: the marts rebuilt as of a past instant equal what was published then, table for table."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import duckdb
import pytest

from gridline.errors import GridlineError
from gridline.replay import parse_instant, replay
from tests.conftest import gridline_cli


def _marts(database) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, so two builds compare by content."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: sorted(con.sql(f"select * from marts.{t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def test_replay_reproduces_an_earlier_publication(home, tiny_landing, tmp_path):
    files = sorted((tiny_landing / "hotline").glob("*/*"))
    half = len(files) // 2
    gridline_cli("ingest", *map(str, files[:half]), env_home=home)
    gridline_cli("run", env_home=home)
    published = home / "warehouse" / "published.duckdb"
    first = _marts(published)
    published_bytes = published.read_bytes()
    time.sleep(0.01)
    as_of = datetime.now(UTC).isoformat()
    time.sleep(0.01)

    # More of the quarter arrives: new orders, and later states of orders already published.
    gridline_cli("ingest", *map(str, files[half:]), env_home=home)
    # log.events is queryable beside the marts, and it now holds hotline events the publication lacks.
    query = (
        "select count(*) filter (where recorded_at > '{}'::timestamptz) as later, count(*) as n "
        "from log.events where stream = 'hotline'"
    )
    counted = gridline_cli("sql", query.format(as_of), env_home=home).stdout.splitlines()
    later, total = map(int, counted[1].split(","))
    assert counted[0] == "later,n" and 0 < later < total

    out = gridline_cli("run", "--as-of", as_of, env_home=home)
    assert "replayed as of" in out.stderr
    replays = list((home / "replays").glob("*.duckdb"))
    assert len(replays) == 1
    replayed = _marts(replays[0])
    assert first["cases"] and replayed.keys() == first.keys()
    for table, rows in first.items():
        assert replayed[table] == rows, table
    assert published.read_bytes() == published_bytes  # the published marts were left alone


def test_replay_refuses_what_it_cannot_do(settings):
    with pytest.raises(GridlineError, match="ISO 8601"):
        replay(settings, "last tuesday")
    with pytest.raises(GridlineError, match="future"):
        replay(settings, "2999-01-01T00:00:00Z")
    with pytest.raises(GridlineError, match="empty"):
        replay(settings, "2025-01-01T00:00:00Z")
    # Without an offset, an instant is read in the deployment's local time.
    assert parse_instant("2025-10-01T08:00:00", "Asia/Shanghai") == datetime(2025, 10, 1, tzinfo=UTC)
