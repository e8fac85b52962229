"""Dropping DuckDB's cached table blocks (gridline/block_cache.py) on a real database file."""

from __future__ import annotations

import duckdb

from gridline.block_cache import release_cached_blocks


def _cached_mib(con: duckdb.DuckDBPyConnection) -> int:
    return con.sql(
        "select coalesce(sum(memory_usage_bytes), 0) // 1048576 from duckdb_memory() where tag = 'BASE_TABLE'"
    ).fetchall()[0][0]


def test_the_blocks_a_query_read_are_dropped_and_the_limit_is_what_it_was(tmp_path):
    database = tmp_path / "cache.duckdb"
    con = duckdb.connect(str(database), config={"memory_limit": "1GB"})
    con.execute(
        "create table t as select i, md5(i::varchar) || md5((i + 1)::varchar) as s from range(1000000) r(i)"
    )
    con.execute("checkpoint")
    con.close()

    con = duckdb.connect(str(database), config={"memory_limit": "1GB"})
    shown_limit = con.sql("select current_setting('memory_limit')").fetchall()
    assert _cached_mib(con) < 4
    con.execute("select sum(length(s)) from t").fetchall()
    cached = _cached_mib(con)
    assert cached >= 20  # what was read stays in memory

    released = release_cached_blocks(con, "1GB")
    assert released.cached_mib == cached
    assert released.released_mib >= cached - 5 and _cached_mib(con) <= 5
    assert con.sql("select current_setting('memory_limit')").fetchall() == shown_limit
    # the table reads as before: its blocks come back from the file
    assert con.sql("select count(*), sum(length(s)) from t").fetchall() == [(1000000, 64000000)]
    con.close()
