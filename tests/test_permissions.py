"""$GRIDLINE_HOME and everything in it are private to their owner, whatever the caller's umask."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.conftest import BIN, TEST_KEY


def _loose(home: Path) -> list[str]:
    """Paths under ``home`` (and itself) that anyone but the owner may read, write or enter."""
    paths = [home, *home.rglob("*")]
    return [
        f"{p} {stat.filemode(p.lstat().st_mode)}"
        for p in paths
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


def _gridline_with_umask_022(home: Path, *args: str) -> None:
    env = {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": TEST_KEY}
    command = "umask 022 && exec " + " ".join(f"'{a}'" for a in (str(BIN / "gridline"), *args))
    subprocess.run(["sh", "-c", command], env=env, check=True, capture_output=True)


def test_a_home_made_under_umask_022_is_private(tmp_path, tiny_landing):
    home = tmp_path / "home"
    files = [str(p) for p in sorted((tiny_landing / "volunteer").glob("*/*"))[:2]]
    _gridline_with_umask_022(home, "init", "--local-key")
    _gridline_with_umask_022(home, "ingest", "--stream", "volunteer", *files)
    _gridline_with_umask_022(home, "sql", "select count(*) from log.events")
    assert (home / "log" / "batches").exists() and _loose(home) == []


def test_an_existing_open_home_is_closed(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    _gridline_with_umask_022(home, "init")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_a_published_home_is_private(published_home):
    assert _loose(published_home) == []
