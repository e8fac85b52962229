"""A dbt-duckdb plugin: the DuckDB settings of a build that differ between nights and full builds.

- Vacuuming: with ``GRIDLINE_BUILD_VACUUM=off`` the build's checkpoints leave deleted rows for a later
  build to vacuum (gridline/build_storage.py says when).
- The cache: dbt opens a cursor for each model and each test it runs, and dbt-duckdb calls
  ``configure_cursor`` on it before the node's first statement. When the build runs one node at a time
  (``GRIDLINE_BUILD_THREADS`` is 1, the setting the profile takes its threads from), nothing else runs
  on the database then, so the table blocks the nodes before it read can be dropped
  (gridline/block_cache.py). A night's memory is then what its largest node needs, not everything the
  night has read. Each release is written to dbt.log.

Both are read here rather than set in the profile: dbt parses the whole project again when anything in
the profile's connection differs from its last run (3 s at city scale), and a night would differ from
the full build before it. Named in dbt_project/profiles.yml; dbt imports it from the environment gridline
is installed in.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

from gridline.block_cache import release_cached_blocks
from gridline.config import BUILD_THREADS_ENV, BUILD_VACUUM_ENV

logger = AdapterLogger("gridline")


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.vacuum = os.environ.get(BUILD_VACUUM_ENV, "on") != "off"
        self.release = os.environ.get(BUILD_THREADS_ENV) == "1"
        self.memory_limit = (self.creds.settings or {}).get("memory_limit") if self.creds else None

    def configure_connection(self, conn: Any) -> None:
        if not self.vacuum:
            conn.execute("set max_vacuum_tasks = 0")

    def configure_cursor(self, cursor: Any) -> None:
        if not (self.release and self.memory_limit):
            return
        released = release_cached_blocks(cursor, self.memory_limit)
        if released.cached_mib:
            logger.debug(
                f"released {released.released_mib} of {released.cached_mib} MiB of cached table blocks"
            )
