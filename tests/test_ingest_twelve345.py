"""The 12345 export through ingestion into the log: idempotence, snapshots, encodings, privacy."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from zoneinfo import ZoneInfo

import duckdb
import pytest

from gridline.errors import GridlineError
from ingestion.generate import hotline
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.reading import detect_encoding, text_encoding


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def _text(path):
    return path.read_text(encoding=text_encoding(path))


def _export_files(landing):
    """The CSV exports, plain UTF-8 ones with dash timestamps first: tests that edit rows start there."""
    files = sorted((landing / "hotline").glob("*/*.csv"))
    return sorted(files, key=lambda p: (detect_encoding(p) != "utf-8", "/" in _text(p).splitlines()[1][:40]))


def _rows(path):
    """The well-formed rows of an export (the generator plants malformed ones; truth.json lists them)."""
    with open(path, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    dash = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    return [
        r
        for r in rows
        if None not in r
        and None not in r.values()
        and r["工单编号"]
        and dash.fullmatch(r["来电时间"])
        and r["重办次数"].isdigit()
    ]


def test_reingesting_the_same_file_adds_nothing(settings, tiny_landing):
    # Files without planted malformed rows: those would be quarantined again on the second read.
    truth = json.loads((tiny_landing / "truth.json").read_text(encoding="utf-8"))
    broken = {tiny_landing / m["file"] for m in truth["malformed"]}
    files = [f for f in _export_files(tiny_landing) if f not in broken]
    first = ingest(IngestRequest(paths=files), settings)
    count = _events(settings).count("*").fetchall()[0][0]
    second = ingest(IngestRequest(paths=files), settings)
    assert first.appended > 0 and first.appended == count
    assert second.appended == 0 and second.batch_id is None
    # every event read again is known, a fact repeated across the files as often as it is read
    assert second.already_known == first.appended + first.already_known
    assert second.rows_read == second.rows_known == first.rows_read
    assert _events(settings).count("*").fetchall()[0][0] == count


def test_a_changed_order_adds_only_its_changes(settings, tmp_path, tiny_landing):
    source = _export_files(tiny_landing)[0]
    rows = _rows(source)
    ingest(IngestRequest(paths=[source]), settings)
    changed = dict(rows[0])
    changed.update(
        {"工单状态": "重办", "重办次数": str(int(changed["重办次数"]) + 1), "更新时间": "2025-12-30 10:00:00"}
    )
    later = tmp_path / "later.csv"
    hotline.write_orders(later, [changed, *rows[1:]])  # an overlapping re-export with one change
    result = ingest(IngestRequest(paths=[later]), settings)
    new = _events(settings).filter(f"batch_id = '{result.batch_id}'")
    kinds = sorted(r[0] for r in new.select("event_type").fetchall())
    assert kinds == ["case.reopened", "case.updated"]
    assert {r[0] for r in new.select("entity_id").fetchall()} == {f"12345:{changed['工单编号']}"}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_bom_and_gb18030_exports_read_like_utf8(settings, tmp_path, tiny_landing, encoding):
    rows = _rows(_export_files(tiny_landing)[0])[:50]
    plain, other = tmp_path / "plain.csv", tmp_path / f"{encoding}.csv"
    hotline.write_orders(plain, rows)
    hotline.write_orders(other, rows, encoding=encoding)
    first = ingest(IngestRequest(paths=[plain]), settings)
    second = ingest(IngestRequest(paths=[other]), settings)
    assert first.appended > 0
    assert second.appended == 0 and second.already_known == first.appended


def test_slash_timestamps_without_seconds_are_read(settings, tmp_path, tiny_landing):
    row = dict(_rows(_export_files(tiny_landing)[0])[0])
    for key in ("来电时间", "派单时间", "更新时间"):
        y, m, d, hh, mm = re.match(r"(\d+)-(\d+)-(\d+) (\d+):(\d+)", row[key]).groups()
        row[key] = f"{int(y)}/{int(m)}/{int(d)} {int(hh)}:{mm}"
    path = tmp_path / "slash.csv"
    hotline.write_orders(path, [row])
    result = ingest(IngestRequest(paths=[path]), settings)
    assert result.quarantined == 0
    received = _events(settings).filter("event_type = 'case.received'").select("occurred_at").fetchall()[0][0]
    y, m, d, hh, mm = (int(x) for x in re.match(r"(\d+)/(\d+)/(\d+) (\d+):(\d+)", row["来电时间"]).groups())
    local = received.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (y, m, d, hh, mm)
    assert received.utcoffset().total_seconds() == 0 or received.tzinfo is not None


def test_unreadable_rows_are_quarantined_with_reason_and_line(settings, tmp_path, tiny_landing):
    rows = _rows(_export_files(tiny_landing)[0])[:10]
    rows[2] = {**rows[2], "工单编号": ""}
    rows[5] = {**rows[5], "来电时间": "昨天下午"}
    path = tmp_path / "bad.csv"
    hotline.write_orders(path, rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("HX_BROKEN,2025-07-01 08:00:00,13900000000\n")  # too few fields
    result = ingest(IngestRequest(paths=[path]), settings)
    # 11 records: 8 read into events, 3 quarantined (the malformed one too), and they add up
    assert (result.rows_read, result.rows_new, result.quarantined) == (11, 8, 3)
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    found = sorted(quarantine.select("source_line, reason").fetchall())
    assert [line for line, _ in found] == [4, 7, 12]
    assert "order id" in found[0][1] and "received" in found[1][1] and "malformed" in found[2][1]
    assert "13900000000" not in str(quarantine.fetchall())


def test_no_clear_phone_number_is_written_anywhere(settings, tiny_landing):
    files = _export_files(tiny_landing)
    ingest(IngestRequest(paths=files), settings)
    phones = set()
    for path in files:
        text = _text(path)
        phones |= set(re.findall(r"1[3-9]\d{9}", text))
    assert len(phones) > 100
    written = b"".join(p.read_bytes() for p in settings.home.rglob("*") if p.is_file())
    leaked = [phone for phone in phones if phone.encode() in written]
    assert leaked == []


def test_missing_key_refuses_to_ingest(settings, tiny_landing, monkeypatch):
    monkeypatch.delenv("GRIDLINE_PII_KEY")
    with pytest.raises(GridlineError, match="pseudonymisation key"):
        ingest(IngestRequest(paths=_export_files(tiny_landing)), settings)
    assert not (settings.log_dir / "batches").exists()


def test_unknown_format_is_one_clear_error(settings, tmp_path):
    path = tmp_path / "random.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(GridlineError, match="cannot tell its format"):
        ingest(IngestRequest(paths=[path]), settings)


def test_reingesting_a_file_with_bad_rows_adds_no_batch(settings, tmp_path, tiny_landing):
    rows = _rows(_export_files(tiny_landing)[0])[:5]
    rows[1] = {**rows[1], "工单编号": ""}
    path = tmp_path / "bad.csv"
    hotline.write_orders(path, rows)
    first = ingest(IngestRequest(paths=[path]), settings)
    second = ingest(IngestRequest(paths=[path]), settings)
    assert first.quarantined == 1 and first.batch_id is not None
    assert second.quarantined == 0 and second.appended == 0 and second.batch_id is None
    assert len(EventLog(settings.log_dir).batch_dirs()) == 1


def test_blank_reopen_count_keeps_the_order(settings, tmp_path, tiny_landing):
    rows = _rows(_export_files(tiny_landing)[0])[:3]
    rows[0] = {**rows[0], "重办次数": ""}
    path = tmp_path / "blank.csv"
    hotline.write_orders(path, rows)
    result = ingest(IngestRequest(paths=[path]), settings)
    received = _events(settings).filter("event_type = 'case.received'").count("*").fetchall()[0][0]
    assert result.quarantined == 0 and received == 3


def test_midnight_xlsx_cells_read_as_local_midnight(settings, tmp_path):
    import xlsxwriter

    path = tmp_path / "midnight.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["工单编号", "来电时间", "诉求分类"])
    sheet.write_string(1, 0, "HX2599000001")
    sheet.write_datetime(
        1, 1, __import__("datetime").datetime(2025, 8, 1, 0, 0), book.add_format({"num_format": "yyyy-mm-dd"})
    )
    sheet.write_string(1, 2, "城乡建设/市政设施/路灯不亮")
    book.close()
    result = ingest(IngestRequest(paths=[path]), settings)
    assert result.quarantined == 0
    received = _events(settings).filter("event_type = 'case.received'").select("occurred_at").fetchall()[0][0]
    assert received.astimezone(ZoneInfo("Asia/Shanghai")).isoformat() == "2025-08-01T00:00:00+08:00"


def test_two_copies_of_a_file_in_one_batch_commit_each_event_once(settings, tiny_landing):
    """A re-sent copy landing beside the original (same lines, same facts) must not duplicate ids."""
    grid_file = sorted((tiny_landing / "grid").glob("*/*.jsonl"))[0]
    volunteer_file = sorted((tiny_landing / "volunteer").glob("*/*"))[0]
    result = ingest(IngestRequest(paths=[grid_file, volunteer_file, grid_file, volunteer_file]), settings)
    events = _events(settings)
    total, distinct = events.aggregate("count(*), count(distinct event_id)").fetchall()[0]
    assert result.appended == total == distinct > 0


def test_files_read_in_one_pass_keep_their_own_record_numbers(settings, tmp_path, tiny_landing):
    """Daily files are read in one scan; each record is still numbered within its own file, and a
    malformed record shifts only the numbers after it in its own file."""
    rows = _rows(_export_files(tiny_landing)[0])[:9]
    paths = []
    for day, (start, broken_after) in enumerate([(0, 1), (3, None), (6, 0)]):
        path = tmp_path / f"day{day}.csv"
        hotline.write_orders(path, rows[start : start + 3], "gb18030" if day == 1 else "utf-8")
        if broken_after is not None:  # a short record after data record ``broken_after`` (0-based)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            lines.insert(2 + broken_after, "HX_BROKEN,2025-07-01 08:00:00\n")
            path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    result = ingest(IngestRequest(paths=paths), settings)
    assert (result.rows_read, result.rows_new, result.quarantined) == (11, 9, 2)
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    assert sorted(quarantine.select("source_file, source_line").fetchall()) == [
        (str(paths[0].resolve()), 4),
        (str(paths[2].resolve()), 3),
    ]
    snapshots = _events(settings).filter("event_type = 'case.updated'")
    where = dict(snapshots.select("entity_id, source_file || '#' || source_line").fetchall())
    expected = [(0, 2), (0, 3), (0, 5), (1, 2), (1, 3), (1, 4), (2, 2), (2, 4), (2, 5)]
    for row, (day, line) in zip(rows, expected, strict=True):
        assert where[f"12345:{row['工单编号']}"] == f"{paths[day].resolve()}#{line}"


def test_an_order_at_the_same_line_of_two_exports_read_in_one_pass_is_kept(settings, tmp_path, tiny_landing):
    """A monthly and a quarterly export of one header are read in one scan; an order sitting at the same
    line of both repeats its events at the same record number, and exactly one sighting must survive."""
    rows = _rows(_export_files(tiny_landing)[0])[:4]
    monthly, quarterly = tmp_path / "month.csv", tmp_path / "quarter.csv"
    hotline.write_orders(monthly, rows[:2], "utf-8")
    hotline.write_orders(quarterly, [*rows[:2], *rows[2:]], "utf-8")  # the month's orders first, same lines
    result = ingest(IngestRequest(paths=[monthly, quarterly]), settings)
    assert (result.rows_read, result.rows_new, result.rows_known) == (6, 4, 2)
    events = _events(settings)
    cases = {entity for (entity,) in events.select("entity_id").distinct().fetchall()}
    assert cases == {f"12345:{row['工单编号']}" for row in rows}
    total, distinct = events.aggregate("count(*), count(distinct event_id)").fetchall()[0]
    assert result.appended == total == distinct


def test_a_file_already_committed_is_skipped_unread_and_counted_as_known(settings, tmp_path, tiny_landing):
    export = tmp_path / "day.csv"
    hotline.write_orders(export, _rows(_export_files(tiny_landing)[0])[:20])
    first = ingest(IngestRequest(paths=[export]), settings)
    said: list[str] = []
    export.touch()  # a new modification time: the bytes decide, not the file's stamp
    again = ingest(IngestRequest(paths=[export]), settings, progress=said.append)
    assert any("skipped unread" in line for line in said)
    assert (again.batch_id, again.appended, again.rows_read, again.rows_known) == (None, 0, 20, 20)
    assert again.already_known == first.appended
    changed = export.read_text(encoding="utf-8").replace("\n", "\r\n", 1)  # same rows, other bytes
    export.write_text(changed, encoding="utf-8")
    said.clear()
    reread = ingest(IngestRequest(paths=[export]), settings, progress=said.append)
    assert not said and (reread.rows_read, reread.rows_known, reread.appended) == (20, 20, 0)


@pytest.mark.parametrize("extra", ["filename", "file_row_number", "source_file", "_rank", "_line"])
def test_an_export_with_a_column_named_like_the_readers_own_reads_the_same(
    settings, tmp_path, tiny_landing, extra
):
    """A city's export may carry any column of its own: one named like a column the reader adds for
    itself (the file a record came from, its place in the scan) changes nothing, malformed rows included."""
    rows = _rows(_export_files(tiny_landing)[0])[:6]
    plain, extended = tmp_path / "plain.csv", tmp_path / "extended.csv"
    for path, header in ((plain, hotline.HEADER), (extended, [*hotline.HEADER, extra])):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows([{**row, extra: "x.jpg"} if extra in header else row for row in rows])
            handle.write("HX_BROKEN,2025-07-01 08:00:00\n")  # malformed: numbered by the slower path
    read = {}
    for path in (plain, extended):
        home = dataclasses.replace(settings, home=tmp_path / path.stem)
        result = ingest(IngestRequest(paths=[path]), home)
        events = _events(home).select("event_id, source_line").order("event_id").fetchall()
        read[path.stem] = (result.rows_read, result.rows_new, result.quarantined, events)
    assert read["extended"][:3] == read["plain"][:3] == (7, 6, 1)
    assert [e[0] for e in read["extended"][3]] == [e[0] for e in read["plain"][3]]
    assert [e[1] for e in read["extended"][3]] == [e[1] for e in read["plain"][3]]
