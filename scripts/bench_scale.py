"""Benchmark of a whole year: landing files to published marts, at `city` and `megacity` scale.

For each scale: the year's landing files are generated once (reused from the work folder, or given with
``--landing``), ingested into a fresh home one batch per stream and month (a backfill as an operator
would run it), and published by one ``gridline run``. Printed per scale: seconds to generate, to ingest
each stream, of each step of the run, the total from landing files to published marts, and the peak
RSS of any process (goal: 8 GiB at most).

    .venv/bin/python scripts/bench_scale.py [--scales city megacity] [--work DIR] [--landing city=DIR]
        [--code CHECKOUT]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchlib import (
    RUN_STEPS,
    STREAMS,
    bench_arguments,
    day_folders,
    generate,
    gridline,
    import_reference,
    ingest,
    landing_of,
    months,
    run_report,
    save_and_print,
)


def bench_year(work: Path, landing: Path, scale: str, seed: int, code: Path) -> dict:
    made = generate(landing, scale, seed, code)
    home = work / f"{scale}-year"
    if home.exists():
        shutil.rmtree(home)
    import_reference(home, code, landing)
    ingest_seconds = dict.fromkeys(STREAMS, 0.0)
    peak = made.peak_rss_mb if made else 0.0
    for stream in STREAMS:
        for month in months(landing):
            folders = [p for p in day_folders(landing, stream) if p.name.startswith(month)]
            if folders:
                measure = ingest(home, code, stream, folders)
                ingest_seconds[stream] += measure.seconds
                peak = max(peak, measure.peak_rss_mb)
                print(f"{scale} {stream} {month}: {measure.seconds} s, {measure.peak_rss_mb} MB", flush=True)
    run = gridline(home, code, "run")
    steps = run_report(home).get("steps", {})
    ingest_total = round(sum(ingest_seconds.values()), 1)
    return {
        "scale": scale,
        "generate": made.seconds if made else "cached",
        **{f"ingest {s}": round(v, 1) for s, v in ingest_seconds.items()},
        **{s: steps.get(s, 0.0) for s in RUN_STEPS},
        "run": run.seconds,
        "landing to published": round(ingest_total + run.seconds, 1),
        "peak RSS MB": max(peak, run.peak_rss_mb),
    }


def main() -> None:
    parser = bench_arguments(__doc__, ["city", "megacity"])
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    results = []
    for scale in args.scales:
        landing = landing_of(args, scale)
        row = bench_year(args.work, landing, scale, args.seed, args.code)
        results.append(row)
        print(
            f"{scale}: landing to published {row['landing to published']} s, {row['peak RSS MB']} MB",
            flush=True,
        )

    save_and_print(args.work, "scale", args.code, results)


if __name__ == "__main__":
    main()
