"""Running the dbt project against a chosen DuckDB file.

dbt runs as a child process with its own environment: the log location, the target file and any vars
are passed explicitly, telemetry is off, and nothing leaks between runs of a long-lived worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gridline import reference
from gridline.config import BUILD_THREADS_ENV, BUILD_VACUUM_ENV, Settings
from gridline.errors import GridlineError
from gridline.project_files import DBT_PROJECT_DIR, require_dbt_project


@dataclass
class DbtResult:
    command: str
    returncode: int
    output: str
    failures: list[str]


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(
    settings: Settings,
    target_db: Path,
    log_files: str,
    as_of: datetime | None = None,
    vacuum: bool = True,
    one_model_at_a_time: bool = False,
) -> dict[str, str]:
    """The environment of a dbt child process: ``log_files`` is the pattern of the batch files it reads
    (a run's snapshot folder of links, never the live log, so it builds only what was audited); the
    city's zone and its reference as of ``as_of`` (a replay's instant; the newest when None); whether
    the build's checkpoints vacuum deleted rows (gridline/build_storage.py); whether it builds one model
    at a time, dropping DuckDB's cached blocks between models (gridline/dbt_plugin.py)."""
    project = require_dbt_project()
    return {
        **os.environ,
        **({BUILD_THREADS_ENV: "1"} if one_model_at_a_time else {}),
        "GRIDLINE_LOG_DIR": str(settings.log_dir),
        "GRIDLINE_LOG_FILES": log_files,
        "GRIDLINE_TIMEZONE": settings.timezone,
        **{
            f"GRIDLINE_REFERENCE_{kind.upper()}": str(reference.effective_file(settings, kind, as_of))
            for kind in reference.KINDS
        },
        "GRIDLINE_BUILD_DB": str(target_db),
        BUILD_VACUUM_ENV: "on" if vacuum else "off",
        "GRIDLINE_ENGINE": settings.engine,
        "GRIDLINE_SPARK_DIR": str(settings.spark_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
        "DBT_TARGET_PATH": str(settings.home / "dbt" / "target"),
        "DBT_LOG_PATH": str(settings.home / "dbt" / "logs"),
    }


def run_dbt(
    settings: Settings,
    target_db: Path,
    args: list[str],
    dbt_vars: dict | None = None,
    echo: bool = False,
    log_files: str | None = None,
    vacuum: bool = True,
    one_model_at_a_time: bool = False,
) -> DbtResult:
    (settings.home / "dbt" / "target" / "run_results.json").unlink(missing_ok=True)
    command = [dbt_executable(), *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    try:
        proc = subprocess.run(
            command,
            env=dbt_env(
                settings,
                target_db,
                log_files or live_log_files(settings),
                vacuum=vacuum,
                one_model_at_a_time=one_model_at_a_time,
            ),
            cwd=DBT_PROJECT_DIR,
            capture_output=not echo,
            text=True,
        )
    except FileNotFoundError:
        raise GridlineError("dbt is not installed in this environment (run `make install`)") from None
    output = (proc.stdout or "") + (proc.stderr or "")
    failures = _failed_nodes(settings)
    return DbtResult(" ".join(args), proc.returncode, output, failures)


def live_log_files(settings: Settings) -> str:
    """Every committed batch file, including those committed while dbt runs: for builds outside a run
    (tests, experiments); a run passes its own snapshot instead."""
    return str(settings.log_dir / "batches" / "*" / "events.parquet")


def _failed_nodes(settings: Settings) -> list[str]:
    """Names and messages of the nodes that failed in the last invocation, from dbt's run_results."""
    path = settings.home / "dbt" / "target" / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text()).get("results", [])
    return [
        f"{r['unique_id']}: {(r.get('message') or r['status']).strip().splitlines()[0]}"
        for r in results
        if r.get("status") in ("error", "fail")
    ]
