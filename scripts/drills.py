"""Fault drills on the tiny synthetic city: kills, full disks, damaged files, hostile queries, bad inputs.

Every drill runs the installed `gridline` command in child processes, as an operator would, against
fresh homes under a work folder, and compares what is left with a clean run's:

- kills: SIGKILL to the whole process group of `gridline ingest` / `gridline run` at moments spread over
  a clean run's duration, then the same command again; the log (events and quarantine, without batch ids
  and commit times) and every published mart must equal the clean run's.
- disk full (root only: a small tmpfs as $GRIDLINE_HOME, filled to a few free bytes): one error line, no
  traceback, and no batch, unswitched catalog or partial file left behind.
- corruption: damaged batch files, manifests and published warehouses must be named (or, for the
  warehouse, rebuilt by the next run by itself, equal to the clean marts).
- probes: every hostile `gridline sql` of tests/test_sql.py refused, nothing on disk changed.
- bad inputs: each either read with counts that add up, or refused in one line with nothing committed.
- names: introduced names left in free text, before and after redaction (figures, not a pass/fail).

    .venv/bin/python scripts/drills.py [--work DIR] [--kills 10]

Prints a table; exits 1 if any drill failed. Takes about ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fingerprints import marts_fingerprint  # noqa: E402
from tests.test_privacy import _introduced_names, _real_message_texts  # noqa: E402
from tests.test_sql import _probes, _tree_digest  # noqa: E402

GRIDLINE = str(REPO / ".venv" / "bin" / "gridline")
KEY = "drills-key-not-secret"
STREAMS = ("hotline", "grid", "volunteer")


@dataclass
class Drill:
    name: str
    trials: int = 0
    passed: int = 0
    notes: list[str] = field(default_factory=list)

    def record(self, ok: bool, note: str = "") -> None:
        self.trials += 1
        self.passed += int(ok)
        self.notes.append(("ok   " if ok else "FAIL ") + note)


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": KEY}


def gridline(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GRIDLINE, *args], env=env_for(home), capture_output=True, text=True)


def killed_after(home: Path, seconds: float, *args: str) -> None:
    """Start `gridline ARGS` in its own process group and SIGKILL the whole group after ``seconds``."""
    proc = subprocess.Popen(
        [GRIDLINE, *args],
        env=env_for(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def one_line_failure(proc: subprocess.CompletedProcess) -> bool:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("gridline: error:")]
    return proc.returncode != 0 and len(errors) == 1 and "Traceback" not in proc.stderr


def ingest_all(home: Path, landing: Path) -> None:
    for stream in STREAMS:
        proc = gridline(home, "ingest", "--stream", stream, str(landing / stream))
        if proc.returncode != 0:
            raise SystemExit(f"ingest {stream} failed in {home}: {proc.stderr.strip()}")


def log_digest(home: Path) -> str:
    """The log's content without what differs between equal histories (batch ids, commit times)."""
    batches = home / "log" / "batches"
    events = sorted(str(p) for p in batches.glob("*/events.parquet"))
    quarantine = sorted(str(p) for p in batches.glob("*/quarantine.parquet"))
    con = duckdb.connect()
    try:
        digest = con.sql(
            f"""select md5(string_agg(event_id || '|' || coalesce(state_hash, '') || '|' || payload::varchar,
                                      chr(10) order by event_id, state_hash, payload::varchar))
                from read_parquet({events}) where stream <> 'system'"""
        ).fetchall()[0][0]
        if quarantine:
            digest += con.sql(
                f"""select md5(string_agg(source_file || '|' || coalesce(source_line, -1) || '|' || reason,
                                          chr(10) order by source_file, source_line, reason))
                    from read_parquet({quarantine})"""
            ).fetchall()[0][0]
        return digest
    finally:
        con.close()


def leftovers(home: Path) -> list[str]:
    """Partial files a failed step must not leave."""
    warehouse, staging = home / "warehouse", home / "log" / "_staging"
    partial = ("*.partial", "*.next", "marts/*/*.partial")
    found = (
        [str(p.relative_to(warehouse)) for g in partial for p in warehouse.glob(g)]
        if warehouse.exists()
        else []
    )
    if staging.exists() and any(staging.iterdir()):
        found.append("log/_staging/*")
    return found


def copy_home(source: Path, target: Path, log_only: bool = False) -> Path:
    if target.exists():
        shutil.rmtree(target)
    if log_only:
        shutil.copytree(source / "log", target / "log", symlinks=True)
    else:
        shutil.copytree(source, target, symlinks=True)
    return target


# -- the drills ------------------------------------------------------------------------------------


def drill_ingest_kills(work: Path, landing: Path, clean_log: str, seconds: float, kills: int) -> Drill:
    drill = Drill(f"kill -9 during ingest (x{kills})")
    for i in range(kills):
        home = work / f"ingest-kill-{i}"
        delay = seconds * (i + 0.5) / kills
        killed_after(home, delay, "ingest", "--stream", "hotline", str(landing / "hotline"))
        ingest_all(home, landing)
        equal = log_digest(home) == clean_log and not leftovers(home)
        drill.record(equal, f"killed at {delay:.1f}s: log {'equal' if equal else 'DIFFERS'}")
        shutil.rmtree(home)
    return drill


def drill_run_kills(work: Path, template: Path, clean_marts: dict, seconds: float, kills: int) -> Drill:
    drill = Drill(f"kill -9 during run (x{kills})")
    for i in range(kills):
        home = copy_home(template, work / f"run-kill-{i}", log_only=True)
        delay = seconds * (i + 0.5) / kills
        killed_after(home, delay, "run")
        readable = gridline(home, "sql", "select count(*) from marts.cases")
        half_read = readable.returncode != 0 and "nothing published yet" not in readable.stderr
        retry = gridline(home, "run")
        equal = retry.returncode == 0 and marts_fingerprint(home) == clean_marts and not leftovers(home)
        drill.record(
            equal and not half_read,
            f"killed at {delay:.1f}s: marts {'equal' if equal else 'DIFFER'}"
            + (", a half publication was readable" if half_read else ""),
        )
        shutil.rmtree(home)
    return drill


def _fill(mount: Path, free: int) -> None:
    """Leave about ``free`` bytes free on the file system of ``mount``."""
    stat = os.statvfs(mount)
    available = stat.f_bavail * stat.f_frsize
    with open(mount / ".filler", "wb") as handle:
        remaining = max(available - free, 0)
        chunk = b"\0" * (1 << 20)
        try:
            while remaining > 0:
                handle.write(chunk[: min(len(chunk), remaining)])
                remaining -= min(len(chunk), remaining)
        except OSError:
            pass


def drill_disk_full(work: Path, landing: Path, template: Path) -> Drill:
    drill = Drill("disk full (tmpfs)")
    if os.geteuid() != 0:
        drill.notes.append("skipped: needs root to mount a tmpfs")
        return drill
    mount = work / "tmpfs"
    mount.mkdir(exist_ok=True)
    cases = [("ingest", free) for free in (0, 16 << 10, 64 << 10, 1 << 20)]
    cases += [("run", free) for free in (0, 64 << 10, 4 << 20, 12 << 20)]
    for step, free in cases:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], check=True)
        try:
            home = mount / "home"
            if step == "run":
                copy_home(template, home, log_only=True)
                (home / "warehouse").mkdir()
                os.chmod(home, 0o700)
            _fill(mount, free)
            args = ["run"] if step == "run" else ["ingest", "--stream", "hotline", str(landing / "hotline")]
            proc = gridline(home, *args)
            left = leftovers(home)
            batches = (
                list((home / "log" / "batches").glob("*")) if (home / "log" / "batches").exists() else []
            )
            new_batch = step == "ingest" and bool(batches)
            published = (home / "warehouse" / "published.duckdb").exists()
            ok = one_line_failure(proc) and not left and not new_batch and not published
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
            drill.record(
                ok, f"{step} with {free >> 10} KB free: {last[:90]}" + (f" left {left}" if left else "")
            )
        finally:
            subprocess.run(["umount", str(mount)], check=True)
    return drill


def _damage(path: Path, at: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(at)
        handle.write(data)


def drill_corruption(work: Path, clean: Path, clean_marts: dict) -> Drill:
    drill = Drill("corruption named / healed")

    def case(name: str, damage: Callable[[Path], str], expect: str) -> None:
        home = copy_home(clean, work / "corrupt")
        target = damage(home)
        run = gridline(home, "run")
        marts = gridline(home, "sql", "select count(*) from marts.cases")
        if expect == "named":
            verify = gridline(home, "log", "verify")
            ok = (
                one_line_failure(run)
                and target in run.stderr
                and verify.returncode != 0
                and target in verify.stderr
                and marts.returncode == 0
            )
            drill.record(ok, f"{name}: run says {run.stderr.strip().splitlines()[-1][:80]!r}")
        else:  # healed: the next run rebuilds by itself
            ok = run.returncode == 0 and marts_fingerprint(home) == clean_marts
            drill.record(ok, f"{name}: run exit {run.returncode}, marts {'equal' if ok else 'DIFFER'}")
        shutil.rmtree(home)

    def a_batch(home: Path) -> Path:
        data = [p for p in sorted((home / "log" / "batches").iterdir())]
        return data[0]

    def overwrite_inside(home: Path) -> str:
        events = a_batch(home) / "events.parquet"
        _damage(events, events.stat().st_size // 2, bytes(2048))
        return a_batch(home).name

    def truncate(home: Path) -> str:
        events = a_batch(home) / "events.parquet"
        os.truncate(events, events.stat().st_size // 3)
        return a_batch(home).name

    def five_rows(home: Path) -> str:
        events = a_batch(home) / "events.parquet"
        smaller = home / "five.parquet"
        duckdb.sql(f"copy (select * from read_parquet('{events}') limit 5) to '{smaller}'")
        os.replace(smaller, events)
        return a_batch(home).name

    def deleted(home: Path) -> str:
        (a_batch(home) / "events.parquet").unlink()
        return a_batch(home).name

    def manifest(home: Path) -> str:
        (a_batch(home) / "manifest.json").write_text("{ not json")
        return a_batch(home).name

    def warehouse_header(home: Path) -> str:
        _damage(home / "warehouse" / "published.duckdb", 0, bytes(4096))
        return "published.duckdb"

    def warehouse_inside(home: Path) -> str:
        published = home / "warehouse" / "published.duckdb"
        _damage(published, published.stat().st_size // 2, bytes(2048))
        return "published.duckdb"

    def state_files(home: Path) -> str:
        (home / "warehouse" / "published.json").write_text("garbage")
        (home / "warehouse" / "verified.json").write_text("garbage")
        return "published.json"

    case("2 KB overwritten inside a batch", overwrite_inside, "named")
    case("batch file truncated", truncate, "named")
    case("batch replaced by a valid 5-row file", five_rows, "named")
    case("batch file deleted", deleted, "named")
    case("manifest garbled", manifest, "named")
    case("published warehouse header zeroed", warehouse_header, "healed")
    case("published warehouse changed inside", warehouse_inside, "healed")
    case("run state files garbled", state_files, "healed")

    # a damaged batch costs only the queries that read it
    home = copy_home(clean, work / "corrupt")
    truncate(home)
    marts = gridline(home, "sql", "select count(*) from marts.cases")
    log = gridline(home, "sql", "select count(*) from log.events")
    ok = marts.returncode == 0 and one_line_failure(log) and a_batch(home).name in log.stderr
    drill.record(ok, "truncated batch: marts still answer, log.events names it")
    shutil.rmtree(home)
    return drill


def drill_probes(work: Path, clean: Path) -> Drill:
    drill = Drill("hostile gridline sql refused")
    home = copy_home(clean, work / "probes")
    (home / "pii.key").write_text("0123456789abcdef\n")
    before = _tree_digest(home)
    for probe in _probes(home):
        proc = gridline(home, "sql", probe)
        drill.record(one_line_failure(proc), f"{probe[:60]}")
    unchanged = _tree_digest(home) == before
    drill.record(unchanged, "nothing under the home changed" if unchanged else "files CHANGED")
    shutil.rmtree(home)
    return drill


def _bad_inputs(folder: Path, landing: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """Name -> (ingest options, paths) of inputs a user can hand over by mistake or that arrive broken."""
    folder.mkdir(parents=True, exist_ok=True)
    from ingestion.sources.reading import detect_encoding

    export = next(p for p in sorted((landing / "hotline").glob("*/*.csv")) if detect_encoding(p) == "utf-8")
    raw = export.read_bytes()
    lines = raw.splitlines(keepends=True)
    header = lines[0].decode("utf-8-sig").rstrip("\r\n").split(",")
    inputs: dict[str, tuple[list[str], list[Path]]] = {}

    def put(name: str, data: bytes, suffix: str = ".csv", options: tuple[str, ...] = ()) -> None:
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        inputs[name] = (list(options), [path])

    duplicated = ",".join([*header[:5], header[3], *header[6:]]).encode() + b"\n"
    put("duplicated header", duplicated + b"".join(lines[1:50]))
    put("empty file", b"")
    put("header only", lines[0])
    put("binary garbage", os.urandom(5000))
    put("invalid UTF-8 in one row", b"".join(lines[:30]) + b"\xff\xfe\xfa" + b"".join(lines[30:60]))
    put("truncated mid-record", raw[: len(raw) // 2])
    put("5 MB field", lines[0] + lines[1].rstrip(b"\r\n") + b"x" * (5 << 20) + b"\n" + lines[2])
    put("corrupt workbook", os.urandom(3000), ".xlsx")
    grid = next(p for p in sorted((landing / "grid").glob("*/*")))
    grid_lines = grid.read_bytes().splitlines(keepends=True)
    put("grid lines re-sent", b"".join(grid_lines + grid_lines[:5]), ".jsonl", ("--stream", "grid"))
    put("json garbage", b'{"a": [1, 2,\n' * 10, ".jsonl", ("--stream", "grid"))
    loop = folder / "loop"
    if not loop.is_symlink():
        os.symlink(folder / "loop2", loop)
        os.symlink(loop, folder / "loop2")
    inputs["symlink loop"] = ([], [loop])
    inputs["missing file"] = ([], [folder / "missing.csv"])
    nested = folder / "nested"
    (nested / "day").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(export, nested / "day" / export.name)
    inputs["a folder"] = ([], [nested])
    return inputs


def drill_bad_inputs(work: Path, landing: Path) -> Drill:
    drill = Drill("bad inputs: one line or counts add up")
    for name, (options, paths) in _bad_inputs(work / "bad-inputs", landing).items():
        home = work / "bad-input-home"
        proc = gridline(home, "ingest", *options, *map(str, paths))
        batches = home / "log" / "batches"
        committed = batches.exists() and any(batches.iterdir())
        if proc.returncode == 0:
            summary = proc.stderr.strip().splitlines()[-1]
            numbers = [
                int(n.replace(",", ""))
                for n in summary.split(";")[0].replace(":", ",").split()
                if n.replace(",", "").isdigit()
            ]
            ok = len(numbers) == 4 and numbers[0] == sum(numbers[1:])
            drill.record(ok, f"{name}: {summary.split(';')[0]}")
        else:
            ok = one_line_failure(proc) and not committed
            drill.record(ok, f"{name}: {proc.stderr.strip().splitlines()[-1][:90]}")
        shutil.rmtree(home, ignore_errors=True)
    return drill


def names_figures(clean: Path, landing: Path) -> list[str]:
    descriptions = []
    for path in sorted((landing / "hotline").glob("*/*.csv")):
        from ingestion.sources.reading import detect_encoding

        encoding = detect_encoding(path).replace("utf-8", "utf-8-sig")
        with open(path, encoding=encoding, newline="") as handle:
            descriptions += [row.get("诉求内容") or "" for row in csv.DictReader(handle)]
    after_a_number = re.compile(r"[0-9][（(]([\u4e00-\u9fff]{2,4})[）)]")
    planted = _introduced_names(descriptions) | {
        m.group(1) for text in descriptions for m in after_a_number.finditer(text)
    }
    log_text = gridline(
        clean, "sql", "select string_agg(payload::varchar, chr(10)) as t from log.events"
    ).stdout
    cases_text = gridline(
        clean, "sql", "select string_agg(c::varchar, chr(10)) as t from marts.cases c"
    ).stdout
    left_log = sorted(n for n in planted if n in log_text)
    left_cases = sorted(n for n in planted if n in cases_text)

    from ingestion import privacy

    con = duckdb.connect()
    privacy.install(con, b"figures")
    texts = _real_message_texts()
    redacted = [r for (r,) in con.execute("select redact_personal(unnest(?))", [texts]).fetchall()]
    common = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    real = {n for n in _introduced_names(texts) if len(n) <= 3 and n[0] in common}
    real_left = sorted(n for n in real if any(n in t for t in redacted))
    spotted_before = len(_introduced_names(texts))
    spotted_after = len(_introduced_names(redacted))
    return [
        f"generated city: {len(planted)} introduced names in hotline descriptions; left in clear: "
        f"{len(left_log)} in the log, {len(left_cases)} in marts.cases",
        f"real messages ({len(texts):,} texts): {len(real)} introduced names with a common surname, "
        f"{len(real_left)} left in clear {real_left[:5]}; spotter hits {spotted_before} -> {spotted_after} "
        "(the spotter also counts non-names such as 我是一名)",
    ]


def clean_run(clean: Path, landing: Path, template: Path) -> tuple[float, float]:
    """Ingest the three streams and run, undisturbed; keeps the log before the run as the template.
    Returns the seconds the hotline ingest and the run took (the windows the kills aim at)."""
    if clean.exists():
        shutil.rmtree(clean)
    started = time.monotonic()
    gridline(clean, "ingest", "--stream", "hotline", str(landing / "hotline"))
    ingest_seconds = time.monotonic() - started
    for stream in STREAMS[1:]:
        gridline(clean, "ingest", "--stream", stream, str(landing / stream))
    copy_home(clean, template, log_only=True)
    started = time.monotonic()
    proc = gridline(clean, "run")
    run_seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"the clean run failed: {proc.stderr.strip()}")
    return ingest_seconds, run_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="Work folder (default: a temporary one, removed after).")
    parser.add_argument("--kills", type=int, default=10, help="Kills per drill (ingest, run).")
    parser.add_argument(
        "--only", nargs="*", default=[], help="Run only these drills: probes inputs corruption disk kills."
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="gridline-drills-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        landing = work / "landing"
        if not landing.exists():
            subprocess.run(
                [GRIDLINE, "generate", "--out", str(landing), "--scale", "tiny", "--seed", "7"],
                env=env_for(work / "gen-home"),
                check=True,
                capture_output=True,
            )
        clean, timing = work / "clean", work / "clean-timing.json"
        if not timing.exists():  # a kept work folder reuses its clean run
            ingest_seconds, run_seconds = clean_run(clean, landing, work / "template")
            timing.write_text(json.dumps([ingest_seconds, run_seconds]))
        ingest_seconds, run_seconds = json.loads(timing.read_text())
        template = work / "template"
        clean_log, clean_marts = log_digest(clean), marts_fingerprint(clean)
        print(
            f"clean: ingest of the hotline stream {ingest_seconds:.1f} s, run {run_seconds:.1f} s", flush=True
        )

        drills = []
        for key, make in (
            ("probes", lambda: drill_probes(work, clean)),
            ("inputs", lambda: drill_bad_inputs(work, landing)),
            ("corruption", lambda: drill_corruption(work, clean, clean_marts)),
            ("disk", lambda: drill_disk_full(work, landing, template)),
            ("kills", lambda: drill_ingest_kills(work, landing, clean_log, ingest_seconds, args.kills)),
            ("kills", lambda: drill_run_kills(work, template, clean_marts, run_seconds, args.kills)),
        ):
            if args.only and key not in args.only:
                continue
            drill = make()
            drills.append(drill)
            print(f"  {drill.name}: {drill.passed}/{drill.trials}", flush=True)

        print()
        print(f"{'drill':<40} {'passed':>8}")
        for drill in drills:
            state = f"{drill.passed}/{drill.trials}" if drill.trials else "skipped"
            print(f"{drill.name:<40} {state:>8}")
            for note in drill.notes:
                print(f"    {note}")
        for line in names_figures(clean, landing):
            print(f"names: {line}")
        failed = [d for d in drills if d.passed != d.trials]
        print("\nall drills passed" if not failed else f"\nFAILED: {', '.join(d.name for d in failed)}")
        return 1 if failed else 0
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
