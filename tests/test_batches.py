"""Batch decisions in the log: flag, accept, retract; what the build leaves out; the operator's commands."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from gridline import batches
from gridline.errors import GridlineError
from gridline.warehouse import run_dbt
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EXCLUSION_LIST, EventLog, record_exclusion_list_if_missing
from tests.conftest import gridline_cli


def _hotline_csvs(landing):
    return sorted((landing / "hotline").glob("*/*.csv"))


def _event_count(settings, batch_id):
    sql = EventLog(settings.log_dir).events_sql()
    return duckdb.sql(f"select count(*) from ({sql}) where batch_id = '{batch_id}'").fetchall()[0][0]


def test_flag_accept_retract_change_what_is_excluded(settings, tiny_landing):
    first = ingest(IngestRequest(paths=_hotline_csvs(tiny_landing)[:1], stream="hotline"), settings).batch_id
    assert batches.unaudited_batches(settings) == [first]
    assert batches.excluded_batches(settings) == set()

    batches.record_outcomes(settings, [{"batch_id": first, "outcome": "failed", "failures": ["x"]}])
    system_batch = batches.flag(settings, [first], run_id="r1")
    assert batches.unaudited_batches(settings) == []  # judged: not audited again
    assert batches.excluded_batches(settings) == {first}
    statuses = {b.batch_id: b.status for b in batches.list_batches(settings)}
    assert statuses == {first: "flagged", system_batch: "system"}

    batches.accept(settings, first, note="checked with the hotline centre")
    assert batches.excluded_batches(settings) == set()
    assert {b.batch_id: b.status for b in batches.list_batches(settings)}[first] == "accepted"
    with pytest.raises(GridlineError, match="not flagged"):
        batches.accept(settings, first)

    batches.retract(settings, first, reason="wrong city's export")
    assert batches.excluded_batches(settings) == {first}
    listed = {b.batch_id: b for b in batches.list_batches(settings)}
    assert listed[first].status == "retracted" and listed[first].detail == "wrong city's export"
    assert _event_count(settings, first) > 0  # nothing deleted: the events are still in the log
    assert batches.decision_count(settings) == 2


def _two_exports(landing):
    """Two hotline exports with events of their own (a re-sent copy of an export adds none)."""
    by_name = {path.name: path for path in reversed(_hotline_csvs(landing))}
    return sorted(by_name.values())[:2]


def _recorded_exclusion_lists(settings) -> list[list[str]]:
    """The exclusion list each system batch recorded, in the order the batches were committed."""
    sql = EventLog(settings.log_dir).events_sql()
    rows = duckdb.sql(
        f"""select json_extract_string(payload, '$.excluded_batch_ids[*]') from ({sql})
            where event_type = '{EXCLUSION_LIST}' order by recorded_at"""
    ).fetchall()
    return [sorted(ids) for (ids,) in rows]


def test_each_system_batch_records_the_exclusion_list_in_force(settings, tiny_landing):
    first, second = (
        ingest(IngestRequest(paths=[path], stream="hotline"), settings).batch_id
        for path in _two_exports(tiny_landing)
    )
    batches.flag(settings, [first, second], run_id="r1")
    batches.accept(settings, first)
    batches.retract(settings, first, reason="wrong city's export")
    # What the build leaves out after each decision, as the log recorded it for dbt.
    assert _recorded_exclusion_lists(settings) == [sorted([first, second]), [second], sorted([first, second])]
    assert set(_recorded_exclusion_lists(settings)[-1]) == batches.excluded_batches(settings)


def test_the_staged_log_leaves_out_what_was_excluded_as_of_its_instant(settings, tiny_landing, tmp_path):
    """dbt takes the latest list recorded by ``as_of``: a replay before a retraction still has the batch."""
    first, second = (
        ingest(IngestRequest(paths=[path], stream="hotline"), settings).batch_id
        for path in _two_exports(tiny_landing)
    )
    before_any_decision = datetime.now(UTC).isoformat()
    batches.flag(settings, [second], run_id="r1")
    flagged = datetime.now(UTC).isoformat()
    batches.accept(settings, second)
    batches.retract(settings, first, reason="wrong city's export")

    def staged_batches(as_of: str | None) -> set[str]:
        target = tmp_path / f"as_of_{len(list(tmp_path.glob('*.duckdb')))}.duckdb"
        result = run_dbt(settings, target, ["run", "--select", "stg_log__events"], {"as_of": as_of})
        assert result.returncode == 0, result.output[-2000:]
        con = duckdb.connect(str(target), read_only=True)
        try:
            return {b for (b,) in con.sql("select distinct batch_id from staging.stg_log__events").fetchall()}
        finally:
            con.close()

    assert staged_batches(before_any_decision) == {first, second}
    assert staged_batches(flagged) == {first}
    assert staged_batches(None) == {second}


def test_decisions_are_refused_when_they_make_no_sense(settings, tiny_landing):
    batch = ingest(IngestRequest(paths=_hotline_csvs(tiny_landing)[:1], stream="hotline"), settings).batch_id
    with pytest.raises(GridlineError, match="no batch"):
        batches.retract(settings, "20990101T000000000000Z-deadbeef", reason="x")
    with pytest.raises(GridlineError, match="needs a reason"):
        batches.retract(settings, batch, reason="  ")
    with pytest.raises(GridlineError, match="not flagged"):
        batches.accept(settings, batch)
    system_batch = batches.retract(settings, batch, reason="test")
    with pytest.raises(GridlineError, match="already retracted"):
        batches.retract(settings, batch, reason="again")
    with pytest.raises(GridlineError, match="retraction is final"):
        batches.accept(settings, batch)
    with pytest.raises(GridlineError, match="own decisions"):
        batches.retract(settings, system_batch, reason="x")


def test_reingesting_after_a_retraction_restores_the_events(settings, tiny_landing):
    files = _hotline_csvs(tiny_landing)[:1]
    first = ingest(IngestRequest(paths=files, stream="hotline"), settings)
    assert ingest(IngestRequest(paths=files, stream="hotline"), settings).appended == 0
    batches.retract(settings, first.batch_id, reason="delivered by mistake")
    again = ingest(IngestRequest(paths=files, stream="hotline"), settings)
    assert again.appended == first.appended  # a retracted batch's facts no longer count as known


def test_batches_commands_for_operators(tmp_path, tiny_landing):
    home = tmp_path / "home"
    gridline_cli("ingest", str(_hotline_csvs(tiny_landing)[0]), env_home=home)
    listed = gridline_cli("batches", "list", env_home=home).stdout.splitlines()
    assert listed[0].split("\t") == ["batch_id", "recorded_at", "streams", "status", "detail"]
    batch_id, _, streams, status, _ = listed[1].split("\t")
    assert streams.startswith("hotline:") and status == "not audited"

    refused = gridline_cli("batches", "accept", batch_id, env_home=home, check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "not flagged" in refused.stderr
    no_reason = gridline_cli("batches", "retract", batch_id, env_home=home, check=False)
    assert no_reason.returncode != 0

    done = gridline_cli("batches", "retract", batch_id, "--reason", "test export", env_home=home)
    assert f"retracted {batch_id}" in done.stderr
    listed = gridline_cli("batches", "list", env_home=home).stdout.splitlines()
    rows = [line.split("\t") for line in listed[1:]]
    assert [r[3] for r in rows] == ["retracted", "system"] and rows[0][4] == "test export"


def test_a_log_from_before_the_recorded_list_gets_one_before_a_build(settings, tiny_landing):
    """A decision committed without a list after it (as logs written before the list was recorded) is
    caught up once: dbt reads only the recorded list, and without it would exclude nothing."""
    from ingestion.events import create_staging_tables
    from ingestion.log import _add_system_event

    first = ingest(IngestRequest(paths=_two_exports(tiny_landing)[:1], stream="hotline"), settings).batch_id
    log = EventLog(settings.log_dir)
    con = duckdb.connect()
    create_staging_tables(con)
    _add_system_event(con, "batch.retracted", first, {"batch_id": first}, "2025-10-01T00:00:00+00:00")
    with log.open_batch() as batch:  # the old commit: the decision alone
        log.commit(con, batch, {"stream": "system", "files": []}, rows_read=1)
    con.close()
    assert batches.excluded_batches(settings) == {first} and _recorded_exclusion_lists(settings) == []

    assert record_exclusion_list_if_missing(log) is not None
    assert _recorded_exclusion_lists(settings) == [[first]]
    assert record_exclusion_list_if_missing(log) is None  # current now: nothing more is written


def test_an_accepted_batch_and_its_reingested_copy_stage_each_event_once_as_first_recorded(
    settings, tiny_landing, tmp_path
):
    files = _hotline_csvs(tiny_landing)[:1]
    held = ingest(IngestRequest(paths=files, stream="hotline"), settings)
    batches.flag(settings, [held.batch_id], run_id="r1")
    # while the batch is held back its events are not known, so the same export is taken in again
    again = ingest(IngestRequest(paths=files, stream="hotline"), settings)
    assert again.appended == held.appended
    batches.accept(settings, held.batch_id)  # now both batches count, with the same facts

    target = tmp_path / "staged.duckdb"
    result = run_dbt(settings, target, ["run", "--select", "stg_log__events"])
    assert result.returncode == 0, result.output[-2000:]
    con = duckdb.connect(str(target), read_only=True)
    try:
        staged = con.sql(
            """select count(*), count(distinct event_id), min(batch_id), max(batch_id)
               from staging.stg_log__events"""
        ).fetchall()[0]
    finally:
        con.close()
    assert staged == (held.appended, held.appended, held.batch_id, held.batch_id)
