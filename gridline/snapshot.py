"""What a build reads: a checked, fixed set of committed batches.

A run (or a replay) takes the batches committed when it starts, checks that their files are still what
was committed, and hands dbt a folder of links to exactly those files. A batch committed while the build
runs is not in the folder, so it cannot be published before the next run has audited it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.integrity import VerifiedCache, damage_message, full_problem
from ingestion.log import EventLog, read_manifest


def verify_batches(settings: Settings, log: EventLog, excluded: set[str]) -> None:
    """Stop on the first batch the build would read whose files differ from what was committed.

    Batches new to this home, or whose files' size or mtime moved, are re-hashed in full; the others
    were hashed by an earlier run and are checked by size (``ingestion.integrity.VerifiedCache``)."""
    cache = VerifiedCache(settings.warehouse_dir / "verified.json")
    try:
        for batch_dir in log.batch_dirs():
            if batch_dir.name in excluded:
                continue  # a retracted or held batch is not read; retracting is how to get past damage
            problem = cache.problem(batch_dir, read_manifest(batch_dir))
            if problem:
                raise GridlineError(damage_message(batch_dir.name, problem))
    finally:
        cache.save()


def snapshot_files(folder: Path) -> str:
    """The pattern dbt reads the batch files of a snapshot folder by (``GRIDLINE_LOG_FILES``)."""
    return str(folder / "*.parquet")


def link_build_snapshot(log: EventLog, batch_ids: list[str], folder: Path) -> str:
    """A folder of links to exactly the batch files a build reads; returns the pattern dbt reads."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for batch_id in batch_ids:
        (folder / f"{batch_id}.parquet").symlink_to(log.batches_dir / batch_id / "events.parquet")
    return snapshot_files(folder)


def verify_log(settings: Settings) -> tuple[int, list[str]]:
    """Re-hash every committed batch; returns how many were checked and one line per damaged batch."""
    log = EventLog(settings.log_dir).snapshot()
    problems = []
    for batch_dir in log.batch_dirs():
        problem = full_problem(batch_dir, read_manifest(batch_dir))
        if problem:
            problems.append(damage_message(batch_dir.name, problem))
    return len(log.batch_dirs()), problems
