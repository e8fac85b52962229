"""Write-audit-publish through `gridline`: a bad batch is stopped, readers never see a half build."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from ingestion.sources.reading import detect_encoding
from tests.conftest import REPO, gridline_cli

# A reader as an analyst would be one: open the published marts read-only, query, close, again.
READER = """
import sys, time
from pathlib import Path
from gridline.config import Settings
from gridline.publish import read_only_connection

settings, stop = Settings(home=Path(sys.argv[1])), Path(sys.argv[2])
while not stop.exists():
    try:
        con = read_only_connection(settings)
        cases = con.sql("select count(*) from marts.cases").fetchall()[0][0]
        marts = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        con.close()
        print("ok", cases, marts[0][0], flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, str(exc).splitlines()[0], flush=True)
    time.sleep(0.05)
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cases(home: Path) -> int:
    return int(gridline_cli("sql", "select count(*) as n from marts.cases", env_home=home).stdout.split()[1])


def _broken_copy(source: Path, target: Path) -> None:
    """The export as a broken night would deliver it: most orders without category and place."""
    encoding = detect_encoding(source)
    with open(source, encoding="utf-8-sig" if encoding == "utf-8" else encoding) as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows):
        if i % 5:
            for column in ("诉求分类", "区县", "街道", "社区", "网格"):
                row[column] = ""
    with open(target, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_bad_batch_stopped_readers_undisturbed_retraction_recovers(tmp_path, tiny_landing):
    home = tmp_path / "home"
    folders = sorted(p for p in (tiny_landing / "hotline").iterdir() if p.is_dir())
    history = [str(f) for d in folders[-3:-1] for f in sorted(d.glob("*.csv"))]  # two months suffice
    tonight = sorted(folders[-1].glob("*.csv"))[-1]

    # 1. the history publishes
    gridline_cli("ingest", *history, env_home=home)
    gridline_cli("run", env_home=home)
    published = home / "warehouse" / "published.duckdb"
    before, old_cases = _sha(published), _cases(home)

    # 2. a bad night: the audit stops it, the published marts stay byte-identical and queryable
    _broken_copy(tonight, tmp_path / "12345_broken.csv")
    gridline_cli("ingest", str(tmp_path / "12345_broken.csv"), env_home=home)
    failed = gridline_cli("run", env_home=home, check=False)
    assert failed.returncode == 1
    error = failed.stderr.strip().splitlines()[-1]
    assert error.startswith("gridline: error: audit of new batches failed, nothing published")
    assert "batch_arrivals" in error and "lacks_category" in error
    page = Path(error.rsplit("— see ", 1)[1])
    assert page.suffix == ".html" and page.exists() and "batch_arrivals" in str(page)
    assert _sha(published) == before and _cases(home) == old_cases
    bad_batch = next(
        line.split("\t")[0]
        for line in gridline_cli("batches", "list", env_home=home).stdout.splitlines()
        if line.split("\t")[3] == "flagged"
    )

    # 3. the next good delivery publishes (the flagged batch held back) while a reader queries in a loop
    gridline_cli("ingest", str(tonight), env_home=home)
    stop = tmp_path / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(home), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        good = gridline_cli("run", env_home=home)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert f"held back (flagged by the audit, see `gridline batches list`): {bad_batch}" in good.stderr
    new_cases = _cases(home)
    assert new_cases > old_cases
    seen = [line.split() for line in out.splitlines()]
    assert not err.strip() and seen and all(s[0] == "ok" for s in seen), (out[-2000:], err[-2000:])
    marts = int(seen[-1][2])
    assert {(int(s[1]), int(s[2])) for s in seen} <= {(old_cases, marts), (new_cases, marts)}
    assert int(seen[0][1]) == old_cases and int(seen[-1][1]) == new_cases and len(seen) > 20

    # 4. the operator retracts the bad batch; the next run rebuilds without it and publishes
    gridline_cli("batches", "retract", bad_batch, "--reason", "categories and places blanked", env_home=home)
    after = gridline_cli("run", env_home=home)
    assert "held back" not in after.stderr and "published" in after.stderr
    assert _cases(home) == new_cases
    reports = sorted((home / "runs").glob("*.json"))
    last = json.loads(reports[-1].read_text())
    assert last["outcome"] == "published" and last["full_refresh"] and last["held_batches"] == []
    statuses = [
        line.split("\t")[3] for line in gridline_cli("batches", "list", env_home=home).stdout.splitlines()
    ]
    assert statuses[1:] == ["passed", "retracted", "system", "passed", "system"]


def test_a_mart_of_days_is_published_by_quarter_and_a_night_rewrites_only_its_quarter(tmp_path):
    import duckdb

    from gridline.config import Settings
    from gridline.publish import build_partitions, publish, read_only_connection

    settings = Settings(home=tmp_path / "home")
    settings.warehouse_dir.mkdir(parents=True)
    build = settings.warehouse_dir / "build.duckdb"

    def built(sql: str) -> dict:
        con = duckdb.connect(str(build))
        con.execute("create schema if not exists marts")
        con.execute(sql)
        con.close()
        con = duckdb.connect()
        con.execute(f"attach '{build}' as build (read_only)")
        partitions = build_partitions(con, "build")
        con.close()
        return partitions

    days = built(
        """create table marts.worker_days as select 'w1' as worker_key, d::date as local_day, 1 as visits
           from range(date '2025-01-01', date '2025-07-01', interval 1 day) t(d)"""
    )
    assert sorted(part for _, part in days) == ["2025Q1", "2025Q2"]
    publish(settings, build, "night1", days)
    first = {p.name for p in (settings.warehouse_dir / "marts" / "worker_days").iterdir()}

    night = built("update marts.worker_days set visits = 2 where local_day = date '2025-06-30'")
    publish(settings, build, "night2", night)
    files = {p.name for p in (settings.warehouse_dir / "marts" / "worker_days").iterdir()}
    assert first == {"2025Q1-night1.parquet", "2025Q2-night1.parquet"}
    # the changed quarter only is written again (the previous publication's file is kept for its readers)
    assert files == first | {"2025Q2-night2.parquet"}
    con = read_only_connection(settings)
    assert con.sql("select count(*), sum(visits) from marts.worker_days").fetchall() == [(181, 182)]
    con.close()


def test_fingerprinting_every_mart_leaves_none_of_their_blocks_in_memory(tmp_path):
    """Every row of every mart is read to fingerprint the partitions; given the connection's memory
    limit, the blocks read are dropped mart by mart instead of staying for the rest of the run."""
    import duckdb

    from gridline.publish import build_partitions

    build = tmp_path / "build.duckdb"
    con = duckdb.connect(str(build))
    con.execute("create schema marts")
    for mart in ("cases", "grid_submissions"):
        con.execute(
            f"""create table marts.{mart} as
                select i as id, 2025 || 'Q' || (1 + i % 4) as quarter,
                       md5(i::varchar) || md5((i + 7)::varchar) as text
                from range(600000) r(i)"""
        )
    con.close()

    def fingerprinted(memory_limit: str | None) -> tuple[dict, int]:
        con = duckdb.connect(config={"memory_limit": "1GB"})
        con.execute(f"attach '{build}' as build (read_only)")
        partitions = build_partitions(con, "build", memory_limit=memory_limit)
        cached = con.sql(
            """select coalesce(sum(memory_usage_bytes), 0) // 1048576 from duckdb_memory()
               where tag = 'BASE_TABLE'"""
        ).fetchall()[0][0]
        con.close()
        return partitions, cached

    kept, cached_kept = fingerprinted(None)
    dropped, cached_dropped = fingerprinted("1GB")
    assert dropped == kept and len(kept) == 8
    assert cached_kept >= 30 and cached_dropped <= 5
