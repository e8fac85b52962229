"""The log's compact state (ingestion/state.py): kept per batch, always what the log itself says."""

from __future__ import annotations

import duckdb

from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog, commit_system_events
from ingestion.state import STATE_FILE
from tests.test_event_log import _order, _resolved, _write


def _known_ids(settings) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.log_dir / STATE_FILE}' as s (read_only)")
        return con.sql("select count(*) from s.known_events").fetchall()[0][0]
    finally:
        con.close()


def test_the_maintained_state_equals_one_rebuilt_from_the_log(settings, tmp_path):
    log = EventLog(settings.log_dir)
    first = ingest(
        IngestRequest(paths=[_write(tmp_path / "day1.csv", [_order(i) for i in range(30)])]), settings
    )
    bad = [_order(i) for i in range(30, 40)] + [{**_order(40), "来电时间": "昨天"}]
    ingest(IngestRequest(paths=[_write(tmp_path / "day2.csv", bad)]), settings)
    commit_system_events(log, [("batch.retracted", f"batch:{first.batch_id}", {"batch_id": first.batch_id})])
    ingest(IngestRequest(paths=[_write(tmp_path / "day3.csv", [_resolved(i) for i in range(10)])]), settings)
    assert _known_ids(settings) > 0
    assert log.state_differences(tmp_path / "rebuilt") == []


def test_a_state_that_missed_a_batch_catches_up_and_a_lost_one_is_rebuilt(settings, tmp_path):
    log = EventLog(settings.log_dir)
    ingest(IngestRequest(paths=[_write(tmp_path / "day1.csv", [_order(i) for i in range(30)])]), settings)
    state = settings.log_dir / STATE_FILE
    behind = state.read_bytes()
    second = ingest(
        IngestRequest(paths=[_write(tmp_path / "day2.csv", [_order(i) for i in range(20, 50)])]), settings
    )
    assert second.appended == 20 * 4
    state.write_bytes(behind)  # as if the process died between the commit's rename and the state's update
    again = ingest(IngestRequest(paths=[tmp_path / "day2.csv"]), settings)
    assert (again.appended, again.batch_id) == (0, None)  # the missed batch was taken in before comparing
    assert log.state_differences(tmp_path / "rebuilt") == []
    state.unlink()
    state.write_bytes(b"not a database")
    resent = tmp_path / "resent.csv"
    resent.write_bytes((tmp_path / "day1.csv").read_bytes())
    assert ingest(IngestRequest(paths=[resent]), settings).appended == 0
    assert log.state_differences(tmp_path / "rebuilt") == []


def test_a_snapshot_of_the_log_reads_the_whole_logs_state(settings, tmp_path):
    first = ingest(
        IngestRequest(paths=[_write(tmp_path / "day1.csv", [_order(i) for i in range(10)])]), settings
    )
    ingest(IngestRequest(paths=[_write(tmp_path / "day2.csv", [_order(i) for i in range(10, 20)])]), settings)
    full = _known_ids(settings)
    con = duckdb.connect()
    try:
        EventLog(settings.log_dir, [first.batch_id]).state(con).close()  # a run's view of one batch
    finally:
        con.close()
    assert _known_ids(settings) == full  # not rebuilt from the snapshot's one batch
