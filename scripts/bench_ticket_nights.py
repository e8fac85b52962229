"""What the ticket models cost on a full build and on a night, measured on a built warehouse.

The ticket models read one table, ``intermediate.int_cases__service_levels``, and are incremental by
case and by quarter (``dbt_project/macros/ticket_quarters.sql``). On a copy of a built warehouse (a
``city``-scale one for the nightly budget of issue 16), the script

1. takes the last local day of cases out of that table and builds the ticket models from scratch
   (``--full-refresh``): a year less its last day;
2. puts the day back and builds them incrementally: the night;
3. builds them again with nothing new;
4. builds the whole year from scratch on a second copy, and checks that the night's tickets marts equal it.

It prints each step's seconds (the sum of the ticket models' own times from dbt's log,
and dbt's wall clock), the quarters each incremental step rebuilt and the slowest models. The warehouse
given is only read. Not a test: the seconds depend on the machine.

    .venv/bin/python scripts/bench_ticket_nights.py --home HOME   # HOME's build database
    make bench-ticket-nights HOME=...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.config import Settings, load_settings  # noqa: E402
from gridline.publish import build_db  # noqa: E402
from gridline.warehouse import run_dbt  # noqa: E402

TICKET_MODELS = "int_ticket_cases__fingerprints+"
CASES = "intermediate.int_cases__service_levels"
MARTS = ("marts.problem_class_tickets", "marts.problem_class_ticket_cases")


def _ticket_models(manifest: dict) -> set[str]:
    """The ticket models: those under intermediate/tickets and marts/review."""
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node.get("resource_type") == "model"
        and (
            "/intermediate/tickets/" in node["original_file_path"]
            or "/marts/review/" in node["original_file_path"]
        )
    }


# dbt's log line for a built model: "... OK created sql incremental model intermediate.name ... [OK in 1.23s]"
_BUILT = re.compile(r"OK created sql \w+ model \w+\.(\w+) .*\[OK in ([0-9.]+)s")
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def ticket_model_seconds(home: Path) -> dict[str, float]:
    """Seconds of each ticket model in the last dbt invocation of ``home`` that built any, from dbt's log
    (``gridline run`` generates the docs after the build, which leaves no run results of the build)."""
    tickets = _ticket_models(json.loads((home / "dbt" / "target" / "manifest.json").read_text()))
    log = _COLOUR.sub("", (home / "dbt" / "logs" / "dbt.log").read_text())
    invocations = log.split("Running with dbt=")
    for invocation in reversed(invocations):
        built = {name: float(s) for name, s in _BUILT.findall(invocation) if name in tickets}
        if built:
            return built
    return {}


def _built_digests(database: Path) -> dict[str, str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return dict(
            con.sql(
                "select quarter, digest from intermediate.ticket_quarter_builds "
                "where model_name = 'int_ticket_cases__text_vectors'"
            ).fetchall()
        )
    finally:
        con.close()


def _hold_back_last_day(database: Path, timezone: str) -> str:
    """Keep every case aside and leave only those received before the last local day; returns the day."""
    con = duckdb.connect(str(database))
    try:
        kind = con.sql(
            "select table_type from information_schema.tables "
            "where table_schema = 'intermediate' and table_name = 'int_cases__service_levels'"
        ).fetchall()[0][0]
        con.execute(f"create table intermediate.bench_all_cases as select * from {CASES}")
        if kind == "VIEW":  # built as a view: the script needs a table it can cut
            con.execute(f"drop view {CASES}")
        else:
            con.execute(f"drop table {CASES}")
        day = con.sql(
            f"select max(cast(timezone('{timezone}', received_at) as date)) from intermediate.bench_all_cases"
        ).fetchall()[0][0]
        con.execute(
            f"""create table {CASES} as select * from intermediate.bench_all_cases
                where cast(timezone('{timezone}', received_at) as date) < date '{day}'"""
        )
        return str(day)
    finally:
        con.close()


def _restore_all(database: Path) -> int:
    con = duckdb.connect(str(database))
    try:
        before = con.sql(f"select count(*) from {CASES}").fetchall()[0][0]
        con.execute(f"delete from {CASES}")
        con.execute(f"insert into {CASES} select * from intermediate.bench_all_cases")
        return con.sql(f"select count(*) from {CASES}").fetchall()[0][0] - before
    finally:
        con.close()


def _build(settings: Settings, database: Path, full: bool) -> tuple[float, dict[str, float]]:
    args = ["run", "--select", TICKET_MODELS] + (["--full-refresh"] if full else [])
    started = time.monotonic()
    result = run_dbt(settings, database, args)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{result.output[-3000:]}")
    return wall, ticket_model_seconds(settings.home)


def _mart_differences(left: Path, right: Path) -> dict[str, int]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        return {
            mart: con.sql(
                f"""select count(*) from (
                      (select * from l.{mart} except all select * from r.{mart})
                      union all
                      (select * from r.{mart} except all select * from l.{mart}))"""
            ).fetchall()[0][0]
            for mart in MARTS
        }
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home", type=Path, help="a gridline home with a build database (default $GRIDLINE_HOME)"
    )
    parser.add_argument("--work", type=Path, help="folder for the copies (default: a temporary one, removed)")
    args = parser.parse_args()
    if args.home:
        os.environ["GRIDLINE_HOME"] = str(args.home)
    source = load_settings()
    if not build_db(source).exists():
        raise SystemExit(f"no build database in {source.home}: run `gridline run` there first")
    work = args.work or Path(tempfile.mkdtemp(prefix="gridline-ticket-nights-"))
    work.mkdir(parents=True, exist_ok=True)
    # dbt's artifacts go to a home of the script's own: the given home is only read
    settings = Settings(home=work / "home", timezone=source.timezone)
    night_db, full_db = work / "night.duckdb", work / "full.duckdb"
    try:
        shutil.copyfile(build_db(source), night_db)  # the whole warehouse: staging, intermediate, marts
        day = _hold_back_last_day(night_db, settings.timezone)
        cases = duckdb.connect(str(night_db), read_only=True)
        total = cases.sql(f"select count(*) from {CASES}").fetchall()[0][0]
        cases.close()
        rows: list[tuple[str, int, float, dict[str, float], list[str]]] = []

        wall, seconds = _build(settings, night_db, full=True)
        rows.append((f"full build, cases before {day}", total, wall, seconds, []))
        before = _built_digests(night_db)
        added = _restore_all(night_db)
        wall, seconds = _build(settings, night_db, full=False)
        after = _built_digests(night_db)
        rebuilt = sorted(q for q in after if before.get(q) != after[q])
        rows.append((f"night: + {day} ({added:,} cases)", total + added, wall, seconds, rebuilt))
        wall, seconds = _build(settings, night_db, full=False)
        rows.append(("night with nothing new", total + added, wall, seconds, []))

        shutil.copyfile(night_db, full_db)
        wall, seconds = _build(settings, full_db, full=True)
        rows.append(("full build, the whole year", total + added, wall, seconds, []))
        differences = _mart_differences(night_db, full_db)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)

    print("| step | cases | ticket models s | dbt wall s | quarters rebuilt | slowest models |")
    print("|---|---|---|---|---|---|")
    for name, count, wall, seconds, rebuilt in rows:
        slowest = ", ".join(f"{m} {s:.1f}" for m, s in sorted(seconds.items(), key=lambda i: -i[1])[:3])
        print(
            f"| {name} | {count:,} | {sum(seconds.values()):.1f} | {wall:.1f} | "
            f"{' '.join(rebuilt) or '—'} | {slowest} |"
        )
    same = all(n == 0 for n in differences.values())
    print(
        "night's tickets marts "
        + ("equal the full build's" if same else f"DIFFER from the full build's: {differences}")
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
