"""Ingest's failures are one line and leave nothing; its counts add up. Real files of the tiny city."""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path

import pytest

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from tests.conftest import gridline_cli


def _day_files(landing: Path, stream: str) -> list[Path]:
    return sorted(p for p in (landing / stream).glob("*/*") if p.is_file())


def _adds_up(result) -> bool:
    return result.rows_read == result.rows_new + result.rows_known + result.quarantined


def test_a_folder_is_read_as_its_files_sorted(settings, tmp_path, tiny_landing):
    folder = tmp_path / "landing"
    for path in _day_files(tiny_landing, "grid")[:3]:
        (folder / path.parent.name).mkdir(parents=True)
        (folder / path.parent.name / path.name).write_bytes(path.read_bytes())
    (folder / ".hidden").write_text("not a landing file")
    result = ingest(IngestRequest(paths=[folder], stream="grid"), settings)
    manifest = EventLog(settings.log_dir).manifests()[0]
    read = [Path(item["path"]).name for item in manifest["inputs"]]
    assert read == sorted(p.name for p in _day_files(tiny_landing, "grid")[:3])
    assert result.appended > 0 and _adds_up(result)


def test_a_symlink_loop_is_one_line(home, tmp_path):
    loop = tmp_path / "loop"
    os.symlink(tmp_path / "loop2", loop)
    os.symlink(loop, tmp_path / "loop2")
    proc = gridline_cli("ingest", "--stream", "grid", str(loop), env_home=home, check=False)
    assert proc.returncode == 1 and "symbolic link loop" in proc.stderr and proc.stderr.count("\n") == 2
    folder = tmp_path / "folder"
    folder.mkdir()
    os.symlink(folder, folder / "again")  # a link back to the folder itself: not followed
    os.symlink(tmp_path / "loop", folder / "bad.jsonl")
    proc = gridline_cli("ingest", "--stream", "grid", str(folder), env_home=home, check=False)
    assert proc.returncode == 1 and "looping symbolic link" in proc.stderr and "Traceback" not in proc.stderr
    assert not (home / "log" / "batches").exists()


def test_duplicated_header_names_are_one_line(home, tmp_path, tiny_landing):
    source = next(p for p in _day_files(tiny_landing, "hotline") if p.suffix == ".csv")
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0][5] = rows[0][3]  # two columns with the same name
    path = tmp_path / "dup.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows[:20])
    proc = gridline_cli("ingest", "--stream", "hotline", str(path), env_home=home, check=False)
    assert proc.returncode == 1 and "twice" in proc.stderr and rows[0][3] in proc.stderr
    assert "Traceback" not in proc.stderr and "Binder" not in proc.stderr


def test_resent_lines_in_one_batch_count_as_known(settings, tmp_path, tiny_landing):
    source = _day_files(tiny_landing, "grid")[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "resent.jsonl"
    path.write_text("\n".join([*lines, *lines[:5], "{not json"]) + "\n", encoding="utf-8")
    plain = ingest(IngestRequest(paths=[source], stream="grid"), Settings(home=tmp_path / "plain"))
    result = ingest(IngestRequest(paths=[path], stream="grid"), settings)
    assert result.rows_known == plain.rows_known + 5 and result.quarantined == plain.quarantined + 1
    assert result.rows_read == plain.rows_read + 6 and _adds_up(result) and _adds_up(plain)


def test_invalid_utf8_names_the_bad_bytes(settings, tmp_path, tiny_landing):
    source = next(p for p in _day_files(tiny_landing, "hotline") if p.suffix == ".csv")
    data = source.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    damaged = data[:cut] + b"\xff\xfe\xff" + data[cut:]
    path = tmp_path / "damaged.csv"
    path.write_bytes(damaged)
    try:
        result = ingest(IngestRequest(paths=[path]), settings)
    except GridlineError as exc:  # refused: the message must point at the bad bytes
        assert f"byte {cut:,}" in str(exc)
    else:  # read as UTF-8 with one damaged record quarantined
        assert result.quarantined >= 1 and result.rows_new > 0 and _adds_up(result)


def test_a_missing_path_is_one_line(home, tmp_path):
    proc = gridline_cli("ingest", str(tmp_path / "nope.csv"), env_home=home, check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_one_line(home, tmp_path, tiny_landing):
    path = tmp_path / "locked.jsonl"
    path.write_bytes(_day_files(tiny_landing, "grid")[0].read_bytes())
    path.chmod(0)
    proc = gridline_cli("ingest", "--stream", "grid", str(path), env_home=home, check=False)
    assert proc.returncode == 1 and proc.stderr.count("gridline: error:") == 1


def test_a_batch_over_the_memory_ceiling_fails_in_one_line_and_commits_nothing(settings, tiny_landing):
    files = _day_files(tiny_landing, "hotline")
    with pytest.raises(GridlineError, match="did not fit in the ingest's memory ceiling"):
        ingest(IngestRequest(paths=files, stream="hotline"), replace(settings, ingest_memory="4MB"))
    assert EventLog(settings.log_dir).manifests() == []
    # The same batch under a ceiling that holds it commits whole: the setting is what decided.
    result = ingest(IngestRequest(paths=files, stream="hotline"), replace(settings, ingest_memory="200MB"))
    assert result.appended > 0 and _adds_up(result)


def test_a_memory_ceiling_that_is_not_a_size_is_one_line(home, tiny_landing):
    proc = gridline_cli(
        "ingest",
        "--stream",
        "grid",
        str(tiny_landing / "grid"),
        env_home=home,
        check=False,
        GRIDLINE_INGEST_MEMORY="lots",
    )
    assert proc.returncode == 1 and "GRIDLINE_INGEST_MEMORY='lots'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_ingest_still_running_after_its_time_ends_in_one_line_and_the_next_one_commits(home, tiny_landing):
    """A hung ingest (duckdb/duckdb#23885) holds the log's writer lock: `gridline ingest` ends itself after
    GRIDLINE_INGEST_TIMEOUT, here one far shorter than the batch takes, with one line and no batch, and
    the next ingest takes the lock and commits the same files."""
    files = [str(p) for p in _day_files(tiny_landing, "hotline")]
    wrong = gridline_cli("ingest", *files, env_home=home, check=False, GRIDLINE_INGEST_TIMEOUT="soon")
    assert wrong.returncode == 1 and "GRIDLINE_INGEST_TIMEOUT='soon'" in wrong.stderr
    ended = gridline_cli("ingest", *files, env_home=home, check=False, GRIDLINE_INGEST_TIMEOUT="0.01")
    assert ended.returncode == 1, ended.stderr
    assert ended.stderr.count("gridline: error:") == 1 and "ended as hung" in ended.stderr
    assert "Traceback" not in ended.stderr and "appended" not in ended.stderr
    assert EventLog(home / "log").manifests() == []
    done = gridline_cli("ingest", *files, env_home=home)
    assert "appended" in done.stderr and len(EventLog(home / "log").manifests()) == 1
