"""Grid-worker app submissions (grid-jsonl): events, quarantine with line numbers, privacy, idempotence.

The fixture is written by :func:`write_submissions` below: a small, varied set of submissions plus the
kinds of broken lines field exports contain.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from tests.conftest import gridline_cli

KINDS = ("visit", "issue", "dispute", "service", "info")


def submission(n: int, **changes) -> dict:
    record = {
        "submission_id": f"S25{n:06d}",
        "worker_id": f"W{n % 3:04d}",
        "grid_code": f"D01S01C01G0{n % 4 + 1}",
        "submitted_at": f"2025-07-{n % 28 + 1:02d}T09:{n % 60:02d}:00+08:00",
        "kind": KINDS[n % len(KINDS)],
        "category_path": "城乡建设/市政设施/路灯不亮",
        "description": f"巡查发现第{n}号路灯不亮，居民王先生电话13800138000反映",
        "address": f"梨园街道桃源社区{n}栋",
        "lat": 30.59 + n / 1000,
        "lon": 114.30,
        "status": "reported",
        "resolved_on_site": n % 2 == 0,
        "related_submission_id": None,
        "order_id": None,
        "resident_phone": "138 0013 8000" if n % 2 else "+86-13800138000",
        "photos": n % 3,
    }
    record.update(changes)
    return record


def write_submissions(path, lines: list[str | dict], encoding: str = "utf-8") -> None:
    text = "\n".join(json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x for x in lines) + "\n"
    path.write_bytes(text.encode(encoding))


@pytest.fixture
def submissions_file(tmp_path):
    path = tmp_path / "grid-20250701.jsonl"
    lines = [submission(n) for n in range(1, 9)]
    lines[3] = submission(4, related_submission_id="S25000001", order_id="HX2500000123", status="resolved")
    lines += [
        '{"submission_id": "S25000099", "kind": "visit"',  # line 9: cut off mid-object
        "",  # line 10: blank, skipped
        '["S25000100", "visit"]',  # line 11: not an object
        submission(12, submission_id=None),  # line 12
        submission(13, submitted_at="2025-07-01 9点"),  # line 13
        submission(14, kind="patrol"),  # line 14
    ]
    write_submissions(path, lines)
    return path


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def test_submissions_become_grid_events_and_bad_lines_are_quarantined(settings, submissions_file):
    result = ingest(IngestRequest(paths=[submissions_file]), settings)  # format detected
    assert result.rows_read == 13 and result.appended == 8 and result.streams == {"grid": 8}
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    assert sorted(quarantine.select("source_line, reason").fetchall()) == [
        (9, "invalid JSON"),
        (11, "not a JSON object (array)"),
        (12, "missing submission_id"),
        (13, "unreadable submitted_at: 2025-07-01 9点"),
        (14, "unknown kind: patrol"),
    ]
    assert "13800138000" not in " ".join(r[0] for r in quarantine.select("raw").fetchall())
    events = _events(settings)
    kinds = set(events.select("event_type, stream, source_system").fetchall())
    assert kinds == {("grid.submitted", "grid", "grid-app")}
    row = (
        events.filter("entity_id = 'grid:S25000004'")
        .select("occurred_at, payload, source_line")
        .fetchall()[0]
    )
    payload = json.loads(row[1])
    assert row[2] == 4  # lineage: the line in the file
    assert payload["related_submission_id"] == "S25000001" and payload["order_id"] == "HX2500000123"
    assert payload["kind"] == "info" and payload["status"] == "resolved" and payload["photos"] == 1
    assert payload["resolved_on_site"] is True and payload["lat"] == pytest.approx(30.594)
    assert "13800138000" not in payload["description"] and "[电话]" in payload["description"]
    assert "worker_id" not in payload and payload["worker_key"] != "W0001"
    # The same phone written two ways links to one resident.
    residents = events.select("payload->>'resident_key'").distinct().fetchall()
    assert len(residents) == 1 and residents[0][0] is not None


def test_submitted_at_is_stored_in_utc(settings, tmp_path):
    path = tmp_path / "one.jsonl"
    write_submissions(path, [submission(1, submitted_at="2025-07-02T08:30:00+08:00")])
    ingest(IngestRequest(paths=[path], format="grid-jsonl"), settings)
    events = EventLog(settings.log_dir).events_sql()
    utc = duckdb.sql(
        f"select strftime(timezone('UTC', occurred_at), '%Y-%m-%d %H:%M') from ({events})"
    ).fetchall()
    assert utc == [("2025-07-02 00:30",)]


def test_resent_and_reencoded_submissions_add_nothing(settings, tmp_path, submissions_file):
    first = ingest(IngestRequest(paths=[submissions_file]), settings)
    gb = tmp_path / "resent.jsonl"
    lines = [submission(n) for n in range(1, 9)]
    lines[3] = submission(4, related_submission_id="S25000001", order_id="HX2500000123", status="resolved")
    write_submissions(gb, lines, encoding="gb18030")
    again = ingest(IngestRequest(paths=[gb], format="grid-jsonl"), settings)
    assert again.appended == 0 and again.already_known == first.appended


def test_the_cli_reads_grid_jsonl_and_refuses_another_stream(home, submissions_file):
    proc = gridline_cli("ingest", "--stream", "grid", str(submissions_file), env_home=home)
    assert "read 13 rows: 8 new, 0 already known, 5 quarantined; appended 8 events" in proc.stderr
    wrong = gridline_cli("ingest", "--stream", "hotline", str(submissions_file), env_home=home, check=False)
    assert wrong.returncode == 1 and "belong to the grid stream" in wrong.stderr


def test_a_missing_file_is_a_clear_error(settings, tmp_path):
    with pytest.raises(GridlineError, match="no such file"):
        ingest(IngestRequest(paths=[tmp_path / "absent.jsonl"], format="grid-jsonl"), settings)
