"""Reading landing files the way real exports come: blank header cells and workbook date cells.

Real data: data/real/boston311 (johnsliao/bostonservicemap @ f19ec62, cartoDB_data/*.csv) and
data/real/cn_gov_messages/board_messages_2019H1.xlsx (Tangweiyu/SmartGovernment @ 4430cc0, data/附件3.xlsx).
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import islice

import duckdb
from python_calamine import CalamineWorkbook

from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.reading import column_names
from tests.conftest import REAL_DATA

BOSTON = REAL_DATA / "boston311" / "boston311_2015H1.csv"
BOARD = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"


def test_blank_and_repeated_header_cells_get_names_of_their_own():
    assert column_names(["", "id", " ", "id", None, "id"]) == [
        "column_1",
        "id",
        "column_3",
        "id_2",
        "column_5",
        "id_3",
    ]


def test_a_file_whose_first_header_cell_is_blank_ingests_and_the_cell_can_be_mapped(settings, tmp_path):
    sample = tmp_path / "boston.csv"
    with open(BOSTON, encoding="utf-8") as handle:
        sample.write_text("".join(islice(handle, 201)), encoding="utf-8")
    mapping = tmp_path / "boston.yml"
    mapping.write_text(
        "name: boston\nid: CASE_ENQUIRY_ID\nstream: hotline\n"
        "timestamps: {formats: ['%m/%d/%Y %I:%M:%S %p'], timezone: America/New_York}\n"
        "fields: {received_at: OPEN_DT, category_path: TYPE}\nextra: [column_1]\n"
    )
    result = ingest(IngestRequest(paths=[sample], mapping=str(mapping)), settings)
    assert result.rows_read == 200 and result.quarantined == 0
    payloads = duckdb.sql(EventLog(settings.log_dir).events_sql()).filter("event_type = 'case.updated'")
    row_indexes = {json.loads(p)["extra"]["column_1"] for (p,) in payloads.select("payload").fetchall()}
    assert len(row_indexes) == 200 and "469451" in row_indexes


def test_workbook_date_cells_are_times_whatever_the_mapping_formats_say(settings, tmp_path):
    rows = CalamineWorkbook.from_path(str(BOARD)).get_sheet_by_index(0).to_python(skip_empty_area=True)
    column = rows[0].index("留言时间")
    date_cells = {str(int(r[0])): r[column] for r in rows[1:] if isinstance(r[column], datetime)}
    assert date_cells, "the real workbook has Excel date cells besides typed text"
    mapping = tmp_path / "board.yml"
    mapping.write_text(
        "name: board\nid: 留言编号\nstream: hotline\n"
        "timestamps: {formats: ['%Y/%m/%d %H:%M:%S'], timezone: Asia/Shanghai}\n"
        "fields: {received_at: 留言时间, title: 留言主题}\n"
    )
    result = ingest(IngestRequest(paths=[BOARD], mapping=str(mapping)), settings)
    assert result.quarantined == 0 and result.rows_read == len(rows) - 1
    received = dict(
        duckdb.sql(EventLog(settings.log_dir).events_sql())
        .filter("event_type = 'case.received'")
        .select("split_part(entity_id, ':', 2), timezone('Asia/Shanghai', occurred_at)")
        .fetchall()
    )
    assert {k: received[k] for k in date_cells} == date_cells


def test_long_ingest_work_reports_files_and_rows(settings, tmp_path, monkeypatch):
    import ingestion.ingest

    monkeypatch.setattr(ingestion.ingest, "PROGRESS_EVERY", 0.0)
    mapping = tmp_path / "boston.yml"
    mapping.write_text(
        "name: boston\nid: CASE_ENQUIRY_ID\nstream: hotline\n"
        "timestamps: {formats: ['%m/%d/%Y %I:%M:%S %p'], timezone: America/New_York}\n"
        "fields: {received_at: OPEN_DT}\n"
    )
    with open(BOSTON, encoding="utf-8") as handle:
        lines = list(islice(handle, 61))
    files = []
    for part in range(3):
        files.append(tmp_path / f"part{part}.csv")
        files[-1].write_text(lines[0] + "".join(lines[1 + 20 * part : 21 + 20 * part]), encoding="utf-8")
    said: list[str] = []
    ingest(IngestRequest(paths=files, mapping=str(mapping)), settings, progress=said.append)
    assert len(said) == 4
    assert said[0].startswith("1 of 3 files, 20 rows") and said[1].startswith("2 of 3 files, 40 rows")
    assert said[2].startswith("3 file(s), 60 rows read; committing")
    # the home's first export tells the city's clock
    assert said[3].startswith("the city's time zone is now America/New_York")
