"""Replay: the marts as they were built from the log at a past instant, into a file of their own.

``gridline run --as-of TS`` builds every dbt model from only the events recorded up to ``TS`` (the dbt var
``as_of``, which ``stg_log__events`` honours, so decisions about batches recorded later are ignored too)
into ``$GRIDLINE_HOME/replays/<TS>.duckdb``. The published marts, the candidate of the nightly run and
its dbt target folder are not touched, so a replay can run beside the nightly build.

Because the log is append-only and every mart is a projection of it, the replay of a publication's
instant reproduces that publication: use an instant after the publication's build read the log and
before the next batch was committed (the ``recorded_at`` of the newest event it saw is the exact one).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import seal
from gridline.warehouse import DBT_PROJECT_DIR, dbt_env, dbt_executable
from ingestion.log import EventLog


@dataclass
class ReplayReport:
    as_of: str
    database: Path
    counts: dict[str, int]


def parse_instant(text: str, timezone: str) -> datetime:
    """An ISO 8601 instant; without an offset it is read in the deployment's local time zone."""
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise GridlineError(
            f"--as-of {text!r} is not an ISO 8601 time (e.g. 2025-10-01T00:00:00+08:00)"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo(timezone))
    return instant.astimezone(UTC)


def replay_path(settings: Settings, as_of: datetime) -> Path:
    return settings.home / "replays" / f"{as_of:%Y%m%dT%H%M%S%fZ}.duckdb"


def _counts(database: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        return {t: con.sql(f"select count(*) from marts.{t}").fetchall()[0][0] for (t,) in tables}
    finally:
        con.close()


def replay(settings: Settings, as_of_text: str) -> ReplayReport:
    """Build the marts as of ``as_of_text`` into their own DuckDB file; returns where and what."""
    as_of = parse_instant(as_of_text, settings.timezone)
    if as_of > datetime.now(UTC):
        raise GridlineError(f"--as-of {as_of.isoformat()} is in the future: nothing is recorded there yet")
    if not EventLog(settings.log_dir).batch_dirs():
        raise GridlineError(f"the event log at {settings.log_dir} is empty: nothing to replay")
    target = replay_path(settings, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.stem + ".building.duckdb")
    for leftover in (building, building.with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)
    work = settings.home / "replays" / ".dbt"
    env = {
        **dbt_env(settings, building, as_of),
        # A folder of its own, so a replay never overwrites the nightly run's artefacts (or races them).
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    as_of_var = as_of.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    command = [dbt_executable(), "build", "--vars", f'{{"as_of": "{as_of_var}"}}']
    proc = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
    if proc.returncode != 0:
        building.unlink(missing_ok=True)
        lines = [
            line for line in (proc.stdout + proc.stderr).splitlines() if "ERROR" in line or "FAIL" in line
        ]
        raise GridlineError(f"replay as of {as_of_var} failed: {'; '.join(lines[:3]) or 'dbt build failed'}")
    seal(building)
    os.replace(building, target)
    return ReplayReport(as_of=as_of_var, database=target, counts=_counts(target))
