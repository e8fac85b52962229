"""Benchmark of the engines: the same whole build, audit and publish on DuckDB and on Spark, side by side.

For each scale, a home holds the generated city's first ``--months`` months, backfilled as one batch per
stream and month (``bench_nightly``'s cached history in the work folder: the backfill is not what is
measured). Each engine then runs ``gridline run --engine E --full-refresh`` on its own copy of that home:
the dbt build of the models Spark builds today and DuckDB's whole project (DuckDB also builds the ticket
models, which Spark does not yet: docs/scale-out.md), the marts audit and the publication. Printed per
scale and engine: the run's steps (from its report), its wall seconds, its peak RSS (Spark's JVM
counted only if dbt waits for it) and the load average before and after. The first run of a copied
history also audits its batches (``audit new batches``), the same work on both engines.

    .venv/bin/python scripts/bench_spark.py [--scales small city] [--months 11] [--work DIR]
        [--landing small=DIR] [--code CHECKOUT]

Spark on one 2-core machine is slower than DuckDB at every size: the figure says what a cluster must
beat, not what Spark does on one. Not a test: the figures depend on the machine and on what else runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bench_nightly import prepare_history
from benchlib import (
    RUN_STEPS,
    bench_arguments,
    copy_home,
    generated_landing,
    gridline,
    run_report,
    save_and_print,
)

ENGINES = ("duckdb", "spark")


def load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def bench_engine(history: Path, home: Path, engine: str, code: Path) -> dict:
    copy_home(history, home)
    before = load()
    run = gridline(home, code, "run", "--engine", engine, "--full-refresh")
    steps = run_report(home).get("steps", {})
    known = sum(steps.get(s, 0.0) for s in RUN_STEPS)
    row = {
        "engine": engine,
        **{s: steps.get(s, 0.0) for s in RUN_STEPS},
        "run other": round(run.seconds - known, 2),
        "run": run.seconds,
        "peak RSS MB": run.peak_rss_mb,
        "load before": before,
        "load after": load(),
    }
    shutil.rmtree(home)  # a city's copy is gigabytes
    return row


def main() -> None:
    parser = bench_arguments(__doc__, ["small", "city"])
    parser.add_argument("--months", type=int, default=11, help="months of history built")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    results: list[dict] = []
    for scale in args.scales:
        landing = generated_landing(args, scale)
        history = prepare_history(args.work, landing, scale, args.months, args.code)
        for engine in args.engines:
            row = bench_engine(history, args.work / f"{scale}-{engine}-build", engine, args.code)
            results.append({"scale": scale, **row})
            print(f"{scale} on {engine}: {row['run']} s, {row['peak RSS MB']} MB, load {row['load after']}")

    save_and_print(args.work, "spark", args.code, results)


if __name__ == "__main__":
    main()
