"""A run builds exactly the batches it audited, and refuses batch files that changed after commit."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gridline.batches import list_batches
from gridline.run import build_audit_publish
from ingestion.ingest import IngestRequest, ingest
from tests.conftest import gridline_cli


def _hotline_days(landing: Path) -> list[list[Path]]:
    return [sorted(day.glob("*.*")) for day in sorted((landing / "hotline").iterdir())]


def _published_case_ids(settings) -> set[str]:
    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        return {case_id for (case_id,) in con.sql("select case_id from marts.cases").fetchall()}
    finally:
        con.close()


def _received_in(settings, batch_id: str) -> set[str]:
    events = settings.log_dir / "batches" / batch_id / "events.parquet"
    rows = duckdb.sql(
        f"select entity_id from read_parquet('{events}') where event_type = 'case.received'"
    ).fetchall()
    return {entity_id for (entity_id,) in rows}


def test_a_batch_committed_during_the_build_waits_for_the_next_run(settings, tiny_landing):
    *earlier, last = _hotline_days(tiny_landing)
    ingest(IngestRequest(paths=[f for day in earlier for f in day]), settings)
    late: list[str] = []

    def commit_a_batch_when_the_build_starts(step: str) -> None:
        if step.startswith("dbt build") and not late:
            late.append(ingest(IngestRequest(paths=last), settings).batch_id)

    build_audit_publish(settings, progress=commit_a_batch_when_the_build_starts)
    late_cases = _received_in(settings, late[0])
    assert late_cases, "the late day brings new orders"
    assert not late_cases & _published_case_ids(settings)  # unaudited: not published
    assert {b.batch_id: b.status for b in list_batches(settings)}[late[0]] == "not audited"

    report = build_audit_publish(settings)
    assert report.audited_batches == {late[0]: "passed"}
    assert late_cases <= _published_case_ids(settings)


def _damage(path: Path, at: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(at)
        handle.write(data)


def test_damage_inside_a_committed_batch_stops_the_run_naming_it(tmp_path, published_home):
    home = tmp_path / "home"
    shutil.copytree(published_home, home, symlinks=True)
    published = (home / "warehouse" / "published.duckdb").read_bytes()
    batch = sorted((home / "log" / "batches").glob("*/events.parquet"))[0]
    _damage(batch, batch.stat().st_size // 2, bytes(2048))  # same size, other bytes

    run = gridline_cli("run", "--full-refresh", env_home=home, check=False)
    assert run.returncode == 1 and run.stderr.count("gridline: error:") == 1
    assert f"batch {batch.parent.name} is damaged" in run.stderr and "Traceback" not in run.stderr
    assert (home / "warehouse" / "published.duckdb").read_bytes() == published

    verify = gridline_cli("log", "verify", env_home=home, check=False)
    assert verify.returncode == 1 and batch.parent.name in verify.stderr


def test_a_batch_replaced_by_a_valid_smaller_file_is_named(tmp_path, published_home):
    home = tmp_path / "home"
    shutil.copytree(published_home, home, symlinks=True)
    batch = sorted((home / "log" / "batches").glob("*/events.parquet"))[0]
    duckdb.sql(f"copy (select * from read_parquet('{batch}') limit 5) to '{tmp_path / 'five.parquet'}'")
    shutil.copyfile(tmp_path / "five.parquet", batch)

    run = gridline_cli("run", env_home=home, check=False)
    assert run.returncode == 1 and f"batch {batch.parent.name} is damaged" in run.stderr
    now = datetime.now(UTC).isoformat()
    replay = gridline_cli("run", "--as-of", now, env_home=home, check=False)
    assert replay.returncode == 1 and f"batch {batch.parent.name} is damaged" in replay.stderr


def test_a_corrupt_published_warehouse_is_rebuilt_by_the_next_run(tmp_path, published_home):
    home = tmp_path / "home"
    shutil.copytree(published_home, home, symlinks=True)
    published = home / "warehouse" / "published.duckdb"
    cases = gridline_cli("sql", "select count(*) as n from marts.cases", env_home=home).stdout
    _damage(published, 0, bytes(4096))

    run = gridline_cli("run", env_home=home)
    assert "publishing it again" in run.stderr
    assert gridline_cli("sql", "select count(*) as n from marts.cases", env_home=home).stdout == cases
    verify = gridline_cli("log", "verify", env_home=home)
    assert verify.returncode == 0


def test_a_built_batch_that_is_now_excluded_forces_a_rebuild():
    """Incremental models cannot take events back out: excluding a batch they built means rebuilding."""
    from gridline.run import _needs_full_refresh

    built = {"decisions": 0, "project": "p", "batches": ["b1", "b2"]}
    tonight = {**built, "batches": ["b1", "b2", "b3"]}
    assert _needs_full_refresh(built, tonight, {"b4"}, requested=False) is False
    assert _needs_full_refresh(built, {**built, "batches": ["b1"]}, {"b2"}, requested=False) is True
    # a batch older than the newest built one (the staged log appends only newer ones) rebuilds
    assert _needs_full_refresh(built, {**tonight, "batches": ["b0", "b1", "b2"]}, set(), False) is True
