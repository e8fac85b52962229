"""Benchmark of a whole year: landing files to published marts, at `city` and `megacity` scale.

For each scale: the year's landing files are generated once (reused from the work folder, or given with
``--landing``), ingested into a fresh home one batch per stream and month (a week at megacity scale,
whose months do not fit the ingest's default memory ceiling, and a day at a time for a week that does not
either; a backfill as an operator would run it),
and published by one ``gridline run``. Printed per scale: seconds to generate, to ingest each stream, of
each step of the run, the total from landing files to published marts, and the peak RSS of any process
(goal: 8 GiB at most).

    .venv/bin/python scripts/bench_scale.py [--scales city megacity] [--work DIR] [--landing city=DIR]
        [--code CHECKOUT]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from benchlib import (
    RUN_STEPS,
    STREAMS,
    Measure,
    StepFailed,
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

# Landing days per `gridline ingest` call: a month at city scale; a megacity month of hotline exports does not
# fit the ingest's default memory ceiling (GRIDLINE_INGEST_MEMORY, 500MB), so a week at a time there.
BATCH_DAYS = {"megacity": 7}
# The megacity's first build runs one model at a time: two side by side spill more than this machine's
# disk holds (docs/warehouse.md).
BUILD_ENV = {"megacity": {"GRIDLINE_BUILD_THREADS": "1"}}


def batches_of(folders: list[Path], days: int | None) -> list[list[Path]]:
    """A month's day folders in runs of at most ``days`` (all of them when None)."""
    if days is None:
        return [folders] if folders else []
    return [folders[i : i + days] for i in range(0, len(folders), days)]


def ingest_batch(home: Path, code: Path, stream: str, batch: list[Path]) -> list[tuple[Measure, str]]:
    """One batch of day folders; should it not fit the ingest's memory ceiling (nothing is then
    committed), its days one at a time, as the error tells an operator to. The failed try's seconds count."""
    days = f"{batch[0].name}..{batch[-1].name}"
    started = time.perf_counter()
    try:
        return [(ingest(home, code, stream, batch), days)]
    except StepFailed as failure:
        if len(batch) == 1 or "memory ceiling" not in str(failure):
            raise
    failed = round(time.perf_counter() - started, 2)
    print(f"{stream} {days}: did not fit the memory ceiling after {failed} s; a day at a time", flush=True)
    measures = [(ingest(home, code, stream, [day]), day.name) for day in batch]
    first, first_day = measures[0]
    measures[0] = (Measure(first.seconds + failed, first.peak_rss_mb, first.output), first_day)
    return measures


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
            for batch in batches_of(folders, BATCH_DAYS.get(scale)):
                for measure, days in ingest_batch(home, code, stream, batch):
                    ingest_seconds[stream] += measure.seconds
                    peak = max(peak, measure.peak_rss_mb)
                    said = f"{scale} {stream} {days}: {measure.seconds} s, {measure.peak_rss_mb} MB"
                    print(said, flush=True)
    run = gridline(home, code, "run", env=BUILD_ENV.get(scale))
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
