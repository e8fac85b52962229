"""The shipped mappings for the shared real sets read every row, and the committed truth files are what
``scripts/build_truth.py`` builds from those rows, naming cases by the ids the mappings give them."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import REAL_DATA, REPO, gridline_cli

BOSTON = REAL_DATA / "boston311" / "boston311_2015H1.csv"
BOARD = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"


def _received(home) -> list[tuple[str, str, str]]:
    """(entity id, stream, occurred_at as text) of every case.received event in the home's log."""
    con = duckdb.connect()
    return con.execute(
        f"""
        select entity_id, stream, strftime(occurred_at at time zone 'UTC', '%Y-%m-%d %H:%M:%S')
        from read_parquet('{home}/log/batches/*/events.parquet') where event_type = 'case.received'
        """
    ).fetchall()


@pytest.mark.parametrize(
    ("mapping", "path", "rows"),
    [("boston311", BOSTON, 58_119), ("cn_gov_messages", BOARD, 2_109)],
)
def test_the_shipped_mapping_ingests_every_row_and_names_every_truth_case(tmp_path, mapping, path, rows):
    home = tmp_path / "home"
    proc = gridline_cli("ingest", "--mapping", mapping, str(path), env_home=home)
    printed = proc.stdout + proc.stderr  # the summary goes to the console (stderr)
    assert f"read {rows:,} rows" in printed and "0 quarantined" in printed
    received = _received(home)
    assert len(received) == rows
    truth = json.loads((REPO / "tests" / "truth" / f"{mapping}.json").read_text(encoding="utf-8"))
    truth_ids = {case_id for planted in truth["classes"] for case_id in planted["case_ids"]}
    assert truth_ids <= {entity_id for entity_id, _, _ in received}


def test_boston_times_are_boston_wall_clock_and_field_workers_are_the_grid_stream(tmp_path):
    home = tmp_path / "home"
    gridline_cli("ingest", "--mapping", "boston311", str(BOSTON), env_home=home)
    by_id = {entity_id: (stream, at) for entity_id, stream, at in _received(home)}
    # 101001240734: OPEN_DT 01/01/2015 12:20:09 AM in Boston (EST, UTC-5), a constituent's call
    assert by_id["boston311:101001240734"] == ("hotline", "2015-01-01 05:20:09")
    streams = [stream for stream, _ in by_id.values()]
    # Source = City Worker App (4,810) or Employee Generated (7,612): field workers' own reports
    assert streams.count("grid") == 4_810 + 7_612


def test_board_message_times_are_read_from_every_text_style_and_excel_cells(tmp_path):
    home = tmp_path / "home"
    gridline_cli("ingest", "--mapping", "cn_gov_messages", str(BOARD), env_home=home)
    by_id = {entity_id: at for entity_id, _, at in _received(home)}
    # "2019/2/28 11:25:05" in Asia/Shanghai (UTC+8)
    assert by_id["cn_gov_messages:188006"] == "2019-02-28 03:25:05"
    # an Excel date cell: 2019-04-26 15:28:42 in the workbook
    assert by_id["cn_gov_messages:313964"] == "2019-04-26 07:28:42"


def test_the_committed_truth_files_are_what_the_script_builds(tmp_path):
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_truth.py"),
            "--data",
            str(REAL_DATA),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for name in ("cn_gov_messages.json", "boston311.json"):
        built = (tmp_path / name).read_text(encoding="utf-8")
        assert built == (REPO / "tests" / "truth" / name).read_text(encoding="utf-8"), name
    board = json.loads((tmp_path / "cn_gov_messages.json").read_text(encoding="utf-8"))
    assert len(board["classes"]) >= 10 and all(len(c["case_ids"]) >= 4 for c in board["classes"])
    boston = json.loads((tmp_path / "boston311.json").read_text(encoding="utf-8"))
    assert (len(boston["classes"]), sum(len(c["case_ids"]) for c in boston["classes"])) == (1_804, 8_163)
