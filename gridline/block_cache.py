"""Dropping the table blocks DuckDB keeps in memory after reading them.

DuckDB keeps every block of a table it has read until its memory limit forces it out. Within one query
that is what makes a second read cheap; across the many short queries of a night it means the memory a
process holds grows with everything read since it started, and so with the years of history that a
night's small queries each touch a column or two of (a fold's earlier events, a model replacing its
rows by key, a fingerprint of every mart). DuckDB has no statement that only drops its cache; lowering
the memory limit below what the cache takes, then setting it back, does. Blocks are dropped, never
written: a table's blocks are on disk already, and one read again comes back from the file, which the
operating system still has in its cache.

Lowering the limit is for a moment when nothing else runs on the database: a query running beside it
that needed memory then would fail. The callers are a dbt build of one model at a time, between models
(gridline/dbt_plugin.py), and gridline's own connections that run one query at a time, between queries
(the marts' fingerprints, publication and audit).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

MIB = 1 << 20
# Left to the cache below what else DuckDB holds: what it holds besides cached table blocks is counted
# in whole MiB, rounded down.
_MARGIN_MIB = 4

_USAGE_SQL = f"""
    select coalesce(sum(memory_usage_bytes) filter (where tag = 'BASE_TABLE'), 0) // {MIB},
           coalesce(sum(memory_usage_bytes) filter (where tag <> 'BASE_TABLE'), 0) // {MIB}
    from duckdb_memory()
"""


@dataclass(frozen=True)
class Released:
    cached_mib: int  # table blocks held before
    released_mib: int  # of which dropped (0 when DuckDB could not drop them now)


def release_cached_blocks(con: duckdb.DuckDBPyConnection, memory_limit: str) -> Released:
    """Drop the table blocks ``con``'s database holds, then restore its limit to ``memory_limit`` (the
    limit the connection was opened with: DuckDB shows its current one rounded).

    Never fails: when DuckDB cannot drop enough (a block still in use), it keeps its limit as it was and
    the cache is left for the next call."""
    cached, other = con.execute(_USAGE_SQL).fetchall()[0]
    if cached == 0:
        return Released(0, 0)
    try:
        con.execute(f"set memory_limit = '{other + _MARGIN_MIB}MiB'")
    except duckdb.OutOfMemoryException:
        return Released(int(cached), 0)
    finally:
        con.execute(f"set memory_limit = '{memory_limit}'")
    left, _ = con.execute(_USAGE_SQL).fetchall()[0]
    return Released(int(cached), int(cached - left))
