"""The generator's grid-jsonl and volunteer landing files through their adapters, checked against truth.json.

The generator plants malformed records and writes each one's file and line into ``truth.json``; the
adapters must quarantine exactly those and turn every other record into its events.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingestion.generate.scenario import generate
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from tests.conftest import gridline_cli


def _truth(landing: Path) -> dict:
    return json.loads((landing / "truth.json").read_text(encoding="utf-8"))


def _planted(truth: dict, stream: str) -> set[tuple[str, int]]:
    return {(Path(m["file"]).name, m["line"]) for m in truth["malformed"] if m["stream"] == stream}


def _quarantined(settings, batch_id: str) -> set[tuple[str, int]]:
    rows = duckdb.sql(EventLog(settings.log_dir).quarantine_sql()).filter(f"batch_id = '{batch_id}'")
    return {(Path(f).name, line) for f, line in rows.select("source_file, source_line").fetchall()}


def _entities(settings, event_type: str) -> int:
    events = duckdb.sql(EventLog(settings.log_dir).events_sql()).filter(f"event_type = '{event_type}'")
    return events.select("entity_id").distinct().count("*").fetchall()[0][0]


def test_generated_grid_submissions_match_the_truth(settings, tiny_landing):
    truth = _truth(tiny_landing)
    files = sorted((tiny_landing / "grid").glob("*/*.jsonl"))
    assert files
    result = ingest(IngestRequest(paths=files), settings)  # detected as grid-jsonl
    assert _quarantined(settings, result.batch_id) == _planted(truth, "grid")
    assert _entities(settings, "grid.submitted") == truth["counts"]["grid_submissions"]
    assert result.streams == {"grid": result.appended}


def test_generated_volunteer_sessions_match_the_truth(settings, tiny_landing):
    truth = _truth(tiny_landing)
    files = sorted((tiny_landing / "volunteer").glob("*/*.*"))
    assert {f.suffix for f in files} == {".csv", ".xlsx"}
    result = ingest(IngestRequest(paths=files), settings)  # detected from the Chinese headers
    assert _quarantined(settings, result.batch_id) == _planted(truth, "volunteer")
    assert _entities(settings, "volunteer.checked_in") == truth["counts"]["volunteer_sessions"]
    assert result.streams == {"volunteer": result.appended}


@pytest.fixture(scope="module")
def random_city_landing(tmp_path_factory) -> Path:
    """A tiny landing of another city (seed 6: composed names, order numbers without a letter prefix)."""
    out = tmp_path_factory.mktemp("random-city")
    generate(out, "tiny", 6, "random")
    return out


@pytest.mark.parametrize(
    ("stream", "event_type", "count"),
    [
        ("hotline", "case.received", "hotline_orders"),
        ("grid", "grid.submitted", "grid_submissions"),
        ("volunteer", "volunteer.checked_in", "volunteer_sessions"),
    ],
)
def test_another_citys_files_ingest_with_exactly_their_planted_quarantine(
    settings, random_city_landing, stream, event_type, count
):
    truth = _truth(random_city_landing)
    assert truth["city"]["kind"] == "random"
    files = sorted(p for p in (random_city_landing / stream).glob("*/*") if p.is_file())
    result = ingest(IngestRequest(paths=files), settings)  # each stream detected from its own columns
    assert result.streams == {stream: result.appended}
    assert _quarantined(settings, result.batch_id) == _planted(truth, stream)
    assert _entities(settings, event_type) == truth["counts"][count]


def test_another_city_runs_through_the_whole_pipeline_and_publishes(tmp_path, random_city_landing):
    """Ingest, build, audit and publish a city that is not the default reference, as a user would."""
    home = tmp_path / "home"
    truth = _truth(random_city_landing)
    for stream in ("hotline", "grid", "volunteer"):
        files = sorted(str(p) for p in (random_city_landing / stream).glob("*/*") if p.is_file())
        gridline_cli("ingest", "--stream", stream, *files, env_home=home)
    gridline_cli("run", env_home=home)  # a new city's first run publishes
    with duckdb.connect(str(home / "warehouse" / "published.duckdb"), read_only=True) as con:
        orders = con.sql("select count(*) from marts.cases where case_id like '12345:%'").fetchall()[0][0]
        sessions = con.sql("select count(*) from marts.volunteer_sessions").fetchall()[0][0]
    assert orders == truth["counts"]["hotline_orders"]
    assert sessions == truth["counts"]["volunteer_sessions"]
