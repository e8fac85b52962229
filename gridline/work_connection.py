"""The in-memory DuckDB that gridline's own steps work in: the audits and the publication.

Each is held to the build's memory ceiling (``GRIDLINE_BUILD_MEMORY``) and spills past it into a folder
of its own under the warehouse. DuckDB's default for an in-memory database is neither: it takes 80 % of
the machine, and it spills into ``.tmp`` under the process's working directory (an Airflow worker's, or
wherever the command was started), outside the home whose data it holds.
"""

from __future__ import annotations

import duckdb

from gridline.config import Settings


def work_connection(settings: Settings, step: str) -> duckdb.DuckDBPyConnection:
    """A connection for ``step`` (``audit``, ``publish``): spilling under ``warehouse/<step>-spill``."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # DuckDB names its spill files by process and removes the folder when the connection closes
    spill = settings.warehouse_dir / f"{step}-spill"
    return duckdb.connect(config={"memory_limit": settings.build_memory, "temp_directory": str(spill)})
