"""``gridline sql``: read-only questions to the published marts and the event log, answered as CSV."""

from __future__ import annotations

import csv
import sys
from typing import TextIO

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import read_only_connection

_READ_ONLY = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def run_query(settings: Settings, sql: str, out: TextIO = sys.stdout) -> int:
    """Write the result of one read-only statement as CSV with a header; returns the row count."""
    con = read_only_connection(settings)
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise GridlineError(f"cannot parse the query: {str(exc).splitlines()[0]}") from None
        if len(statements) != 1 or statements[0].type not in _READ_ONLY:
            raise GridlineError(
                "gridline sql answers exactly one read-only query (SELECT, WITH, DESCRIBE, ...)"
            )
        try:
            result = con.execute(sql)
        except duckdb.Error as exc:
            raise GridlineError(f"query failed: {str(exc).splitlines()[0]}") from None
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([column[0] for column in result.description])
        rows = 0
        while batch := result.fetchmany(10_000):
            writer.writerows(batch)
            rows += len(batch)
        return rows
    finally:
        con.close()
