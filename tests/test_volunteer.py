"""The dual report-in volunteer log: CSV (UTF-8, GB18030) and XLSX, check-in and check-out events.

Fixtures are written by :func:`write_log` below (csv module or xlsxwriter), so every encoding and both
file types carry the same sessions.
"""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.volunteer import HEADERS
from tests.conftest import gridline_cli

HEADER = list(HEADERS)


def session(n: int, **changes) -> dict:
    row = {
        "记录编号": f"V{n:06d}",
        "报到单位": "市税务局机关党委" if n % 2 else "国网供电公司第三党支部",
        "单位类型": "机关" if n % 2 else "国有企业",
        "党员编号": f"DY{n % 4:05d}",
        "姓名": "李明华" if n % 4 == 1 else f"张{n}",
        "报到社区": "桃源社区",
        "所属街道": "梨园街道",
        "所属区县": "江岸区",
        "活动类型": "环境整治",
        "签到时间": f"2025-08-{n:02d} 09:00:00",
        "签退时间": f"2025-08-{n:02d} 11:30:00",
        "服务时长": "2.5",
        "关联工单": "HX2500000123" if n == 3 else "",
        "备注": "联系人李明华 13912345678" if n % 4 == 1 else "",
    }
    row.update(changes)
    return row


def write_log(path, rows: list[dict], encoding: str = "utf-8") -> None:
    if path.suffix == ".xlsx":
        import xlsxwriter

        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("双报到")
        for r, values in enumerate([HEADER, *[[row[h] for h in HEADER] for row in rows]]):
            for c, value in enumerate(values):
                sheet.write_string(r, c, value)
        workbook.close()
        return
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def good_sessions() -> list[dict]:
    rows = [session(n) for n in range(1, 7)]
    rows[4] = session(5, 签到时间="2025/8/5 9:00", 签退时间="2025/8/5 12:15", 服务时长="3.25")  # slash style
    rows[5] = session(6, 签退时间="", 服务时长="")  # still in the community: no check-out yet
    return rows


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def test_sessions_become_check_in_and_check_out_events(settings, tmp_path):
    path = tmp_path / "volunteer.csv"
    bad = [
        session(7, 记录编号=""),
        session(8, 签到时间="八月八日"),
        session(9, 签退时间="2025-08-09 25:00:00"),
        session(10, 服务时长="两小时"),
    ]
    write_log(path, good_sessions() + bad)
    result = ingest(IngestRequest(paths=[path]), settings)  # format detected from the Chinese headers
    assert result.rows_read == 10 and result.streams == {"volunteer": 11}
    events = _events(settings)
    counts = dict(events.aggregate("event_type, count(*)").fetchall())
    assert counts == {"volunteer.checked_in": 6, "volunteer.checked_out": 5}
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    assert sorted(quarantine.select("source_line, reason").fetchall()) == [
        (8, "missing 记录编号 (record id)"),
        (9, "unreadable timestamp in 签到时间: 八月八日"),
        (10, "unreadable timestamp in 签退时间: 2025-08-09 25:00:00"),
        (11, "unreadable 服务时长: 两小时"),
    ]
    checked_in = events.filter("entity_id = 'volunteer:V000001' and event_type = 'volunteer.checked_in'")
    payload = json.loads(checked_in.select("payload").fetchall()[0][0])
    assert payload["checked_in_at"] == "2025-08-01T01:00:00Z" and payload["hours"] == 2.5
    assert payload["unit_type"] == "机关" and payload["community"] == "桃源社区"
    assert payload["member_key"] and "DY" not in payload["member_key"] and payload["member_name_key"]
    assert payload["note"] == "联系人[姓名] [电话]"  # the member's own name and the phone are redacted
    slash = events.filter("entity_id = 'volunteer:V000005' and event_type = 'volunteer.checked_out'")
    assert json.loads(slash.select("payload").fetchall()[0][0]) == {"hours": 3.25}
    linked = json.loads(
        events.filter("entity_id = 'volunteer:V000003' and event_type = 'volunteer.checked_in'")
        .select("payload")
        .fetchall()[0][0]
    )
    assert linked["order_id"] == "HX2500000123"


def test_a_later_export_adds_only_the_check_out(settings, tmp_path):
    first, later = tmp_path / "day1.csv", tmp_path / "day2.csv"
    rows = good_sessions()
    write_log(first, rows)
    ingest(IngestRequest(paths=[first]), settings)
    rows[5] = session(6, 签退时间="2025-08-06 10:00:00", 服务时长="1")
    write_log(later, rows)
    result = ingest(IngestRequest(paths=[later], format="volunteer"), settings)
    new = _events(settings).filter(f"batch_id = '{result.batch_id}'")
    assert new.select("entity_id, event_type").fetchall() == [("volunteer:V000006", "volunteer.checked_out")]


@pytest.mark.parametrize("name", ["volunteer-gb.csv", "volunteer-bom.csv", "volunteer.xlsx"])
def test_gb18030_bom_and_xlsx_logs_read_like_utf8(settings, tmp_path, name):
    plain, other = tmp_path / "plain.csv", tmp_path / name
    write_log(plain, good_sessions())
    write_log(other, good_sessions(), encoding="gb18030" if "gb" in name else "utf-8-sig")
    first = ingest(IngestRequest(paths=[plain]), settings)
    second = ingest(IngestRequest(paths=[other]), settings)
    assert first.appended == 11
    assert second.appended == 0 and second.already_known == 11 and second.quarantined == 0


def test_the_cli_ingests_a_volunteer_log(home, tmp_path):
    path = tmp_path / "volunteer.xlsx"
    write_log(path, good_sessions())
    proc = gridline_cli("ingest", "--stream", "volunteer", str(path), env_home=home)
    assert "read 6 rows: 6 new, 0 already known, 0 quarantined; appended 11 events" in proc.stderr
    wrong = gridline_cli(
        "ingest", "--stream", "grid", "--format", "volunteer", str(path), env_home=home, check=False
    )
    assert wrong.returncode == 1 and "belong to the volunteer stream" in wrong.stderr
