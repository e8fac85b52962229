"""The ticket models are incremental by quarter: a late case for an earlier quarter rebuilds that quarter
only (and, where a model reads the tickets, whose ids continue, the quarters after it), joins its class
there, and the tickets equal those of a full refresh (ids included)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from gridline.project_files import DBT_PROJECT_DIR
from gridline.reference import import_reference
from gridline.warehouse import run_dbt
from ingestion.ingest import IngestRequest, ingest
from ingestion.sources.reading import text_encoding
from tests.demo_reference import reference_paths
from tests.test_warehouse import MODELS_ONLY, _differences, _tables

TICKET_TABLES = ("intermediate.int_ticket", "intermediate.int_problem", "marts.problem_class")
ABATED = "int_problem_class_tickets__abated"


def _late_copy_of_a_class_member(landing: Path, quarter: str, out: Path) -> str:
    """A hotline export holding one new order: a copy, under a new id, of a planted class member received
    in ``quarter`` (the same complaint at the same place, raised again then but delivered late)."""
    truth = json.loads((landing / "truth.json").read_text())
    members = {
        case_id.split(":", 1)[1]
        for planted in truth["classes"]
        for case_id in planted["case_ids"].get(quarter, [])
        if case_id.startswith("12345:")
    }
    for export in sorted((landing / "hotline").glob("*/*.csv")):
        with export.open(encoding=text_encoding(export), newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if row["工单编号"] in members:
                    late_id = row["工单编号"] + "9"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with out.open("w", encoding="utf-8", newline="") as late:
                        writer = csv.DictWriter(late, fieldnames=reader.fieldnames)
                        writer.writeheader()
                        writer.writerow(row | {"工单编号": late_id})
                    return f"12345:{late_id}"
    raise AssertionError(f"no hotline member of a planted class in {quarter}")


def _quarters(database: Path) -> list[str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return [
            q
            for (q,) in con.sql(
                "select distinct quarter from intermediate.int_ticket_cases__eligible order by 1"
            ).fetchall()
        ]
    finally:
        con.close()


def _mark(database: Path, table: str, column: str, quarter: str) -> tuple[str, str]:
    """Add 1000 to one stored value of ``quarter`` in a table keyed by case and term, by hand: it stays
    changed only if the row is not computed again. Returns the row's key."""
    con = duckdb.connect(str(database))
    try:
        case_id, term = con.sql(
            f"""select case_id, term from intermediate.{table}
                where quarter = '{quarter}' order by case_id, term limit 1"""
        ).fetchall()[0]
        con.execute(
            f"update intermediate.{table} set {column} = {column} + 1000 where case_id = ? and term = ?",
            [case_id, term],
        )
        return case_id, term
    finally:
        con.close()


def _marked(database: Path, table: str, column: str, key: tuple[str, str]) -> bool:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            f"select {column} from intermediate.{table} where case_id = ? and term = ?", list(key)
        ).fetchall()
        return bool(rows) and rows[0][0] >= 1000
    finally:
        con.close()


def _unmark(database: Path, table: str, column: str, key: tuple[str, str]) -> None:
    con = duckdb.connect(str(database))
    try:
        con.execute(
            f"update intermediate.{table} set {column} = {column} - 1000 where case_id = ? and term = ?",
            list(key),
        )
    finally:
        con.close()


def _scale_terms(
    database: Path, quarter: str | None, factor: float, case_id: str | None = None
) -> tuple[str, float]:
    """Scale every term count of one case of ``quarter`` (or of ``case_id``) by ``factor``: its vector,
    scaled to unit length, stays the same, so only a case computed again loses the change. Returns the case
    and its terms' total count after the change."""
    con = duckdb.connect(str(database))
    try:
        if case_id is None:
            case_id = con.execute(
                "select min(case_id) from intermediate.int_ticket_cases__terms where quarter = ?", [quarter]
            ).fetchall()[0][0]
        con.execute(
            "update intermediate.int_ticket_cases__terms set term_count = term_count * ? where case_id = ?",
            [factor, case_id],
        )
        return case_id, _term_total(con, case_id)
    finally:
        con.close()


def _term_total(con: duckdb.DuckDBPyConnection, case_id: str) -> float:
    return con.execute(
        "select sum(term_count) from intermediate.int_ticket_cases__terms where case_id = ?", [case_id]
    ).fetchall()[0][0]


def _built_from(database: Path, model: str, quarter: str) -> str:
    """The digest ``model`` last built ``quarter`` from."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(
            "select digest from intermediate.ticket_quarter_builds where model_name = ? and quarter = ?",
            [model, quarter],
        ).fetchall()[0][0]
    finally:
        con.close()


def _out_of_quarter_order(database: Path) -> dict[str, int]:
    """Per model that keeps its rows in quarter order (`in_quarter_order`), the rows stored after a row
    of a later quarter (none when it holds them in order)."""
    models = [
        path.stem
        for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")
        if "in_quarter_order()" in path.read_text(encoding="utf-8")
    ]
    assert len(models) >= 10, models
    con = duckdb.connect(str(database), read_only=True)
    try:
        misplaced = {
            model: con.sql(
                f"""select count(*) from (
                        select quarter < max(quarter) over (order by rowid rows unbounded preceding) as early
                        from intermediate.{model}
                    ) where early"""
            ).fetchall()[0][0]
            for model in models
        }
    finally:
        con.close()
    return {model: rows for model, rows in misplaced.items() if rows}


def test_a_late_case_rebuilds_its_quarter_only_and_tickets_equal_a_full_refresh(
    settings, tiny_landing, tmp_path
):
    for kind, path in reference_paths(tiny_landing).items():
        import_reference(settings, kind, path)
    ingest(IngestRequest(paths=sorted(p for p in tiny_landing.glob("*/*/*") if p.is_file())), settings)
    incremental = tmp_path / "incremental.duckdb"
    assert run_dbt(settings, incremental, MODELS_ONLY).returncode == 0
    earlier, later = _quarters(incremental)[:2]

    late_case = _late_copy_of_a_class_member(
        tiny_landing, earlier, tmp_path / "late" / "12345_export_late.csv"
    )
    # a quarter's vectors are rebuilt with its document frequencies; a case's terms only when it changed
    vectors = ("int_ticket_cases__text_vectors", "weight")
    untouched, touched = _mark(incremental, *vectors, later), _mark(incremental, *vectors, earlier)
    unchanged_case, scaled_total = _scale_terms(incremental, earlier, 2.0)
    links_before = _built_from(incremental, "int_ticket_cases__links", later)
    classes_before = _built_from(incremental, "int_problem_classes__classes", later)
    abated_before = _built_from(incremental, ABATED, later)
    ingest(IngestRequest(paths=[tmp_path / "late" / "12345_export_late.csv"]), settings)
    step = run_dbt(settings, incremental, MODELS_ONLY)
    assert step.returncode == 0, step.output[-2000:]

    # the late case's quarter was rebuilt, the later one was not
    assert not _marked(incremental, *vectors, touched)
    assert _marked(incremental, *vectors, untouched)
    # of the per-case models, only the late case was computed: another case of its quarter was not
    con = duckdb.connect(str(incremental), read_only=True)
    assert _term_total(con, unchanged_case) == scaled_total
    assert _term_total(con, late_case) > 0
    con.close()
    # ... except the classes of the next quarter, which count a slow problem's cases of the late one's
    assert _built_from(incremental, "int_ticket_cases__links", later) == links_before
    assert _built_from(incremental, "int_problem_classes__classes", later) != classes_before
    # ... and the abated tickets of every later quarter: a ticket id continues from quarter to quarter
    assert _built_from(incremental, ABATED, later) != abated_before
    _unmark(incremental, *vectors, untouched)
    _scale_terms(incremental, None, 0.5, case_id=unchanged_case)
    con = duckdb.connect(str(incremental))
    # the late case joined a ticket of its quarter
    joined = con.execute(
        "select quarter from marts.problem_class_ticket_cases where case_id = ?", [late_case]
    ).fetchall()
    con.close()
    assert joined == [(earlier,)]

    # a late case of the later quarter rebuilds the abated tickets of that quarter, not of the earlier one
    abated_earlier, abated_later = (_built_from(incremental, ABATED, q) for q in (earlier, later))
    _late_copy_of_a_class_member(tiny_landing, later, tmp_path / "later" / "12345_export_later.csv")
    ingest(IngestRequest(paths=[tmp_path / "later" / "12345_export_later.csv"]), settings)
    step = run_dbt(settings, incremental, MODELS_ONLY)
    assert step.returncode == 0, step.output[-2000:]
    assert _built_from(incremental, ABATED, earlier) == abated_earlier
    assert _built_from(incremental, ABATED, later) != abated_later

    full = tmp_path / "full.duckdb"
    assert run_dbt(settings, full, MODELS_ONLY).returncode == 0
    # a full build stores the quarterly tables in quarter order, so a night's filter on its quarter skips
    # the storage blocks of the others
    assert _out_of_quarter_order(full) == {}
    tables = {t: c for t, c in _tables(full).items() if t.startswith(TICKET_TABLES)}
    assert "marts.problem_class_tickets" in tables and "intermediate.int_ticket_cases__links" in tables
    for table, columns in tables.items():
        assert _differences(incremental, full, table, columns) == 0, table
