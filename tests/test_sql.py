"""`gridline sql` is read-only and contained: every probe of the issue is refused and nothing on disk
changes; the log answers before the first publication; a damaged batch or warehouse costs one line."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.conftest import gridline_cli


def _tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content digest: what a probe must not change."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture
def copied_home(tmp_path, published_home) -> Path:
    """A private copy of the shared tiny publication, with a key file as `init --local-key` makes."""
    home = tmp_path / "home"
    shutil.copytree(published_home, home, symlinks=True)
    (home / "pii.key").write_text("0123456789abcdef\n")
    return home


def _probes(home: Path) -> list[str]:
    published = home / "warehouse" / "published.duckdb"
    batch = next((home / "log" / "batches").glob("*/events.parquet"))
    return [
        f"EXPLAIN ANALYZE COPY (select 'x' a) TO '{published}' (FORMAT csv)",
        f"EXPLAIN ANALYZE COPY (select * from log.events limit 5) TO '{batch}' (FORMAT parquet)",
        f"COPY (select 1 as a) TO '{batch}' (FORMAT parquet, use_tmp_file false)",
        "select content from read_text('/etc/shadow')",
        "select * from read_csv('/etc/passwd')",
        f"select content from read_text('{home / 'pii.key'}')",
        f"select * from read_blob('{home / 'pii.key'}')",
        "select * from glob('/etc/*')",
        "select * from 'http://127.0.0.1:9/x.csv'",
        "select * from read_parquet('https://127.0.0.1:9/x.parquet')",
        f"ATTACH '{published}' AS rw",
        f"ATTACH '{home / 'other.duckdb'}' AS other",
        f"EXPORT DATABASE '{home / 'exported'}'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA enable_profiling",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "select * from query('copy (select 1) to ''/tmp/gridline-probe.csv''')",
        "create table log.kept as select 1 as a",
        "insert into marts.cases select * from marts.cases limit 1",
        "select 1; select 2",
        "CHECKPOINT",
    ]


def test_every_probe_is_refused_and_nothing_changes(copied_home):
    before = _tree_digest(copied_home)
    for probe in _probes(copied_home):
        proc = gridline_cli("sql", probe, env_home=copied_home, check=False)
        assert proc.returncode != 0, f"accepted: {probe}\n{proc.stdout[:300]}"
        assert proc.stderr.startswith("gridline: error:") and proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr
    assert _tree_digest(copied_home) == before
    assert not Path("/tmp/gridline-probe.csv").exists()
    assert not (copied_home / "other.duckdb").exists() and not (copied_home / "exported").exists()


def test_plain_questions_are_answered(copied_home):
    cases = gridline_cli("sql", "select count(*) as n from marts.cases", env_home=copied_home).stdout
    events = gridline_cli(
        "sql", "with e as (select * from log.events) select count(*) as n from e", env_home=copied_home
    ).stdout
    assert int(cases.splitlines()[1]) > 0 and int(events.splitlines()[1]) > int(cases.splitlines()[1])
    described = gridline_cli("sql", "describe marts.cases", env_home=copied_home).stdout
    assert "case_id" in described


def test_the_log_answers_before_the_first_publication(home, tiny_landing):
    files = sorted(str(p) for p in (tiny_landing / "volunteer").glob("*/*") if p.is_file())[:1]
    gridline_cli("ingest", "--stream", "volunteer", *files, env_home=home)
    events = gridline_cli("sql", "select count(*) as n from log.events", env_home=home).stdout
    quarantined = gridline_cli("sql", "select count(*) as n from log.quarantine", env_home=home).stdout
    assert int(events.splitlines()[1]) > 0 and quarantined.splitlines()[0] == "n"
    proc = gridline_cli("sql", "select count(*) from marts.cases", env_home=home, check=False)
    assert proc.returncode == 1 and "nothing published yet" in proc.stderr


def test_a_truncated_batch_fails_only_the_queries_that_read_it(copied_home):
    batch = sorted((copied_home / "log" / "batches").glob("*/events.parquet"))[0]
    with open(batch, "r+b") as handle:
        handle.truncate(batch.stat().st_size // 2)
    marts = gridline_cli("sql", "select count(*) as n from marts.cases", env_home=copied_home)
    assert int(marts.stdout.splitlines()[1]) > 0
    proc = gridline_cli("sql", "select count(*) from log.events", env_home=copied_home, check=False)
    assert proc.returncode == 1 and batch.parent.name in proc.stderr and proc.stderr.count("\n") == 1


def test_a_corrupt_published_warehouse_is_one_line(copied_home):
    published = copied_home / "warehouse" / "published.duckdb"
    with open(published, "r+b") as handle:
        handle.seek(0)
        handle.write(b"\0" * 8192)
    proc = gridline_cli("sql", "select count(*) from marts.cases", env_home=copied_home, check=False)
    assert proc.returncode == 1 and "damaged" in proc.stderr and proc.stderr.count("\n") == 1
    events = gridline_cli("sql", "select count(*) as n from log.events", env_home=copied_home).stdout
    assert int(events.splitlines()[1]) > 0


def test_a_moved_home_reads_its_own_published_files(copied_home, tmp_path):
    """The catalog's views name files by absolute path; gridline resolves them in the home it runs in,
    so a home copied elsewhere answers from its own files even when the original's are gone."""
    moved = tmp_path / "moved"
    shutil.copytree(copied_home, moved, symlinks=True)
    expected = gridline_cli("sql", "select count(*) as n from marts.cases", env_home=copied_home).stdout
    shutil.rmtree(copied_home / "warehouse" / "marts")
    assert gridline_cli("sql", "select count(*) as n from marts.cases", env_home=moved).stdout == expected
    proc = gridline_cli("sql", "select count(*) from marts.cases", env_home=copied_home, check=False)
    assert proc.returncode == 1 and "damaged" in proc.stderr and proc.stderr.count("\n") == 1
