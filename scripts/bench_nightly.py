"""Benchmark of a night: the same kind of night after a short and after a long history, per step.

For each scale and history length H (months), a home holds the generated city's first H months,
backfilled as one batch per stream and month (cached in the work folder: the backfill is not what is
measured), then the days of month H+1 before the night, and is published by a first full ``gridline run``.
The night is the first Tuesday of month H+1 (the same weekday for every H, so the nights are alike): its
three day folders are ingested, one ``gridline ingest`` per stream, then ``gridline run``; then a second
``gridline run`` with nothing new. Printed per night: seconds of each ingest, of each step of the run
(from the run's report; ``other`` is the rest of the run: start-up, verification, reading its state), the
night's total, and the peak RSS of any of its processes.

    .venv/bin/python scripts/bench_nightly.py [--scales small city] [--history 1 11] [--work DIR]
        [--landing city=DIR] [--code CHECKOUT]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from benchlib import (
    RUN_STEPS,
    STREAMS,
    bench_arguments,
    copy_home,
    day_folders,
    generated_landing,
    gridline,
    import_reference,
    ingest,
    ingest_months,
    months,
    run_report,
    save_and_print,
)

TUESDAY = 1


def prepare_history(work: Path, landing: Path, scale: str, history: int, code: Path) -> Path:
    """The log of the first ``history`` months, one batch per stream and month; built once, then reused."""
    home = work / f"{scale}-{history}m-history"
    stamp = home / "history.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("landing") == str(landing):
        return home
    if home.exists():
        shutil.rmtree(home)
    import_reference(home, code, landing)
    seconds = ingest_months(home, code, landing, months(landing)[:history])
    stamp.write_text(json.dumps({"landing": str(landing), "months": history, "ingest_seconds": seconds}))
    return home


def night_of(landing: Path, history: int) -> tuple[str, list[str]]:
    """The night's day folder name and the earlier days of its month (the catch-up before it)."""
    month = months(landing)[history]
    days = [p.name for p in day_folders(landing, "hotline") if p.name.startswith(month)]
    night = next(d for d in days if date.fromisoformat(d).weekday() == TUESDAY)
    return night, [d for d in days if d < night]


def run_row(label: str, run_seconds: float, rss: float, report: dict, ingests: dict[str, float]) -> dict:
    steps = report.get("steps", {})
    known = sum(steps.get(s, 0.0) for s in RUN_STEPS)
    return {
        "night": label,
        **{f"ingest {s}": ingests.get(s, 0.0) for s in STREAMS},
        **{s: steps.get(s, 0.0) for s in RUN_STEPS},
        "run other": round(run_seconds - known, 2),
        "run": run_seconds,
        "total": round(sum(ingests.values()) + run_seconds, 2),
        "peak RSS MB": rss,
        "outcome": report.get("outcome", "?"),
        "full refresh": report.get("full_refresh"),
    }


def bench_night(work: Path, landing: Path, scale: str, history: int, code: Path) -> list[dict]:
    base = prepare_history(work, landing, scale, history, code)
    home = work / f"{scale}-{history}m-night"
    copy_home(base, home)
    night, catch_up = night_of(landing, history)
    for stream in STREAMS:
        folders = [landing / stream / d for d in catch_up if (landing / stream / d).exists()]
        if folders:
            ingest(home, code, stream, folders)
    first = gridline(home, code, "run")
    rows = [run_row(f"first full run ({history}m)", first.seconds, first.peak_rss_mb, run_report(home), {})]

    ingests: dict[str, float] = {}
    peak = 0.0
    for stream in STREAMS:
        folder = landing / stream / night
        if folder.exists():
            measure = ingest(home, code, stream, [folder])
            ingests[stream] = measure.seconds
            peak = max(peak, measure.peak_rss_mb)
    run = gridline(home, code, "run")
    label = f"night {night} after {history}m"
    rows.append(run_row(label, run.seconds, max(peak, run.peak_rss_mb), run_report(home), ingests))
    idle = gridline(home, code, "run")
    rows.append(
        run_row(f"nothing new after {history}m", idle.seconds, idle.peak_rss_mb, run_report(home), {})
    )
    return rows


def main() -> None:
    parser = bench_arguments(__doc__, ["small", "city"])
    parser.add_argument("--history", nargs="+", type=int, default=[1, 11], help="months before the night")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    results: list[dict] = []
    for scale in args.scales:
        landing = generated_landing(args, scale)
        for history in args.history:
            rows = bench_night(args.work, landing, scale, history, args.code)
            for row in rows:
                results.append({"scale": scale, **row})
                print(f"{scale} {row['night']}: {row['total']} s, {row['peak RSS MB']} MB", flush=True)

    save_and_print(args.work, "nightly", args.code, results)


if __name__ == "__main__":
    main()
