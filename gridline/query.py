"""``gridline sql``: read-only questions to the published marts and the event log, answered as CSV.

Two walls, each enough on its own for the files gridline keeps: only a single plain query is accepted
(DuckDB's parser says it is a SELECT: no COPY, ATTACH, EXPORT, PRAGMA, SET, and no EXPLAIN, which can
wrap any of them), and the connection it runs on can read nothing but the published marts and the log's
batch files, write nothing, and load no extension (:func:`gridline.publish.contained_connection`).
"""

from __future__ import annotations

import csv
import sys
from typing import TextIO

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import contained_connection


def run_query(settings: Settings, sql: str, out: TextIO = sys.stdout) -> int:
    """Write the result of one read-only statement as CSV with a header; returns the row count."""
    con, marts_unavailable = contained_connection(settings, settings.published_db)
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise GridlineError(f"cannot parse the query: {_first_line(exc)}") from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise GridlineError(
                "gridline sql answers exactly one read-only query (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE)"
            )
        try:
            result = con.execute(sql)
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([column[0] for column in result.description])
            rows = 0
            while batch := result.fetchmany(10_000):
                writer.writerows(batch)
                rows += len(batch)
        except duckdb.Error as exc:
            if marts_unavailable and "marts" in sql.lower():
                raise GridlineError(marts_unavailable) from None
            raise GridlineError(f"query failed: {_first_line(exc)}") from None
        return rows
    finally:
        con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
