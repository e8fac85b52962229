"""Tickets on real data and generated cities, scored beside the analyst's TF-IDF baseline: one table.

For each data set — the shared message board and Boston 311 halves (with the truth files in
``tests/truth/``, built by ``scripts/build_truth.py``), the generated default city and, when the generator
offers it, a generated random city (with the generator's ``truth.json``) — the script makes a fresh
``$GRIDLINE_HOME``, ingests the files with ``gridline ingest`` exactly as a user does (a generated city's
reference files imported first with ``gridline reference import``, as ``make demo`` does, unless
``--no-reference``), runs ``gridline run``, and scores the published tickets and the baseline with
``gridline.evaluate`` (metrics defined there). The table also gives the seconds the ticket models took
within that run (their own times in dbt's log).

Held-out halves: checks we cannot see run on other halves of the same kinds of data, so each real set is
also measured in two halves, each ingested and run on its own — the board split by date at its median
message (``board-1``, ``board-2``), Boston by month (odd months ``boston-1``, even months ``boston-2``).
Each half's truth is the committed truth by the same rules applied to the half: a hot problem of the
board keeps its messages in the half and counts when it still has ≥ 4; a Boston group keeps its requests
in the half and counts when it still has ≥ 3 (a group's key is its type, address and quarter, so this is
the group rule run on the half). The hidden halves are later in time, so each quarter is also measured
on its own (``board-q1``, ``board-q2``, ``boston-q1``, ``boston-q2``) and the board's last two months
(``board-m56``: 725 messages, about a third of the whole), by the same restriction of the truth.

    .venv/bin/python scripts/evaluate_real.py [--only board boston ...] [--scale small] [--keep DIR]
    make bench-tickets
    .venv/bin/python scripts/evaluate_real.py --only board-1 board-2 boston-1 boston-2
    .venv/bin/python scripts/evaluate_real.py --only board-q1 board-q2 board-m56 boston-q1 boston-q2

A new source's first batch may be held by the batch audit (nothing to compare it with yet); the script
then accepts the held batches with a note, as a user reading the audit would, and says so under the
table. Not a test: the figures are measurements, and the seconds depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gridline.config import TIMEZONE_ENV, Settings  # noqa: E402
from gridline.evaluate import Comparison, Score, compare  # noqa: E402
from scripts.bench_ticket_nights import ticket_model_seconds  # noqa: E402

BIN = Path(sys.executable).parent
REAL_DATA = REPO.parent / "shared" / "data" / "real"
TRUTH = REPO / "tests" / "truth"


@dataclass(frozen=True)
class Dataset:
    name: str
    # Writes the landing files under the folder given (if any); returns the gridline calls that load them
    # (reference imports, ingests) and the truth file.
    prepare: Callable[[Path], tuple[list[list[str]], Path]]
    timezone: str = "Asia/Shanghai"  # the city's zone: its quarters are the city's own


def _board(_: Path) -> tuple[list[list[str]], Path]:
    workbook = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"
    return [["ingest", "--mapping", "cn_gov_messages", str(workbook)]], TRUTH / "cn_gov_messages.json"


def _boston(_: Path) -> tuple[list[list[str]], Path]:
    export = REAL_DATA / "boston311" / "boston311_2015H1.csv"
    return [["ingest", "--mapping", "boston311", str(export)]], TRUTH / "boston311.json"


BOARD = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"
BOSTON = REAL_DATA / "boston311" / "boston311_2015H1.csv"


def _truth_of_half(truth: Path, case_ids: set[str], min_cases: int, out: Path) -> Path:
    """The truth restricted to one half's cases: each class keeps its members in the half and counts when
    it still has ``min_cases``; pair keys keep the half's cases."""
    whole = json.loads(truth.read_text())
    classes = []
    for planted in whole["classes"]:
        members = [c for c in planted["case_ids"] if c in case_ids]
        if len(members) >= min_cases:
            classes.append(planted | {"case_ids": members})
    half = whole | {"classes": classes}
    if "pair_keys" in whole:
        half["pair_keys"] = {c: keys for c, keys in whole["pair_keys"].items() if c in case_ids}
    out.write_text(json.dumps(half, ensure_ascii=False))
    return out


def _board_part(
    name: str, choose: Callable[[list[list], Callable[[list], str]], list[list]]
) -> Callable[[Path], tuple[list[list[str]], Path]]:
    """The board's messages that ``choose`` picks (from all of them sorted by time, with their time as
    sortable text), as a workbook export of their own with the truth restricted to them."""

    def prepare(work: Path) -> tuple[list[list[str]], Path]:
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(BOARD)).get_sheet_by_index(0).to_python(skip_empty_area=True)
        header = [str(cell).strip() for cell in rows[0]]
        at = header.index("留言时间")

        def when(row: list) -> str:
            value = row[at]  # text in several styles, or an Excel date: compared as sortable text
            text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
            return re.sub(
                r"(\d+)[/-](\d+)[/-](\d+)", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", text
            )

        chosen = choose(sorted(rows[1:], key=when), when)
        path = work / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in chosen:
                writer.writerow([when(row) if i == at else _cell(cell) for i, cell in enumerate(row)])
        ids = {f"cn_gov_messages:{_cell(row[header.index('留言编号')])}" for row in chosen}
        truth = _truth_of_half(TRUTH / "cn_gov_messages.json", ids, 4, work / f"{name}.json")
        return [["ingest", "--mapping", "cn_gov_messages", str(path)]], truth

    return prepare


def _board_half(half: int) -> Callable[[Path], tuple[list[list[str]], Path]]:
    """The board split at its median message: the first half or the second."""

    def choose(messages: list[list], _: Callable[[list], str]) -> list[list]:
        middle = len(messages) // 2
        return messages[:middle] if half == 1 else messages[middle:]

    return _board_part(f"board_half{half}", choose)


def _board_months(first: str, last: str) -> Callable[[Path], tuple[list[list[str]], Path]]:
    """The board's messages of the months ``first`` to ``last`` ("2019-04"); the few older messages
    (2017-06 .. 2018-12) go with the first window of 2019."""

    def choose(messages: list[list], when: Callable[[list], str]) -> list[list]:
        earliest = "" if first == "2019-01" else first
        return [row for row in messages if earliest <= when(row)[:7] <= last]

    return _board_part(f"board_{first}_{last}", choose)


def _cell(value: object) -> str:
    """A workbook cell as the export's text (an id read as 200480.0 is 200480)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _boston_part(name: str, months: set[int]) -> Callable[[Path], tuple[list[list[str]], Path]]:
    """Boston's requests opened in ``months`` (of 2015), as an export of their own with the truth
    restricted to them."""

    def prepare(work: Path) -> tuple[list[list[str]], Path]:
        path = work / f"{name}.csv"
        ids: set[str] = set()
        with (
            BOSTON.open(encoding="utf-8", newline="") as source,
            path.open("w", encoding="utf-8", newline="") as out,
        ):
            reader = csv.reader(source)
            header = next(reader)
            at, id_at = header.index("OPEN_DT"), header.index("CASE_ENQUIRY_ID")
            writer = csv.writer(out)
            writer.writerow(header)
            for row in reader:
                if int(row[at].split("/")[0]) in months:  # "01/14/2015 03:04:41 PM"
                    writer.writerow(row)
                    ids.add(f"boston311:{row[id_at]}")
        truth = _truth_of_half(TRUTH / "boston311.json", ids, 3, work / f"{name}.json")
        return [["ingest", "--mapping", "boston311", str(path)]], truth

    return prepare


def _boston_half(half: int) -> Callable[[Path], tuple[list[list[str]], Path]]:
    """Odd months (half 1) or even months (half 2)."""
    return _boston_part(f"boston_half{half}", {m for m in range(1, 13) if m % 2 == half % 2})


def _generated(
    *city: str, scale: str, seed: int, reference: bool
) -> Callable[[Path], tuple[list[list[str]], Path]]:
    def prepare(work: Path) -> tuple[list[list[str]], Path]:
        landing = work / "landing"
        _gridline(["generate", "--out", str(landing), "--scale", scale, "--seed", str(seed), *city], work)
        calls: list[list[str]] = []
        if reference:
            # A deployment loads its city's reference (as `make demo` does); the generator writes it.
            for path in sorted((landing / "reference").glob("*.csv")):  # areas, categories, activities
                calls.append(["reference", "import", path.stem, str(path)])
        # One batch per stream and month (landing folders are days, YYYY-MM-DD): a whole stream at once
        # can exceed the ingest's memory ceiling.
        for stream in ("hotline", "grid", "volunteer"):
            months: dict[str, list[str]] = {}
            for path in sorted(p for p in (landing / stream).rglob("*") if p.is_file()):
                months.setdefault(path.relative_to(landing / stream).parts[0][:7], []).append(str(path))
            calls += [["ingest", "--stream", stream, *files] for files in months.values()]
        return calls, landing / "truth.json"

    return prepare


def _random_city_supported() -> bool:
    usage = subprocess.run([str(BIN / "gridline"), "generate", "--help"], capture_output=True, text=True)
    return "--city" in usage.stdout


def _gridline(args: list[str], home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = os.environ | {"GRIDLINE_HOME": str(home)}
    proc = subprocess.run([str(BIN / "gridline"), *args], env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise DatasetFailed(f"gridline {' '.join(args[:3])} ... failed: {proc.stderr.strip()[-500:]}")
    return proc


class DatasetFailed(Exception):
    """A step of one data set failed: the table says so and the other data sets still run."""


def _run_accepting_held_batches(home: Path) -> int:
    """``gridline run``; if the batch audit holds batches, accept them and run again. Returns how many."""
    if _gridline(["run"], home, check=False).returncode == 0:
        return 0
    listed = _gridline(["batches", "list"], home).stdout.splitlines()[1:]
    held = [line.split("\t")[0] for line in listed if line.split("\t")[3] == "flagged"]
    if not held:
        _gridline(["run"], home)  # fails again, with gridline's own message
    for batch in held:
        _gridline(["batches", "accept", batch, "--note", "first batch of a new source (evaluate_real)"], home)
    _gridline(["run"], home)
    return len(held)


@dataclass(frozen=True)
class Result:
    name: str
    cases: int
    seconds: float  # ingest and run
    evaluate_seconds: float  # both scores, the baseline's clustering included
    accepted: int
    comparison: Comparison
    ticket_seconds: float  # the ticket models' own seconds within the run's dbt build


def measure(dataset: Dataset, work: Path) -> Result:
    home = work / "home"
    os.environ[TIMEZONE_ENV] = dataset.timezone  # for every gridline call of this data set
    _gridline(["init", "--local-key"], home)
    calls, truth = dataset.prepare(work)
    started = time.monotonic()
    for call in calls:
        _gridline(call, home)
    accepted = _run_accepting_held_batches(home)
    seconds = time.monotonic() - started
    tickets = sum(ticket_model_seconds(home).values())
    cases = _gridline(["sql", "select count(*) as n from marts.cases"], home).stdout.splitlines()[-1]
    started = time.monotonic()
    comparison = compare(Settings(home=home, timezone=dataset.timezone), truth)
    evaluated = time.monotonic() - started
    return Result(dataset.name, int(cases), seconds, evaluated, accepted, comparison, tickets)


def _pair(score: Score, baseline: Score | None, metric: Callable[[Score], float | None]) -> str:
    def shown(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    return f"{shown(metric(score))} / {shown(metric(baseline)) if baseline else '—'}"


COLUMNS: list[tuple[str, Callable[[Score], float | None]]] = [
    ("problems recovered", lambda s: s.problem_recall),
    ("purity", lambda s: s.purity),
    ("case-weighted recall", lambda s: s.case_weighted_recall),
    ("pair precision", lambda s: s.pair_precision),
    ("pairwise F1", lambda s: s.f1),
]


def table(results: list[Result]) -> str:
    header = [
        "dataset",
        "cases",
        "ingest+run s",
        "ticket models s",
        "evaluate s",
        *(f"{name} (gridline / baseline)" for name, _ in COLUMNS),
        "tickets",
    ]
    rows = [header, ["---"] * len(header)]
    for r in results:
        g, b = r.comparison.gridline, r.comparison.baseline
        rows.append(
            [
                r.name,
                f"{r.cases:,}",
                f"{r.seconds:.0f}",
                f"{r.ticket_seconds:.1f}",
                f"{r.evaluate_seconds:.0f}",
            ]
            + [_pair(g, b, metric) for _, metric in COLUMNS]
            + [f"{g.tickets:,} / {b.tickets:,}" if b else f"{g.tickets:,}"]
        )
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    for r in results:
        if r.accepted:
            lines.append(f"{r.name}: the batch audit held {r.accepted} batch(es); accepted them to publish.")
        if r.comparison.gridline.truth_cases_missing:
            missing = r.comparison.gridline.truth_cases_missing
            lines.append(f"{r.name}: {missing:,} truth case ids are not in marts.cases.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="*",
        help="data sets to run (board, boston, board-1, board-2, boston-1, boston-2, board-q1, board-q2, "
        "board-m56, boston-q1, boston-q2, generated, random)",
    )
    parser.add_argument("--scale", default="small", help="scale of the generated cities (default small)")
    parser.add_argument("--seed", type=int, default=41, help="seed of the generated cities (default 41)")
    parser.add_argument("--keep", type=Path, help="keep each data set's home under this folder")
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="do not import the generated cities' reference files (areas, categories) before ingesting",
    )
    args = parser.parse_args()

    datasets = [
        Dataset("board", _board),
        Dataset("boston", _boston, timezone="America/New_York"),
        Dataset("board-1", _board_half(1)),
        Dataset("board-2", _board_half(2)),
        Dataset("boston-1", _boston_half(1), timezone="America/New_York"),
        Dataset("boston-2", _boston_half(2), timezone="America/New_York"),
        # Later in time: each quarter on its own (the held-back data is a later half year)
        Dataset("board-q1", _board_months("2019-01", "2019-03")),
        Dataset("board-q2", _board_months("2019-04", "2019-06")),
        Dataset("board-m56", _board_months("2019-05", "2019-06")),
        Dataset("boston-q1", _boston_part("boston_q1", {1, 2, 3}), timezone="America/New_York"),
        Dataset("boston-q2", _boston_part("boston_q2", {4, 5, 6}), timezone="America/New_York"),
        Dataset("generated", _generated(scale=args.scale, seed=args.seed, reference=args.reference)),
    ]
    if _random_city_supported():
        # Real district and street names from the division code list make the random city realistic.
        divisions = (
            ["--divisions", str(REAL_DATA / "cn_divisions")] if (REAL_DATA / "cn_divisions").is_dir() else []
        )
        city = ["--city", "random", *divisions]
        random_city = _generated(*city, scale=args.scale, seed=args.seed, reference=args.reference)
        datasets.append(Dataset("random", random_city))
    else:
        print("gridline generate has no --city yet: the random city is left out", file=sys.stderr)
    if args.only:
        datasets = [d for d in datasets if d.name in args.only]

    results, failures = [], []
    for dataset in datasets:
        work = Path(tempfile.mkdtemp(prefix=f"gridline-eval-{dataset.name}-"))
        try:
            print(f"== {dataset.name} ...", file=sys.stderr, flush=True)
            result = measure(dataset, work)
            results.append(result)
            print("\n".join(result.comparison.lines()), file=sys.stderr, flush=True)
        except DatasetFailed as exc:
            failures.append(f"{dataset.name}: not measured: {exc}")
            print(failures[-1], file=sys.stderr, flush=True)
        finally:
            if args.keep:
                shutil.move(str(work), str(args.keep / work.name))
            else:
                shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    for failure in failures:
        print(failure)
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
