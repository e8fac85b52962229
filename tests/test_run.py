"""Build → audit → publish through the `gridline` command, and read-only queries on the result."""

from __future__ import annotations

import csv
import io
import json
import re

from tests.conftest import block_releases, gridline_cli, latest_dbt_log
from tests.demo_reference import import_demo_reference


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_ingest_run_sql_end_to_end(tmp_path, tiny_landing):
    home = tmp_path / "home"
    files = [str(p) for p in sorted((tiny_landing / "hotline").glob("*/*.*"))]
    truth = json.loads((tiny_landing / "truth.json").read_text(encoding="utf-8"))
    malformed = sum(1 for m in truth["malformed"] if m["stream"] == "hotline")
    import_demo_reference(tiny_landing, home)
    first = gridline_cli("ingest", *files, env_home=home)
    assert "appended" in first.stderr and f"{malformed} quarantined" in first.stderr

    before = _csv(gridline_cli("sql", "select count(*) as n from log.events", env_home=home).stdout)
    assert int(before[0]["n"]) > 0  # the log answers before the first publication

    # the one run of the suite that runs the dbt unit tests (tests/conftest.py leaves them out elsewhere)
    run = gridline_cli("run", env_home=home, DBT_EXCLUDE_RESOURCE_TYPES="")
    # a run says what it does and where the results are, and nothing else: no library's warnings (GX once
    # imported pyspark, whose warnings about the pandas version reached every audited run's output)
    assert "Warning" not in run.stderr and run.stderr.splitlines()[-1].startswith("data docs: "), run.stderr
    build_log = latest_dbt_log(home, "build --full-refresh")
    defined = int(re.search(r"Found .* (\d+) unit tests", build_log).group(1))
    assert defined >= 20 and len(re.findall(r" PASS \S+::\S+ ", build_log)) == defined
    # the docs read the build's own snapshot of the log, so dbt parses nothing again for them (nor, after
    # them, for the next night's build)
    assert "no changes found, skipping parsing" in latest_dbt_log(home, "docs generate --static --no-compile")
    events = int(
        _csv(gridline_cli("sql", "select count(*) as n from log.events", env_home=home).stdout)[0]["n"]
    )
    gridline_cli("ingest", *files, env_home=home)
    again = int(
        _csv(gridline_cli("sql", "select count(*) as n from log.events", env_home=home).stdout)[0]["n"]
    )
    assert events > 0 and again == events

    tickets = _csv(gridline_cli("sql", "select * from marts.problem_class_tickets", env_home=home).stdout)
    assert len(tickets) > 0
    planted = {(c["area_code"], c["category_code"]) for c in truth["classes"] if c["area_level"] == "grid"}
    found = {(t["area_code"], t["category_code"]) for t in tickets}
    assert planted and planted <= found  # every planted grid-level class surfaces as a ticket

    cases = _csv(gridline_cli("sql", "select case_id, stream from marts.cases", env_home=home).stdout)
    assert len(cases) == truth["counts"]["hotline_orders"]
    assert all(c["case_id"].startswith("12345:HX") for c in cases)


def test_sql_refuses_writes_with_one_line(tmp_path, published_home):
    home = published_home
    proc = gridline_cli("sql", "delete from marts.cases", env_home=home, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "read-only" in proc.stderr
    copy = gridline_cli("sql", f"copy (select 1) to '{tmp_path / 'x.csv'}'", env_home=home, check=False)
    assert copy.returncode != 0 and not (tmp_path / "x.csv").exists()


def test_run_on_an_empty_log_is_a_clear_error(tmp_path):
    proc = gridline_cli("run", env_home=tmp_path / "home", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gridline: error: the event log") and proc.stderr.count("\n") == 1


def test_what_forces_a_full_refresh():
    """Incremental models catch up only from a completed build of the same project and decisions, with
    no built batch now excluded and nothing older than the newest built batch to add."""
    from gridline.run import _needs_full_refresh

    built = {"batches": ["b1", "b3"], "decisions": 0, "project": "p1"}
    tonight = {**built, "batches": ["b1", "b3", "b4"]}
    assert _needs_full_refresh(built, tonight, set(), requested=False) is False
    assert _needs_full_refresh(built, tonight, set(), requested=True) is True
    assert _needs_full_refresh(None, tonight, set(), requested=False) is True  # no completed build
    assert _needs_full_refresh(built, {**tonight, "project": "p2"}, set(), requested=False) is True
    assert _needs_full_refresh(built, {**tonight, "decisions": 1}, set(), requested=False) is True
    assert _needs_full_refresh(built, {**tonight, "batches": ["b1"]}, {"b3"}, requested=False) is True
    assert _needs_full_refresh(built, {**tonight, "batches": ["b1", "b2", "b3"]}, set(), False) is True
    # a Spark build is always whole (its Parquet tables cannot replace rows), and so is the build after it
    assert _needs_full_refresh(built, {**tonight, "engine": "spark"}, set(), requested=False) is True
    spark_built = {**built, "engine": "spark"}
    assert _needs_full_refresh(spark_built, {**tonight, "engine": "duckdb"}, set(), requested=False) is True


def test_a_run_with_nothing_new_keeps_the_publication_and_a_new_reference_rebuilds(
    tmp_path, tiny_landing, published_home
):
    """Same batches, decisions, project, reference and zone as the publication: the run leaves the
    published catalog and its files alone (not even rewritten); a new reference version is new input,
    so it builds, and publishes only the partitions it changed."""
    import shutil

    from tests.demo_reference import reference_paths

    home = tmp_path / "home"
    shutil.copytree(published_home, home, symlinks=True)
    published = home / "warehouse" / "published.duckdb"
    before = published.stat()
    files = {p: p.stat().st_mtime_ns for p in (home / "warehouse" / "marts").rglob("*.parquet")}
    cases = gridline_cli("sql", "select count(*) as n from marts.cases", env_home=home).stdout

    idle = gridline_cli("run", env_home=home)
    assert "up to date, nothing new to build" in idle.stderr and "cases 1," in idle.stderr
    assert (published.stat().st_ino, published.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert files and {p: p.stat().st_mtime_ns for p in files} == files
    assert gridline_cli("sql", "select count(*) as n from marts.cases", env_home=home).stdout == cases

    areas = reference_paths(tiny_landing)["areas"]
    gridline_cli("reference", "import", "areas", str(areas), env_home=home)
    rebuilt = gridline_cli("run", env_home=home)
    assert "\npublished " in rebuilt.stderr and published.stat().st_ino != before.st_ino
    # a night: built incrementally, one model at a time, each starting without the table blocks DuckDB
    # cached for the ones before it (gridline/dbt_plugin.py)
    night = json.loads(max((home / "runs").glob("*.json")).read_text())
    assert night["full_refresh"] is False
    assert block_releases(home, "build --exclude-resource-type unit_test")
