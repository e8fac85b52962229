"""What the pipeline benchmarks share: child processes measured by wait4, a landing folder, a home, batches.

Every step runs ``gridline`` as a child process exactly as an operator runs it; its wall seconds and its
peak RSS (the high-water mark of the child and the children it waited for, e.g. dbt) come from ``wait4``.
``--code DIR`` runs another checkout's code (a baseline) with this environment's interpreter: the
checkout goes first on ``PYTHONPATH``, so its ``gridline`` package (and the dbt project beside it) is used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
STREAMS = ("hotline", "grid", "volunteer")
# The steps a run's report times (gridline/run.py), in the order they run.
RUN_STEPS = ("audit new batches", "prepare build", "dbt build", "audit marts", "dbt docs", "publish")


@dataclass
class Measure:
    seconds: float
    peak_rss_mb: float
    output: str


class StepFailed(RuntimeError):
    pass


def gridline_env(home: Path, code: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GRIDLINE_HOME": str(home),
        "GRIDLINE_PII_KEY": os.environ.get("GRIDLINE_PII_KEY", "bench-key"),
        "PYTHONPATH": str(code),
    }


def run_child(command: list[str], env: dict[str, str]) -> Measure:
    """One child process; its own peak RSS (with its waited-for descendants') comes from wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise StepFailed(f"{' '.join(command[2:])} exited {proc.returncode}:\n{output[-3000:]}")
    return Measure(round(seconds, 2), round(usage.ru_maxrss / 1024, 1), output)


def gridline(home: Path, code: Path, *args: str, env: dict[str, str] | None = None) -> Measure:
    # -P: `python -c` would put the working directory first on sys.path, so a benchmark started inside a
    # checkout would run that checkout's gridline instead of the one ``code`` names
    command = [PYTHON, "-P", "-c", "from gridline.cli import main; main()", *args]
    return run_child(command, {**gridline_env(home, code), **(env or {})})


def generate(landing: Path, scale: str, seed: int, code: Path) -> Measure | None:
    """Generate the landing files once; a finished folder (it has truth.json) is reused."""
    if (landing / "truth.json").exists():
        return None
    if landing.exists():
        shutil.rmtree(landing)  # an interrupted generation
    scratch = landing.parent / f".{landing.name}.home"
    return gridline(scratch, code, "generate", "--out", str(landing), "--scale", scale, "--seed", str(seed))


def landing_of(args: argparse.Namespace, scale: str) -> Path:
    """Where a scale's landing files are: given with ``--landing SCALE=DIR``, else in the work folder."""
    given = dict(item.split("=", 1) for item in args.landing)
    return Path(given[scale]) if scale in given else args.work / f"{scale}-landing"


def generated_landing(args: argparse.Namespace, scale: str) -> Path:
    """A scale's landing files, generated first unless they are there already (the time is printed)."""
    landing = landing_of(args, scale)
    made = generate(landing, scale, args.seed, args.code)
    if made:
        print(f"{scale}: generated {landing} in {made.seconds:.0f} s", flush=True)
    return landing


def import_reference(home: Path, code: Path, landing: Path) -> None:
    for path in sorted((landing / "reference").glob("*.csv")):  # areas, categories, activities
        gridline(home, code, "reference", "import", path.stem, str(path))


def day_folders(landing: Path, stream: str) -> list[Path]:
    return sorted(p for p in (landing / stream).iterdir() if p.is_dir())


def months(landing: Path) -> list[str]:
    """The landing's months (``YYYY-MM``), from the hotline's day folders."""
    return sorted({p.name[:7] for p in day_folders(landing, "hotline")})


def ingest(home: Path, code: Path, stream: str, folders: list[Path]) -> Measure:
    return gridline(home, code, "ingest", "--stream", stream, *map(str, folders))


def ingest_months(home: Path, code: Path, landing: Path, month_list: list[str]) -> dict[str, float]:
    """Backfill: one batch per stream and month, as an operator catching up would; seconds per stream."""
    seconds = dict.fromkeys(STREAMS, 0.0)
    for stream in STREAMS:
        for month in month_list:
            folders = [p for p in day_folders(landing, stream) if p.name.startswith(month)]
            if folders:
                seconds[stream] += ingest(home, code, stream, folders).seconds
    return {s: round(v, 1) for s, v in seconds.items()}


def run_report(home: Path) -> dict:
    """The newest run report of a home (``$GRIDLINE_HOME/runs/<run_id>.json``)."""
    reports = sorted((home / "runs").glob("*.json"))
    return json.loads(reports[-1].read_text()) if reports else {}


def copy_home(source: Path, target: Path) -> None:
    """A home to experiment on: the log's batch files are hard-linked (never rewritten), the rest copied."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("batches"))
    if (source / "log" / "batches").exists():
        subprocess.run(["cp", "-al", str(source / "log" / "batches"), str(target / "log")], check=True)


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save_and_print(work: Path, name: str, code: Path, results: list[dict]) -> None:
    """Write the figures to ``<work>/<name>-<time>.json`` and print them as one table."""
    out = work / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"code": str(code), "results": results}, ensure_ascii=False, indent=2))
    headers = list(results[0])
    print()
    print(table(headers, [[r[h] for h in headers] for r in results]))
    print(f"\nfigures saved to {out}")


def bench_arguments(description: str, scales: list[str]) -> argparse.ArgumentParser:
    """The options every benchmark takes; a script adds its own before parsing."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", default=scales)
    parser.add_argument("--work", type=Path, default=Path("/tmp/gridline-bench"))
    parser.add_argument("--seed", type=int, default=2028)
    parser.add_argument("--landing", action="append", default=[], help="SCALE=DIR: reuse generated files")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose code runs")
    return parser
