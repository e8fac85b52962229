"""The dbt warehouse on generated data: incremental folds equal a full refresh, tickets find the planted
classes, and the text signal is what finds them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from gridline.evaluate import evaluate
from gridline.reference import import_reference
from gridline.warehouse import run_dbt
from ingestion.ingest import IngestRequest, ingest
from tests.conftest import block_releases, gridline_cli, latest_dbt_log
from tests.demo_reference import reference_paths

# Build the models only: the tests of the models run in `gridline run` (tests/test_run.py).
MODELS_ONLY = ["build", "--exclude-resource-type", "test", "unit_test"]


def _landing_files(landing: Path, up_to: str | None = None, after: str | None = None) -> list[Path]:
    """Landing files whose delivery day (the folder name) is in the range."""
    files = []
    for path in sorted(landing.glob("*/*/*")):
        day = path.parent.name
        if (up_to is None or day <= up_to) and (after is None or day > after):
            files.append(path)
    return files


def _tables(database: Path) -> dict[str, list[str]]:
    """Each built table's columns, as expressions to compare: floating sums are compared to 9 places, the
    order in which a parallel aggregate adds them up being free."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.sql(
            """select table_schema || '.' || table_name,
                      list(case when data_type = 'DOUBLE' then 'round("' || column_name || '", 9)'
                                else '"' || column_name || '"' end order by ordinal_position)
               from information_schema.columns
               where table_schema in ('staging', 'intermediate', 'marts') group by 1"""
        ).fetchall()
        return dict(rows)
    finally:
        con.close()


def _differences(left: Path, right: Path, table: str, columns: list[str]) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        cols = ", ".join(columns)
        return con.sql(
            f"""select count(*) from (
                  (select {cols} from l.{table} except all select {cols} from r.{table})
                  union all
                  (select {cols} from r.{table} except all select {cols} from l.{table}))"""
        ).fetchall()[0][0]
    finally:
        con.close()


def test_incremental_run_equals_full_refresh_with_late_events(settings, tiny_landing, tmp_path):
    first = _landing_files(tiny_landing, up_to="2025-09-30")
    later = _landing_files(tiny_landing, after="2025-09-30")
    assert first and later
    for kind, path in reference_paths(tiny_landing).items():  # the city's reference, loaded as data
        import_reference(settings, kind, path)
    ingest(IngestRequest(paths=first), settings)
    incremental = tmp_path / "incremental.duckdb"
    assert run_dbt(settings, incremental, MODELS_ONLY).returncode == 0

    # the later deliveries carry late events: changes to cases the first build already folded
    ingest(IngestRequest(paths=later), settings)
    log = duckdb.connect()
    events = f"read_parquet('{settings.log_dir}/batches/*/events.parquet')"
    late = log.sql(
        f"""select count(distinct entity_id) from {events}
            where batch_id = (select max(batch_id) from {events})
              and entity_id in (select entity_id from {events}
                                where batch_id <> (select max(batch_id) from {events}))"""
    ).fetchall()[0][0]
    log.close()
    assert late > 0

    # one model at a time, as `gridline run` builds a night: each node starts with the table blocks
    # DuckDB cached for the nodes before it dropped (as far as none is still in use), which must leave
    # the results as they are
    step = run_dbt(settings, incremental, MODELS_ONLY, vacuum=False, one_model_at_a_time=True)
    assert step.returncode == 0, step.output[-2000:]
    releases = block_releases(settings.home, step.command)
    assert len(releases) > 40 and any(released > 0 for released, _ in releases), releases
    # the profile is the same as the full build's (a night differs in its threads and vacuuming), so
    # dbt parses only what changed instead of the whole project again
    assert "profile has changed" not in latest_dbt_log(settings.home, step.command)
    # it really was an incremental run: the folds replaced only the entities that had new events
    run_sql = settings.home / "dbt" / "target" / "run" / "gridline" / "models" / "intermediate"
    assert "delete from" in (run_sql / "cases" / "int_cases__folded.sql").read_text()
    staging = run_sql.parent / "staging" / "log" / "stg_log__events.sql"
    assert "insert into" in staging.read_text()  # the staged log took only the new batches
    full = tmp_path / "full.duckdb"
    whole = run_dbt(settings, full, MODELS_ONLY)
    assert whole.returncode == 0
    # two models at a time: no release, which could starve the model beside it
    assert block_releases(settings.home, whole.command) == []

    tables = _tables(full)
    assert "intermediate.int_cases__folded" in tables and "marts.problem_class_tickets" in tables
    assert _tables(incremental) == tables
    for table, columns in tables.items():
        assert _differences(incremental, full, table, columns) == 0, table

    # the tickets find the planted classes, through the command a user runs
    score = evaluate(settings, tiny_landing / "truth.json", incremental)
    assert score.f1 >= 0.9, score
    printed = gridline_cli(
        "evaluate",
        "--truth",
        str(tiny_landing / "truth.json"),
        "--database",
        str(incremental),
        env_home=settings.home,
    ).stdout
    assert "pairwise F1" in printed and "TF-IDF baseline" in printed

    # without the text signal, decoys in the same grid and category join the classes
    text_off = run_dbt(
        settings, full, ["run", "--select", "int_ticket_cases__text_vectors+"], {"ticket_text_signal": False}
    )
    assert text_off.returncode == 0, text_off.output[-2000:]
    without = evaluate(settings, tiny_landing / "truth.json", full)
    assert without.precision < score.precision


def test_staged_log_ids_are_checked_on_a_nights_rows_against_the_whole_log(settings, tiny_landing, tmp_path):
    """The staged log's ids are tested unique at the cost of a night: a whole build groups every row, a
    night probes the whole table with its own ids, and still catches an id it repeats."""
    staged = ["build", "--select", "stg_log__events", "--exclude-resource-type", "unit_test"]
    ingest(IngestRequest(paths=_landing_files(tiny_landing, up_to="2025-09-30")), settings)
    database = tmp_path / "warehouse.duckdb"
    first = run_dbt(settings, database, staged)
    assert first.returncode == 0, first.output[-2000:]
    compiled = settings.home / "dbt" / "target" / "run" / "gridline" / "models" / "staging" / "log"
    unique_sql = next(compiled.rglob("unique_appended_stg_log__events_event_id*.sql"))
    assert " in (" not in unique_sql.read_text()  # a whole build: every row is grouped

    ingest(IngestRequest(paths=_landing_files(tiny_landing, after="2025-09-30")), settings)
    night = run_dbt(settings, database, staged)
    assert night.returncode == 0, night.output[-2000:]
    assert " in (" in unique_sql.read_text()  # an incremental build: the night's ids probe the table

    # an appended row repeating an id of the years behind it is caught, as `unique` would catch it
    con = duckdb.connect(str(database))
    con.execute(
        """insert into staging.stg_log__events
           select * replace ((select max(batch_id) from staging.stg_log__events) as batch_id)
           from staging.stg_log__events
           where batch_id = (select min(batch_id) from staging.stg_log__events) limit 1"""
    )
    con.close()
    caught = run_dbt(settings, database, ["test", "--select", "stg_log__events"])
    assert caught.returncode != 0
    assert any("unique_appended_stg_log__events_event_id" in f for f in caught.failures), caught.failures


def _resend_as_handling(landing: Path, submission_id: str, order_id: str, out: Path) -> None:
    """A grid delivery holding one submission again, an hour later, now naming the hotline order it handled
    (a submission's events are told apart by their time: re-sent at the same time, it is a repeat)."""
    for export in sorted((landing / "grid").glob("*/*")):
        for line in export.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line)["submission_id"] == submission_id:
                original = json.loads(line)
                later = datetime.fromisoformat(original["submitted_at"]) + timedelta(hours=1)
                handling = original | {"order_id": order_id, "submitted_at": later.isoformat()}
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(json.dumps(handling, ensure_ascii=False) + "\n")
                return
    raise AssertionError(f"submission {submission_id} is in no grid delivery")


def test_a_grid_case_resent_as_an_orders_handling_leaves_the_case_tables_as_a_full_refresh_does(
    settings, tiny_landing, tmp_path
):
    for kind, path in reference_paths(tiny_landing).items():
        import_reference(settings, kind, path)
    ingest(IngestRequest(paths=_landing_files(tiny_landing)), settings)
    incremental = tmp_path / "incremental.duckdb"
    assert run_dbt(settings, incremental, MODELS_ONLY).returncode == 0
    con = duckdb.connect(str(incremental), read_only=True)
    case_id, submission_id = con.sql(
        "select case_id, source_case_id from marts.cases where stream = 'grid' order by case_id limit 1"
    ).fetchall()[0]
    hotline_orders = "select min(source_case_id) from marts.cases where stream = 'hotline'"
    (order_id,) = con.sql(hotline_orders).fetchall()[0]
    con.close()

    # a grid worker's app re-sends the submission: it was the handling of a hotline order, not a case
    resent = tmp_path / "late" / "grid_resent.jsonl"
    _resend_as_handling(tiny_landing, submission_id, order_id, resent)
    assert ingest(IngestRequest(paths=[resent], stream="grid"), settings).appended == 1
    step = run_dbt(settings, incremental, MODELS_ONLY)
    assert step.returncode == 0, step.output[-2000:]

    case_tables = (
        "marts.cases",
        "intermediate.int_cases__conformed",
        "intermediate.int_cases__service_levels",
        "intermediate.int_ticket_cases__fingerprints",
    )
    con = duckdb.connect(str(incremental), read_only=True)
    for table in case_tables:
        assert con.execute(f"select count(*) from {table} where case_id = ?", [case_id]).fetchall() == [(0,)]
    con.close()
    full = tmp_path / "full.duckdb"
    assert run_dbt(settings, full, MODELS_ONLY).returncode == 0
    tables = _tables(full)
    area_names = ("intermediate.int_areas__address_names", "intermediate.int_areas__typed_names")
    for table in (*case_tables, *area_names):
        assert _differences(incremental, full, table, tables[table]) == 0, table
