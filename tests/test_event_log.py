"""The event log's promises, each proven on real files: idempotence, snapshots, late data, crashes,
concurrency, privacy, quarantine, and the key's configuration.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.twelve345 import HEADERS
from tests.conftest import BIN, REPO, TEST_KEY, gridline_cli

HEADER = list(HEADERS)


def _order(i: int, **changes: str) -> dict[str, str]:
    """One 12345 export row, by header name; ``changes`` override fields by their English key."""
    day = 1 + i % 28
    row = {
        "order_id": f"HX25{i:08d}",
        "received_at": f"2025-07-{day:02d} 08:{i % 60:02d}:00",
        "caller_phone": f"139{i:08d}",
        "caller_name": "王" + "伟芳娜敏静丽"[i % 6],
        "channel": "电话",
        "appeal_type": "投诉",
        "category_path": "城乡建设/物业管理/物业服务",
        "title": f"{i}号楼电梯故障",
        "description": f"居民反映{i}号楼电梯停运，请回电137{i:08d}。",
        "address": f"朝阳区某街道{i}号",
        "district": "朝阳区",
        "street": "街道1",
        "community": "社区1",
        "grid_code": "G00001",
        "handling_unit": "街道办事处1",
        "status": "已签收",
        "dispatched_at": f"2025-07-{day:02d} 09:00:00",
        "accepted_at": f"2025-07-{day:02d} 10:00:00",
        "first_contact_at": "",
        "escalated_at": "",
        "resolved_at": "",
        "rated_at": "",
        "resolution": "",
        "satisfaction": "",
        "reopen_count": "0",
        "updated_at": f"2025-07-{day:02d} 10:00:00",
    }
    row.update(changes)
    return {zh: row[en] for zh, en in HEADERS.items()}


def _resolved(i: int, updated: str = "2025-08-20 12:00:00") -> dict[str, str]:
    return _order(
        i,
        status="已办结",
        resolved_at="2025-08-20 11:00:00",
        resolution="已维修",
        updated_at=updated,
    )


def _write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _events(settings) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def _count(settings, where: str = "true") -> int:
    return _events(settings).filter(where).count("*").fetchall()[0][0]


def _bench_module():
    """The benchmark's vectorised export writer (DuckDB writes a large export in well under a second)."""
    spec = importlib.util.spec_from_file_location("bench_ingest", REPO / "scripts" / "bench_ingest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- idempotence and snapshots ------------------------------------------------------------------------


def test_reingest_and_a_resent_export_add_nothing(settings, tmp_path):
    export = _write(tmp_path / "export.csv", [_order(i) for i in range(40)])
    first = ingest(IngestRequest(paths=[export]), settings)
    assert first.appended == 40 * 4  # received, dispatched, accepted, and the first snapshot
    resent = tmp_path / "resent-by-mail.csv"
    resent.write_bytes(export.read_bytes())
    for again in (export, resent):
        result = ingest(IngestRequest(paths=[again]), settings)
        assert (result.appended, result.already_known, result.batch_id) == (0, 160, None)
    both = ingest(IngestRequest(paths=[export, resent]), settings)  # one batch, the same file twice
    assert both.appended == 0 and both.already_known == 320 and both.rows_read == both.rows_known == 80
    assert _count(settings) == 160
    assert len(EventLog(settings.log_dir).batch_dirs()) == 1


def test_an_overlapping_export_adds_only_what_changed(settings, tmp_path):
    ingest(IngestRequest(paths=[_write(tmp_path / "day1.csv", [_order(i) for i in range(100)])]), settings)
    day2 = (
        [_resolved(i) for i in range(50, 60)]  # changed: resolved
        + [_order(i, updated_at="2025-08-21 09:00:00") for i in range(60, 70)]  # re-stamped, unchanged
        + [_order(i) for i in range(70, 100)]  # exactly as before
        + [_order(i) for i in range(100, 150)]  # new orders
    )
    result = ingest(IngestRequest(paths=[_write(tmp_path / "day2.csv", day2)]), settings)
    new = _events(settings).filter(f"batch_id = '{result.batch_id}'")
    by_entity = dict(new.aggregate("entity_id, string_agg(event_type, ',' order by event_type)").fetchall())
    changed = {f"12345:HX25{i:08d}": "case.resolved,case.updated" for i in range(50, 60)}
    added = {
        f"12345:HX25{i:08d}": "case.accepted,case.dispatched,case.received,case.updated"
        for i in range(100, 150)
    }
    assert by_entity == changed | added
    assert result.appended == 10 * 2 + 50 * 4
    # Everything else is known, the re-stamped snapshots of unchanged orders included.
    assert result.already_known == (10 * 5 + 90 * 4) - result.appended


def test_late_rows_keep_their_own_time_and_never_pass_for_the_newest_state(settings, tmp_path):
    newest = _order(
        7,
        status="已回访",
        resolved_at="2025-08-20 11:00:00",
        resolution="已维修",
        rated_at="2025-08-21 09:00:00",
        satisfaction="满意",
        updated_at="2025-08-21 09:00:00",
    )
    ingest(IngestRequest(paths=[_write(tmp_path / "august.csv", [newest])]), settings)
    # A July export arrives weeks late: it knows the order as accepted, and as already being worked on.
    late_same = _order(7)  # the order's state on 2025-07-08: equal to nothing known before it
    late_other = _order(7, status="办理中", updated_at="2025-07-08 15:00:00")
    result = ingest(IngestRequest(paths=[_write(tmp_path / "july.csv", [late_same, late_other])]), settings)
    assert result.appended == 2  # two older snapshots, each differing from what preceded it
    snapshots = (
        _events(settings)
        .filter("event_type = 'case.updated'")
        .order("occurred_at")
        .select("strftime(timezone('UTC', occurred_at), '%Y-%m-%d %H:%M'), payload->>'status', batch_id")
        .fetchall()
    )
    assert [(at, status) for at, status, _ in snapshots] == [
        ("2025-07-08 02:00", "已签收"),  # 10:00 local
        ("2025-07-08 07:00", "办理中"),
        ("2025-08-21 01:00", "已回访"),
    ]
    latest_status = duckdb.sql(
        f"""select payload->>'status' from ({EventLog(settings.log_dir).events_sql()})
            where event_type = 'case.updated'
            qualify row_number() over (order by occurred_at desc, recorded_at desc) = 1"""
    ).fetchall()[0][0]
    assert latest_status == "已回访"
    # The same late export once more, and an older state that equals its predecessor: nothing new.
    again = ingest(IngestRequest(paths=[tmp_path / "july.csv"]), settings)
    repeat = _order(7, status="办理中", updated_at="2025-07-09 15:00:00")
    same = ingest(IngestRequest(paths=[_write(tmp_path / "july9.csv", [repeat])]), settings)
    assert again.appended == 0 and same.appended == 0


# -- crashes and concurrency --------------------------------------------------------------------------


def _spawn_ingest(home: Path, *paths: Path) -> subprocess.Popen:
    env = {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": TEST_KEY}
    return subprocess.Popen(
        [str(BIN / "gridline"), "ingest", *map(str, paths)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"ingest ended before the moment to kill it: {proc.communicate()}"
        assert time.monotonic() < deadline, "the ingest never reached the moment to kill it"
        time.sleep(0.002)


def test_sigkill_mid_batch_then_retry_commits_exactly_once(tmp_path):
    export = tmp_path / "big.csv"
    _bench_module().write_export(export, 30_000)
    home = tmp_path / "home"
    log = EventLog(home / "log")

    proc = _spawn_ingest(home, export)
    _wait_for(lambda: log.staging_dir.exists() and any(log.staging_dir.iterdir()), proc)
    proc.send_signal(signal.SIGKILL)  # the batch is being written into _staging
    assert proc.wait() == -signal.SIGKILL
    assert log.batch_dirs() == []  # readers see nothing of the half-written batch
    assert any(log.staging_dir.iterdir())  # only debris, which the next writer sweeps

    scratch = list(Path(tempfile.gettempdir()).glob(f"gridline-scratch-{proc.pid}-*"))
    assert scratch  # the killed process's private scratch folder is left behind ...
    retry = gridline_cli("ingest", str(export), env_home=home)
    assert not any(folder.exists() for folder in scratch)  # ... until the next ingest sweeps it
    assert not log.staging_dir.exists() or not any(log.staging_dir.iterdir())
    assert len(log.batch_dirs()) == 1
    clean_home = tmp_path / "clean"
    gridline_cli("ingest", str(export), env_home=clean_home)
    counts = "select count(*), count(distinct event_id) from ({})"
    killed_then_retried = duckdb.sql(counts.format(log.events_sql())).fetchall()
    clean = duckdb.sql(counts.format(EventLog(clean_home / "log").events_sql())).fetchall()
    assert killed_then_retried == clean and clean[0][0] == clean[0][1] > 30_000
    assert "appended" in retry.stderr


def test_two_processes_ingesting_at_once_do_not_corrupt_each_other(tmp_path):
    # Two overlapping exports: if both writers decided "new" against the same log state, the 200
    # shared orders would be appended twice.
    first = _write(tmp_path / "a.csv", [_order(i) for i in range(0, 600)])
    second = _write(tmp_path / "b.csv", [_order(i) for i in range(400, 1000)])
    home = tmp_path / "home"
    procs = [_spawn_ingest(home, first), _spawn_ingest(home, second)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    log = EventLog(home / "log")
    assert len(log.batch_dirs()) == 2
    total, distinct = duckdb.sql(
        f"select count(*), count(distinct event_id) from ({log.events_sql()})"
    ).fetchall()[0]
    assert total == distinct == 1000 * 4


# -- privacy and quarantine ---------------------------------------------------------------------------


def _decoded_parquet_text(path: Path) -> bytes:
    """Every value of a Parquet file as text: compressed pages would hide a leak from a byte search."""
    rows = duckdb.sql(f"select * from read_parquet('{path}')").fetchall()
    return repr(rows).encode()


def test_no_phone_number_from_the_input_is_written_anywhere(settings, tmp_path):
    rows = [_order(i) for i in range(30)]
    rows[3] = _order(3, description="电话 138 0013 8000，或+86-139-1234-5678，座机010-62345678")
    # Quarantined, with the caller's name and a phone in its text.
    rows[4] = _order(4, received_at="不详", caller_name="欧阳娜娜", description="欧阳娜娜来电13612345678称")
    path = _write(tmp_path / "phones.csv", rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("HX_BROKEN,2025-07-01 08:00:00,13698765432,来电号码13698765432\n")  # malformed
    result = ingest(IngestRequest(paths=[path]), settings)
    assert result.quarantined == 2
    text = path.read_text(encoding="utf-8")
    secrets = set(re.findall(r"1[3-9]\d{9}", text)) | {"13800138000", "13912345678", "62345678"}
    secrets |= {"138 0013 8000", "139-1234-5678", "010-62345678", "欧阳娜娜"}
    assert len(secrets) > 60
    written = [p for p in settings.home.rglob("*") if p.is_file()]
    assert any(p.name == "quarantine.parquet" for p in written)
    contents = {p: p.read_bytes() for p in written}
    contents |= {
        p.with_suffix(".decoded"): _decoded_parquet_text(p) for p in written if p.suffix == ".parquet"
    }
    assert any(b"HX2500000004" in blob for blob in contents.values())  # the search does see the values
    leaked = {(p.name, s) for p, blob in contents.items() for s in secrets if s.encode() in blob}
    assert leaked == set()


def test_quarantine_counts_match_the_planted_bad_rows(settings, tmp_path):
    rows = [_order(i) for i in range(20)]
    planted = {
        3: ("order_id", "", "order id"),
        5: ("received_at", "", "missing 来电时间"),
        6: ("received_at", "昨天下午", "unreadable timestamp in received_at"),
        8: ("dispatched_at", "2025-13-45 99:00", "unreadable timestamp in dispatched_at"),
        11: ("reopen_count", "两次", "unreadable 重办次数"),
        14: ("reopen_count", "100000", "implausible 重办次数"),
    }
    for index, (field, value, _) in planted.items():
        rows[index] = _order(index, **{field: value})
    path = _write(tmp_path / "bad.csv", rows[:10])
    with open(path, "ab") as handle:
        handle.write(b"HX_SHORT,2025-07-01 08:00:00\n")  # too few fields: record 12
        # Too many fields: the lenient reader keeps the first 26, whose times do not parse: record 13.
        handle.write(b"HX_LONG," + b",".join([b"x"] * 30) + b"\n")
    with open(path, "a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=HEADER).writerows(rows[10:])  # records 14..23
    result = ingest(IngestRequest(paths=[path]), settings)
    # records 2..23: every one read, the malformed ones too, and the counts add up
    assert result.rows_read == 22 and result.quarantined == 8
    assert result.rows_read == result.rows_new + result.rows_known + result.quarantined
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    found = dict(quarantine.select("source_line, reason").fetchall())
    expected_lines = {i + 2 if i < 10 else i + 4: reason for i, (_, _, reason) in planted.items()}
    for line, reason in expected_lines.items():
        assert reason in found[line], (line, found[line])
    assert "malformed" in found[12] and "unreadable timestamp" in found[13]
    assert len(found) == 8
    # Records after the malformed ones keep their true record numbers.
    lines = dict(
        _events(settings).filter("event_type = 'case.received'").select("entity_id, source_line").fetchall()
    )
    assert lines["12345:HX2500000009"] == 11 and lines["12345:HX2500000010"] == 14
    assert lines["12345:HX2500000019"] == 23


def test_a_file_that_cannot_be_read_is_one_clear_error(settings, tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(GridlineError, match="no such file"):
        ingest(IngestRequest(paths=[missing], format="12345"), settings)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(GridlineError):
        ingest(IngestRequest(paths=[empty], format="12345"), settings)
    assert EventLog(settings.log_dir).batch_dirs() == []


# -- the key ------------------------------------------------------------------------------------------


def test_the_key_can_come_from_an_airflow_variable(settings, tmp_path, monkeypatch):
    path = _write(tmp_path / "one.csv", [_order(1)])
    monkeypatch.delenv("GRIDLINE_PII_KEY")
    with pytest.raises(GridlineError, match="pseudonymisation key"):
        ingest(IngestRequest(paths=[path]), settings)
    monkeypatch.setenv("AIRFLOW_VAR_GRIDLINE_PII_KEY", TEST_KEY)
    assert settings.pii_key() == TEST_KEY.encode()
    via_airflow = ingest(IngestRequest(paths=[path]), settings)
    monkeypatch.delenv("AIRFLOW_VAR_GRIDLINE_PII_KEY")
    monkeypatch.setenv("GRIDLINE_PII_KEY", TEST_KEY)
    via_env = ingest(IngestRequest(paths=[path]), settings)
    assert via_airflow.appended == 4 and via_env.appended == 0  # the same key: the same caller_key
