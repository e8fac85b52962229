"""The audit: marts suites catch corrupt marts, batch suites stop a collapsed batch, docs work offline."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from expectations import case_counts
from expectations.frames import _changed_rows_sql, prepare_batch_frames
from expectations.offline_docs import make_offline, offline_page, remote_references
from expectations.runner import Checkpoint, archive_old_results, load_suites, run_suites, suite_query
from gridline.config import Settings, build_memory
from gridline.errors import GridlineError
from gridline.publish import build_db
from gridline.run import audit_connection, audit_marts
from gridline.work_connection import work_connection
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.reading import text_encoding


def _day_folders(landing: Path) -> list[Path]:
    return sorted(p for p in (landing / "hotline").iterdir() if p.is_dir())


def _csvs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.csv"))


def _failed(audit) -> set[tuple[str, str]]:
    return {(f.suite, f.expectation) for f in audit.failures}


def test_marts_suites_pass_on_the_published_build_and_catch_corruption(published_home, tmp_path):
    settings = Settings(home=published_home)
    clean = audit_marts(settings, settings.published_db, Checkpoint(tmp_path / "gx"))
    assert clean.success, [f.describe() for f in clean.failures]
    assert clean.suites == 6 and clean.expectations > 20

    # copies of the build database: the marts as tables, with the log's case counts kept beside them
    corrupt = tmp_path / "corrupt.duckdb"
    shutil.copyfile(build_db(settings), corrupt)
    con = duckdb.connect(str(corrupt))
    try:
        # one case in two tickets of the same quarter
        con.execute(
            """insert into marts.problem_class_ticket_cases by name
               select ticket_id, quarter, case_id from (
                   select 'T-corrupt-1' as ticket_id, quarter, case_id from marts.cases limit 1)
               union all
               select 'T-corrupt-2', quarter, case_id from (
                   select quarter, case_id from marts.cases limit 1)"""
        )
        # a hotline case lost between the log and the mart
        con.execute(
            """delete from marts.cases
               where case_id = (select max(case_id) from marts.cases where stream = 'hotline')"""
        )
        # a rate outside [0, 1] in any mart
        con.execute("create table marts.probe as select 1.5::double as contact_rate")
    finally:
        con.close()
    caught = audit_marts(settings, corrupt, Checkpoint(tmp_path / "gx"))
    assert not caught.success
    assert {
        ("marts_problem_class_ticket_cases", "expect_compound_columns_to_be_unique"),
        ("marts_problem_class_ticket_cases", "expect_column_values_to_be_in_set"),
        ("marts_conservation", "expect_column_pair_values_to_be_equal"),
        ("marts_rates", "expect_column_values_to_be_between"),
    } <= _failed(caught)
    assert all(o.success for o in caught.outcomes if o.suite == "marts_cases")

    # grid workers' cases are recounted from their submissions too
    lost_grid_case = tmp_path / "lost-grid-case.duckdb"
    shutil.copyfile(build_db(settings), lost_grid_case)
    with duckdb.connect(str(lost_grid_case)) as con:
        con.execute(
            """delete from marts.cases
               where case_id = (select max(case_id) from marts.cases where stream = 'grid')"""
        )
    caught = audit_marts(settings, lost_grid_case, Checkpoint(tmp_path / "gx"))
    assert _failed(caught) == {("marts_conservation", "expect_column_pair_values_to_be_equal")}

    # a case changed into an unknown state is among the rows that differ from the published mart; a case
    # listed twice is caught on the whole mart's keys
    changed_case = tmp_path / "changed-case.duckdb"
    shutil.copyfile(build_db(settings), changed_case)
    with duckdb.connect(str(changed_case)) as con:
        con.execute(
            """update marts.cases set satisfaction = '很满意'
               where case_id = (select min(case_id) from marts.cases)"""
        )
        con.execute(
            """insert into marts.cases
               select * from marts.cases where case_id = (select max(case_id) from marts.cases)"""
        )
    caught = audit_marts(settings, changed_case, Checkpoint(tmp_path / "gx"))
    assert {
        ("marts_cases", "expect_column_values_to_be_in_set"),
        ("marts_keys", "expect_column_values_to_be_between"),
    } <= _failed(caught)


def test_case_counts_folded_batch_by_batch_equal_a_recount(published_home):
    """The conservation audit's counts, kept per batch in the build database, are those of a recount
    of the whole log, and a batch folded twice is not counted twice."""
    log = EventLog(published_home / "log")
    batch_ids = [p.name for p in log.batch_dirs()]
    con = duckdb.connect()
    con.execute("attach ':memory:' as whole")
    con.execute("attach ':memory:' as nightly")
    case_counts.fold(con, "whole.main", log, batch_ids)
    for batch_id in batch_ids:
        case_counts.fold(con, "nightly.main", log, [batch_id])
    case_counts.fold(con, "nightly.main", log, batch_ids[-1:])
    counted = {
        prefix: sorted(con.sql(case_counts.conservation_sql(prefix, "whole.main.case_entities")).fetchall())
        for prefix in ("whole.main", "nightly.main")
    }
    assert counted["whole.main"] == counted["nightly.main"] and counted["whole.main"]
    assert case_counts.folded(con, "nightly.main") == set(batch_ids)
    kept = build_db(Settings(home=published_home))
    with duckdb.connect(str(kept), read_only=True) as built:
        assert case_counts.folded(built, case_counts.SCHEMA) == set(batch_ids)


def test_case_counts_folded_under_a_small_memory_ceiling_equal_a_recount(published_home, tmp_path):
    """A first run folds every batch at once; held to a ceiling, the fold spills and counts the same."""
    log = EventLog(published_home / "log")
    batch_ids = [p.name for p in log.batch_dirs()]
    database = tmp_path / "build.duckdb"
    shutil.copyfile(build_db(Settings(home=published_home)), database)
    with duckdb.connect(str(database)) as con:
        con.execute(f"drop schema {case_counts.SCHEMA} cascade")
    case_counts.bring_up_to_date(database, log, batch_ids, memory_limit="64MB")
    with duckdb.connect() as con:
        con.execute("attach ':memory:' as whole")
        case_counts.fold(con, "whole.main", log, batch_ids)
        con.execute(f"attach '{database}' as held (read_only)")
        held = f"held.{case_counts.SCHEMA}"
        assert case_counts.folded(con, held) == set(batch_ids)
        counted = [
            sorted(con.sql(case_counts.conservation_sql(prefix, "whole.main.case_entities")).fetchall())
            for prefix in ("whole.main", held)
        ]
    assert counted[0] == counted[1] and counted[0]


def _write_sample(source: Path, target: Path, keep_every: int) -> None:
    """Every ``keep_every``-th row of an export, as UTF-8 (the export's encoding may be GB18030)."""
    with open(source, encoding=text_encoding(source)) as f:
        rows = list(csv.reader(f))
    with open(target, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([rows[0], *rows[1::keep_every]])


def test_batch_suites_stop_a_collapsed_batch_and_pass_a_normal_one(settings, tiny_landing, tmp_path):
    folders = _day_folders(tiny_landing)
    history = ingest(
        IngestRequest(paths=[f for d in folders[:-1] for f in _csvs(d)], stream="hotline"), settings
    ).batch_id
    last = _csvs(folders[-1])[-1]
    _write_sample(last, tmp_path / "12345_collapsed.csv", keep_every=12)
    collapsed = ingest(IngestRequest(paths=[tmp_path / "12345_collapsed.csv"], stream="hotline"), settings)

    con = duckdb.connect()
    prepare_batch_frames(con, EventLog(settings.log_dir), [collapsed.batch_id], set(), settings.timezone)
    metrics = con.sql("select arrivals, baseline_arrivals, volume_ratio from audit_batch_metrics").fetchall()
    audit = run_suites(Checkpoint(tmp_path / "gx"), con, "batch", [collapsed.batch_id])
    assert len(metrics) == 1 and metrics[0][1] >= 50 and metrics[0][2] < 0.3
    assert ("batch_arrivals", "expect_column_values_to_be_between") in _failed(audit)
    assert {f.column for f in audit.failures} == {"volume_ratio"}
    assert {f.subject for f in audit.failures} == {collapsed.batch_id}

    # the history batch itself, audited the same way (no earlier baseline), passes every batch suite
    con = duckdb.connect()
    prepare_batch_frames(con, EventLog(settings.log_dir), [history], set(), settings.timezone)
    clean = run_suites(Checkpoint(tmp_path / "gx"), con, "batch", [history])
    assert clean.success and clean.suites == 3, [f.describe() for f in clean.failures]


def test_the_store_keeps_the_newest_results_and_archives_the_rest_out_of_the_index(published_home, tmp_path):
    """Each audit's Data Docs read GX's whole store: it keeps the newest results and the older ones move,
    unchanged, to an archive beside it, so a night's audit costs the same after years of nights."""
    project = tmp_path / "gx"
    shutil.copytree(published_home / "gx", project)
    store = project / "gx" / "uncommitted" / "validations"
    stored = {p.relative_to(store): p.read_bytes() for p in store.glob("*/*/*/*.json")}
    newest = sorted(stored, key=lambda path: path.parent.name, reverse=True)[:3]
    assert len(stored) > 5

    assert archive_old_results(project, keep=3) == len(stored) - 3
    assert sorted(p.relative_to(store) for p in store.glob("*/*/*/*.json")) == sorted(newest)
    archive = project / "archive" / "validations"
    archived = {p.relative_to(archive): p.read_bytes() for p in archive.glob("*/*/*/*.json")}
    assert archived == {path: content for path, content in stored.items() if path not in newest}
    assert archive_old_results(project, keep=3) == 0

    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    Checkpoint(project).context.build_data_docs()  # the index again, from the store as it is now
    make_offline(site)
    assert (site / "index.html").read_text().count('class="clickable-row" data-href="validations/') == 3


def test_data_docs_work_offline(published_home):
    site = published_home / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = list(site.rglob("*.html"))
    assert len(pages) > 5 and remote_references(site) == {}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="static/styles/gridline-docs.css"' in index
    assert index.count('class="clickable-row" data-href="validations/') >= 5  # the table, rendered statically
    assert (site / "static" / "styles" / "gridline-docs.css").exists()
    assert (site / "static" / "scripts" / "gridline-docs.js").exists()

    raw = (
        '<html><head><link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/b.css"/>'
        '<script src="https://code.jquery.com/jquery.js"></script>'
        "<style>.x { background: url('https://cdn.example/logo.png') }</style></head>"
        '<body><img src="https://great-expectations-web-assets.s3.amazonaws.com/logo-long.png?d=1"/></body></html>'
    )
    rewritten = offline_page(raw, "../")
    assert "http" not in rewritten and 'href="../static/styles/gridline-docs.css"' in rewritten
    assert 'src="../static/images/logo-long.png"' in rewritten  # the logo GX ships, instead of its CDN copy


def test_a_suite_frame_holds_only_the_columns_its_expectations_read():
    """A first run audits every case: the frame holds the columns the suite checks, not the whole mart.
    A suite that checks the set of columns itself keeps them all."""
    suites = {spec["name"]: spec for spec in load_suites()}
    con = duckdb.connect()
    con.execute(
        """create table audit_changed_cases as select 'H1' as case_id, 'hotline' as stream,
           now() as received_at, '2025Q1' as quarter, null as satisfaction, 0 as reopen_count,
           'a long description nobody audits' as description, 'an address' as address"""
    )
    frame = con.execute(suite_query(suites["marts_cases"])).df()
    read = ["case_id", "stream", "received_at", "quarter", "satisfaction", "reopen_count"]
    assert list(frame.columns) == read
    whole = [
        spec
        for spec in suites.values()
        if any(e["type"] == "expect_table_columns_to_match_set" for e in spec["expectations"])
    ]
    assert whole and all(suite_query(spec) == spec["meta"]["gridline_query"] for spec in whole)


@pytest.mark.parametrize("step", ["audit", "publish"])
def test_the_audits_and_publication_hold_to_the_build_memory_ceiling_and_spill_under_the_warehouse(
    tmp_path, monkeypatch, step
):
    """A megacity's first run audits 57 M new events at once: the audits' DuckDB (and the publication's)
    spills past GRIDLINE_BUILD_MEMORY, under the warehouse, instead of taking the machine's memory or
    spilling into the working directory."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(home=tmp_path / "home", build_memory="100MB")
    spill = settings.warehouse_dir / f"{step}-spill"
    con = audit_connection(settings) if step == "audit" else work_connection(settings, step)
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "95.3 MiB"
        con.execute("create temp table arrivals as select md5(range::varchar) as digest from range(5000000)")
        assert con.execute("select count(distinct digest) from arrivals").fetchone()[0] == 5_000_000
        assert any(spill.glob("*.tmp")), "the temp table did not spill under the warehouse"
        assert not (tmp_path / ".tmp").exists()
    finally:
        con.close()
    assert not spill.exists()

    monkeypatch.setenv("GRIDLINE_BUILD_MEMORY", "lots")
    with pytest.raises(GridlineError, match="GRIDLINE_BUILD_MEMORY='lots'"):
        build_memory()


def test_the_changed_rows_are_those_the_publication_lacks_in_the_changed_quarters(tmp_path):
    con = duckdb.connect()
    for name in ("candidate", "published"):
        con.execute(f"attach '{tmp_path / name}.duckdb' as {name}")
        con.execute(f"create schema {name}.marts")
        con.execute(
            f"""create table {name}.marts.cases as
                select 'c' || i as case_id, '2025Q' || (1 + i % 2) as quarter, 'text ' || i as description
                from range(1000) r(i)"""
        )
    con.execute("update candidate.marts.cases set description = 'changed' where case_id in ('c1', 'c2')")
    con.execute(
        "insert into candidate.marts.cases values ('c1000', '2025Q2', 'new'), ('c1001', '2025Q1', 'new')"
    )
    changed = _changed_rows_sql(con, "candidate", "cases", "published", ["2025Q2"])
    rows = con.sql(f"select case_id, description from ({changed}) order by 1").fetchall()
    # c2 and c1001 changed too, but in the quarter whose fingerprint did not differ: left out
    assert rows == [("c1", "changed"), ("c1000", "new")]
    everything = _changed_rows_sql(con, "candidate", "cases", "published", None)
    assert len(con.sql(everything).fetchall()) == 4
