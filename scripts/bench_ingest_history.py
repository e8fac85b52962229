"""Does ingest cost follow the batch or the log? A generated year ingested month by month, then one night.

Takes the landing folder of ``gridline generate`` (one sub-folder per stream, one per day inside), ingests
each month of each stream as one batch with ``gridline ingest`` (exactly as a user runs it), all but the
last day, then the last day's files (one night: a batch per stream) into that year-old log and into an
empty one. Prints seconds per month and stream, and the night's seconds both ways (with ``--cpu``, CPU
seconds: on a shared machine the wall clock measures the neighbours as much as the ingest).

    .venv/bin/python scripts/bench_ingest_history.py --landing DIR [--work DIR] [--months 12] [--cpu]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
STREAMS = ("hotline", "grid", "volunteer")


def _ingest(home: Path, stream: str, files: list[Path], cpu: bool) -> float:
    """Seconds of one ``gridline ingest``: with ``cpu`` its CPU seconds (user + system, from wait4), which
    other work on the machine inflates far less than the wall clock; else wall seconds."""
    env = {**os.environ, "GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": "bench-key-not-a-secret"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "gridline"), "ingest", "--stream", stream, *map(str, files)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingest of {stream} failed:\n{errors}")
    return usage.ru_utime + usage.ru_stime if cpu else seconds


def _files_by_day(landing: Path, stream: str) -> dict[str, list[Path]]:
    return {day.name: sorted(day.iterdir()) for day in sorted((landing / stream).iterdir()) if day.is_dir()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True, help="a `gridline generate --out` folder")
    parser.add_argument("--work", type=Path, help="where the homes go (default: a temporary folder)")
    parser.add_argument("--months", type=int, default=12, help="months of history before the night")
    parser.add_argument("--cpu", action="store_true", help="CPU seconds instead of wall (a loaded machine)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="gridline-history-"))
    year_home, empty_home = work / "year", work / "empty"
    for home in (year_home, empty_home):
        shutil.rmtree(home, ignore_errors=True)
    days = {stream: _files_by_day(args.landing, stream) for stream in STREAMS}
    night = max(days["hotline"])
    months = sorted({day[:7] for day in days["hotline"] if day != night})[: args.months]
    seconds: dict[str, dict[str, float]] = {}
    for month in months:
        seconds[month] = {}
        for stream in STREAMS:
            files = [f for day, fs in days[stream].items() if day[:7] == month and day != night for f in fs]
            if files:
                seconds[month][stream] = round(_ingest(year_home, stream, files, args.cpu), 1)
        print(month, seconds[month], flush=True)
    night_files = {stream: days[stream].get(night, []) for stream in STREAMS}
    into_year = {s: round(_ingest(year_home, s, f, args.cpu), 2) for s, f in night_files.items() if f}
    into_empty = {s: round(_ingest(empty_home, s, f, args.cpu), 2) for s, f in night_files.items() if f}
    print(f"night {night} into the {len(months)}-month log: {into_year} = {sum(into_year.values()):.1f} s")
    print(f"night {night} into an empty log: {into_empty} = {sum(into_empty.values()):.1f} s")
    first, last = months[0], months[-1]
    for stream in STREAMS:
        if stream in seconds[first] and stream in seconds[last]:
            print(
                f"{stream}: month {first} {seconds[first][stream]} s, month {last} {seconds[last][stream]} s"
            )
    print(json.dumps({"months": seconds, "night_into_year": into_year, "night_into_empty": into_empty}))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
