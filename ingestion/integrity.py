"""Is a committed batch still what was committed? Digests and sizes of a batch's files, and their checks.

At commit the log records, in the batch's manifest under ``contents``, each data file's sha256, size in
bytes and row count. Three checks read it, from cheap to thorough:

- :func:`quick_problem`: every file present with its recorded size. Catches a truncated or replaced
  file without reading it; ``gridline sql`` uses it before exposing the log.
- :func:`full_problem`: sizes, then the sha256 of every byte. Catches an overwrite that keeps the size.
- :class:`VerifiedCache`: the size and modification time of files whose digest matched at some point.
  A run re-hashes only batches that are new to it or whose size or mtime moved since, so its cost
  follows what arrived, while ``gridline log verify`` re-hashes everything.

Batches committed before digests were recorded have no ``contents``; they are checked for presence only.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CHECKED_FILES = ("events.parquet", "quarantine.parquet")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def describe_contents(stage: Path, rows: dict[str, int]) -> dict[str, dict]:
    """The ``contents`` entry of a manifest for the data files in a batch folder about to be committed."""
    return {
        name: {"sha256": sha256_of(stage / name), "bytes": (stage / name).stat().st_size, "rows": rows[name]}
        for name in CHECKED_FILES
        if (stage / name).exists()
    }


def quick_problem(batch_dir: Path, manifest: dict) -> str | None:
    """What is wrong with a batch's files judged by presence and size alone, or None."""
    contents = manifest.get("contents")
    if contents is None:
        return None if (batch_dir / "events.parquet").exists() else "events.parquet is missing"
    for name, recorded in contents.items():
        path = batch_dir / name
        if not path.exists():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != recorded["bytes"]:
            return f"{name} has {size:,} bytes, its manifest says {recorded['bytes']:,}"
    return None


def full_problem(batch_dir: Path, manifest: dict) -> str | None:
    """What is wrong with a batch's files judged by every byte, or None."""
    problem = quick_problem(batch_dir, manifest)
    if problem:
        return problem
    for name, recorded in (manifest.get("contents") or {}).items():
        if sha256_of(batch_dir / name) != recorded["sha256"]:
            return f"{name} differs from the digest in its manifest (changed after commit)"
    return None


def damage_message(batch_id: str, problem: str) -> str:
    return (
        f"batch {batch_id} is damaged: {problem}; restore the batch folder from a backup, or retract it "
        f"(`gridline batches retract {batch_id} --reason ...`) and ingest its files again"
    )


class VerifiedCache:
    """Size and mtime of each batch file when its digest last matched, kept in one small JSON file."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries: dict[str, dict[str, list[int]]] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}  # a lost or damaged cache only costs a re-hash

    @staticmethod
    def _stamp(batch_dir: Path, manifest: dict) -> dict[str, list[int]]:
        stamps = {}
        for name in manifest.get("contents") or {}:
            stat = (batch_dir / name).stat()
            stamps[name] = [stat.st_size, stat.st_mtime_ns]
        return stamps

    def problem(self, batch_dir: Path, manifest: dict) -> str | None:
        """Check a batch, re-hashing it only when it is new to the cache or its files moved since."""
        problem = quick_problem(batch_dir, manifest)
        if problem:
            return problem
        if self.entries.get(batch_dir.name) == self._stamp(batch_dir, manifest):
            return None
        problem = full_problem(batch_dir, manifest)
        if problem is None:
            self.entries[batch_dir.name] = self._stamp(batch_dir, manifest)
        return problem

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.entries))
        os.replace(partial, self.path)
