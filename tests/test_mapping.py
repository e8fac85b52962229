"""Mapping files on the real NYC and Baltimore 311 exports, and the mapping format's validation.

Real data: data/real/nyc311 (AnthonyUPF/lab-sql-intro-es @ 8278edd, NYC Open Data erm2-nwe9) and
data/real/baltimore311 (city-of-baltimore/city-R-training-series @ 42a3796, data/311_sample.csv).
"""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.mapping import load_mapping
from tests.conftest import REAL_DATA, gridline_cli

NYC = REAL_DATA / "nyc311" / "311_Service_Requests.csv"
BALTIMORE = REAL_DATA / "baltimore311" / "311_sample.csv"
_BASE = (
    "name: t\nid: ID\nstream: hotline\ntimestamps: {formats: ['%Y'], timezone: UTC}\n"
    "fields: {received_at: T}\n"
)


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def _scalar(sql: str):
    return duckdb.sql(sql).fetchall()[0][0]


def _raw(path, where: str = "true") -> int:
    return _scalar(f"select count(*) from read_csv('{path}', all_varchar = true) where {where}")


def test_baltimore_gives_one_case_per_request_and_internal_ones_on_the_grid_stream(settings):
    result = ingest(IngestRequest(paths=[BALTIMORE], mapping="baltimore311"), settings)  # no --stream
    events = _events(settings)
    received = events.filter("event_type = 'case.received'")
    snapshots = events.filter("event_type = 'case.updated'")  # the state travels on the snapshot
    assert result.rows_read == 10_000 and result.quarantined == 0
    assert received.count("*").fetchall()[0][0] == 10_000
    assert received.select("entity_id").distinct().count("*").fetchall()[0][0] == 10_000
    per_stream = dict(received.aggregate("stream, count(*)").fetchall())
    assert per_stream == {"grid": _raw(BALTIMORE, "MethodReceived = 'Internal'"), "hotline": 7_806}
    assert per_stream["grid"] == 2_194
    # Every grid-stream case is exactly an Internal request (channel mapped to 巡查上报).
    mismatched = snapshots.filter("(stream = 'grid') <> (payload->>'channel' = '巡查上报')")
    assert mismatched.count("*").fetchall()[0][0] == 0
    duplicates = events.filter("event_type = 'case.closed_duplicate'").count("*").fetchall()[0][0]
    assert duplicates == _raw(BALTIMORE, "SRStatus like '%(Duplicate)%'") == 217
    # Cells come from coordinates inside the city; the export's (39, -77) placeholder gives none.
    located = snapshots.filter("payload->>'grid_code' is not null").count("*").fetchall()[0][0]
    inside = _raw(
        BALTIMORE,
        "try_cast(Latitude as double) between 39.19 and 39.38"
        " and try_cast(Longitude as double) between -76.72 and -76.52",
    )
    assert located == inside == 8_369
    sample = json.loads(
        snapshots.filter("entity_id = 'baltimore311:18-00269879'").select("payload").fetchall()[0][0]
    )
    assert sample["status"] == "已办结" and sample["status_raw"] == "Closed"
    assert sample["category_path"] == "TRT-Traffic Signal Repairs" and sample["community"] == "Dorchester"
    assert sample["received_at"] == "2018-04-12T15:11:26Z"  # 11:11:26 AM EDT
    assert sample["grid_code"] is None and sample["lat"] is None  # the (39, -77) placeholder
    assert sample["extra"]["SRRecordID"] == "18-00269879"


def test_nyc_requests_become_hotline_cases_with_cells_and_paths(settings):
    result = ingest(IngestRequest(paths=[NYC], format="mapping", mapping="nyc311"), settings)
    events = _events(settings)
    received = events.filter("event_type = 'case.received'")
    snapshots = events.filter("event_type = 'case.updated'")
    assert result.rows_read == 1_000 and result.quarantined == 0 and set(result.streams) == {"hotline"}
    assert received.count("*").fetchall()[0][0] == 1_000
    assert events.filter("event_type = 'case.resolved'").count("*").fetchall()[0][0] == _raw(
        NYC, "closed_date is not null"
    )
    assert events.filter("event_type = 'case.closed_duplicate'").count("*").fetchall()[0][0] == 1
    without_cell = snapshots.filter("payload->>'grid_code' is null").count("*").fetchall()[0][0]
    assert without_cell == _raw(NYC, "latitude is null")
    state = json.loads(snapshots.filter("entity_id = 'nyc311:61276295'").select("payload").fetchall()[0][0])
    assert state["category_path"] == "Street Condition/Pothole" and state["district"] == "MANHATTAN"
    assert state["status"] == "已派单" and state["channel"] == "UNKNOWN"  # unmapped channels pass through
    assert state["received_at"] == "2024-05-27T06:08:51Z" and state["grid_code"].startswith("500m:")


def test_a_changed_request_adds_only_its_changes(settings, tmp_path):
    with open(BALTIMORE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:200]
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    _write(first, rows)
    open_row = next(i for i, r in enumerate(rows) if r["SRStatus"] == "Open")
    changed = [dict(r) for r in rows]
    changed[open_row].update(
        SRStatus="Closed", StatusDate="03/01/2019 09:00:00 AM", CloseDate="03/01/2019 09:00:00 AM"
    )
    _write(later, changed)
    ingest(IngestRequest(paths=[first], mapping="baltimore311"), settings)
    result = ingest(IngestRequest(paths=[later], mapping="baltimore311"), settings)
    new = _events(settings).filter(f"batch_id = '{result.batch_id}'")
    assert sorted(r[0] for r in new.select("event_type").fetchall()) == ["case.resolved", "case.updated"]
    assert new.select("entity_id").distinct().fetchall() == [
        (f"baltimore311:{rows[open_row]['ServiceRequestNum']}",)
    ]


def test_unreadable_rows_are_quarantined_with_reasons(settings, tmp_path):
    with open(BALTIMORE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))[:5]
    rows[1]["ServiceRequestNum"] = ""
    rows[3]["CreatedDate"] = "2018-13-45"
    path = tmp_path / "bad.csv"
    _write(path, rows)
    result = ingest(IngestRequest(paths=[path], mapping="baltimore311"), settings)
    reasons = sorted(
        duckdb.sql(EventLog(settings.log_dir).quarantine_sql()).select("source_line, reason").fetchall()
    )
    assert reasons == [
        (3, "missing id (ServiceRequestNum)"),
        (5, "unreadable timestamp in received_at: 2018-13-45"),
    ]
    assert result.quarantined == 2 and result.rows_read == 5


def test_the_cli_needs_no_stream_when_the_mapping_assigns_them(home):
    proc = gridline_cli(
        "ingest", "--format", "mapping", "--mapping", "baltimore311", str(BALTIMORE), env_home=home
    )
    assert "read 10,000 rows: 10,000 new, 0 already known, 0 quarantined" in proc.stderr
    clash = gridline_cli(
        "ingest",
        "--stream",
        "hotline",
        "--mapping",
        "baltimore311",
        str(BALTIMORE),
        env_home=home,
        check=False,
    )
    assert clash.returncode == 1 and "assigns streams by MethodReceived" in clash.stderr
    assert clash.stderr.strip().splitlines()[-1].startswith("gridline: error: mapping baltimore311")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nid: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "expected a YAML mapping"),
        (_BASE, None),
        (_BASE + "colour: red\n", "colour: Extra inputs are not permitted"),
        (_BASE.replace("UTC", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (_BASE.replace("hotline", "radio"), "stream"),
        (_BASE + "values: {status: {Closed: done}}\n", "values.status maps onto ['done']"),
        (_BASE.replace("fields: {received_at: T}", "fields: {title: T}"), "fields.received_at is required"),
        (_BASE + "grid_cell: {lat: A, lon: B, bounds: [40, -70, 39, -71]}\n", "bounds must be"),
    ],
)
def test_a_bad_mapping_gets_one_clear_line(tmp_path, text, message):
    path = tmp_path / "m.yml"
    path.write_text(text)
    if message is None:
        assert load_mapping(str(path)).name == "t"
        return
    with pytest.raises(GridlineError, match="mapping .*m.yml: ") as caught:
        load_mapping(str(path))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_mapping_naming_absent_columns_or_unknown_names_is_refused(settings, tmp_path):
    with pytest.raises(GridlineError, match="no mapping 'chicago'"):
        load_mapping("chicago")
    path = tmp_path / "m.yml"
    path.write_text(
        "name: t\nid: SRRecordID\nstream: hotline\ntimestamps: {formats: ['%Y'], timezone: UTC}\n"
        "fields: {received_at: Created, status: Status}\n"
    )
    with pytest.raises(GridlineError, match=r"'Created' \(fields.received_at\), 'Status' \(fields.status\)"):
        ingest(IngestRequest(paths=[BALTIMORE], mapping=str(path)), settings)
    assert not EventLog(settings.log_dir).batch_dirs()


def _write(path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
