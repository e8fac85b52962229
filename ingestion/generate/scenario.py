"""``gridline generate``: a year (or two quarters) of the synthetic city's records, day by day.

The city lives through its days in order. Each day residents call 12345, grid workers do their rounds and
report-in members serve; each order's future is decided when it is received and it waits in the buckets
of the exports that will show it. At the end of each export period (a day, or a month at scale ``tiny`` so
the demo has few Airflow runs) the period's files are written and forgotten, so memory holds only the
orders still in flight, never the year. Landing layout: ``OUT/<stream>/<YYYY-MM-DD>/<file>`` for the export
day, and ``OUT/truth.json`` with the planted classes, the malformed records and the counts.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
from bisect import bisect
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from gridline.errors import GridlineError
from ingestion.generate import files, hotline, naming, planted, reference, vocab
from ingestion.generate import grid as grid_app
from ingestion.generate import volunteer as volunteer_app
from ingestion.generate.city import City, Grid
from ingestion.generate.world import World, make_world


@dataclass(frozen=True)
class Scale:
    quarters: tuple[str, ...]
    orders_per_day: float
    grid_per_day: float
    sessions_per_day: float
    classes: int
    cadence: str  # daily | monthly: how often each stream's export lands


_YEAR = ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
SCALES = {
    "tiny": Scale(("2025Q3", "2025Q4"), 6.5, 16, 3, 10, "monthly"),
    "small": Scale(_YEAR, 45, 120, 12, 40, "daily"),
    "city": Scale(_YEAR, 1150, 2900, 77, 150, "daily"),
    "megacity": Scale(_YEAR, 12500, 32000, 800, 600, "daily"),
}
# Rates of field noise.
LATE_RATE = 0.03  # an order's change, or a submission, lands one export later
RESEND_RATE = 0.03  # a file delivered again the next export day
HOTLINE_MALFORMED = 0.002
GRID_MALFORMED = 0.001
GRID_DUPLICATE = 0.01  # the app uploads a submission twice
VOLUNTEER_MALFORMED = 0.005
SLASH_STYLE = 0.2  # CSV files with YYYY/M/D H:MM timestamps
TYPED_VARIANT = 0.04  # operator-typed place names that differ from the reference
GRID_FIRST = 0.5  # orders about places that the grid handles first
SEASON = {
    1: 0.9,
    2: 0.8,
    3: 0.95,
    4: 1.0,
    5: 1.0,
    6: 1.05,
    7: 1.15,
    8: 1.15,
    9: 1.0,
    10: 0.95,
    11: 0.95,
    12: 0.9,
}


def _daily_count(rng: random.Random, rate: float, day: date) -> int:
    mean = rate * SEASON[day.month] * (0.8 if day.weekday() >= 5 else 1.05)
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def _typed(rng: random.Random, name: str) -> str:
    """A place name as an operator might type it."""
    if rng.random() >= TYPED_VARIANT:
        return name
    variants = reference.typed_variants(name)  # the reference lists them as aliases
    if len(variants) <= 1:
        return variants[0] if variants else name
    return rng.choice(variants)


def _key_id(problem: vocab.Problem) -> int:
    """A problem's key as a 64-bit digest: a quarter of a megacity holds millions of them."""
    text = "\x1f".join(problem.key).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _periods(scale: Scale) -> list[tuple[date, date]]:
    start = planted.quarter_bounds(scale.quarters[0])[0].date()
    end = planted.quarter_bounds(scale.quarters[-1])[1].date()
    periods = []
    day = start
    while day < end:
        if scale.cadence == "daily":
            last = day
        else:
            last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        periods.append((day, last))
        day = last + timedelta(days=1)
    return periods


class Landing:
    """The landing folder: writes each stream's files and keeps the truth about what went into them."""

    def __init__(self, out: Path, rng: random.Random) -> None:
        self.out = out
        self.rng = rng
        self.formats = {"hotline": files.FormatChooser(rng), "volunteer": files.FormatChooser(rng)}
        self.malformed: list[dict] = []
        self.files = 0
        self.bytes = 0
        self.last_file: dict[str, Path] = {}
        self.tables: dict[str, int] = defaultdict(int)

    def folder(self, stream: str, day: date) -> Path:
        return self.out / stream / day.isoformat()

    def _note(self, stream: str, path: Path, marks: list[tuple[int, str]]) -> None:
        self.files += 1
        self.bytes += path.stat().st_size
        rel = str(path.relative_to(self.out))
        self.malformed += [{"stream": stream, "file": rel, "line": n, "reason": r} for n, r in marks]

    def table(
        self,
        stream: str,
        day: date,
        name: str,
        header: list[str],
        rows: list[dict],
        breakers: dict,
        rate: float,
    ) -> Path:
        fmt = self.formats[stream].next()
        self.tables[stream] += 1
        # Some exports write YYYY/M/D H:MM; the fifth and sixth files of a stream do, so every run has one.
        slash = self.rng.random() < SLASH_STYLE or self.tables[stream] in (5, 6)
        style = "slash" if fmt != "xlsx" and slash else "dash"
        count = int(len(rows) * rate + self.rng.random())
        records, marks = files.corrupt(self.rng, rows, count, breakers, header, truncate=fmt != "xlsx")
        path = files.write_table(self.folder(stream, day) / name, header, records, fmt, style)
        self._note(stream, path, marks)
        return path

    def lines(
        self, stream: str, day: date, name: str, lines: list[str], marks: list[tuple[int, str]]
    ) -> Path:
        folder = self.folder(stream, day)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(line + "\n" for line in lines)
        self._note(stream, path, marks)
        return path

    def resend(self, stream: str, path: Path, day: date) -> None:
        """Deliver ``path`` again into ``day``'s folder; its malformed records come again too."""
        rel = str(path.relative_to(self.out))
        marks = [(m["line"], m["reason"]) for m in self.malformed if m["file"] == rel]
        copy = files.resend(path, self.folder(stream, day))
        self._note(stream, copy, marks)


class Generator:
    """One run: the city, the scale, the random stream, and the state carried from day to day."""

    def __init__(self, out: Path, scale: Scale, seed: int, world: World) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.world = world
        self.city: City = world.city
        self.cum = list(accumulate(g.households for g in self.city.grids))
        self.categories = list(world.taxonomy.categories)
        self.cat_cum = list(accumulate(c.weight for c in self.categories))
        self.classes, appearances = planted.plan(
            self.rng,
            self.city,
            list(scale.quarters),
            scale.classes,
            [g.households for g in self.city.grids],
            world.taxonomy,
            world.naming_variants,
        )
        self.appearances = deque(appearances)
        self.reserved = {_key_id(c.problem) for c in self.classes} | {_key_id(a.problem) for a in appearances}
        self.used: set[int] = set()
        self.quarter = ""
        self.landing = Landing(out, self.rng)
        self.units = volunteer_app.build_units(self.rng, self.city)
        self.unit_cum = list(accumulate(len(u.members) for u in self.units))
        self.periods = _periods(scale)
        self.period_of = {}
        for index, (first, last) in enumerate(self.periods):
            for n in range((last - first).days + 1):
                self.period_of[first + timedelta(days=n)] = index
        self.order_buckets: dict[int, dict[str, hotline.Order]] = defaultdict(dict)
        self.recent_buckets: deque[dict[str, hotline.Order]] = deque(
            maxlen=7 if scale.cadence == "daily" else 3
        )
        self.pending_grid: dict[date, list[grid_app.Submission]] = defaultdict(list)
        self.grid_buckets: dict[int, list[grid_app.Submission]] = defaultdict(list)
        self.session_buffer: list[dict] = []
        self.recent_orders: dict[str, deque[str]] = defaultdict(lambda: deque(maxlen=8))
        self.counts = defaultdict(int)

    # --- drawing -------------------------------------------------------------------------------------

    def _grid(self) -> Grid:
        return self.city.grids[bisect(self.cum, self.rng.random() * self.cum[-1])]

    def _category(self) -> vocab.Category:
        return self.categories[bisect(self.cat_cum, self.rng.random() * self.cat_cum[-1])]

    def _background_problem(self, grid: Grid) -> tuple[vocab.Category, vocab.Problem]:
        """A problem nobody else raises this quarter, so background appeals never form a class."""
        for _ in range(8):
            category = self._category()
            place, obj = vocab.draw_object(self.rng, category, grid)
            problem = vocab.Problem(category, place, obj, self.rng.randrange(len(category.problems)))
            if not category.placed:
                return category, problem  # a personal matter: never a class of problem
            key = _key_id(problem)
            if key not in self.used and key not in self.reserved:
                self.used.add(key)
                return category, problem
            grid = self._grid()
        return category, problem

    def _address(self, grid: Grid, problem: vocab.Problem, said: naming.Said | None) -> str:
        """Where an order says it happened: a compound, a road, or the caller's home for personal matters."""
        style = self.world.style
        if said is not None and said.address_place is None:
            return style.vague(self.rng, grid)
        if problem.place:
            return style.incident(self.rng, grid, said.address_place if said else problem.place, "")
        if problem.category.placed:
            return style.incident(self.rng, grid, "", problem.obj)
        return style.incident(self.rng, grid, self.rng.choice(grid.compounds), "")

    # --- hotline -------------------------------------------------------------------------------------

    def _order(
        self,
        order_id: str,
        at: datetime,
        grid: Grid,
        category: vocab.Category,
        problem: vocab.Problem,
        noisy: bool,
        said: naming.Said | None = None,
    ) -> hotline.Order:
        rng = self.rng
        caller, number = vocab.person(rng), vocab.phone(rng)
        told = said.text_problem if said else problem
        text = vocab.resident_text(rng, told)
        if rng.random() < 0.1:
            note = vocab.contact_note(
                rng, caller if rng.random() < 0.7 else vocab.person(rng), vocab.phone(rng)
            )
            text = note + text if note.endswith("，") else text + note
        path = category.path
        if noisy and rng.random() < 0.05:
            path = "" if rng.random() < 0.4 else path.rsplit("/", 1)[0]
        appeal_type = rng.choice(hotline.APPEAL_TYPES[:-1] if category.placed else hotline.APPEAL_TYPES)
        fixed = {
            "工单编号": order_id,
            "来电号码": number,
            "来电人": caller,
            "诉求渠道": rng.choice(hotline.CHANNELS),
            "诉求类型": appeal_type,
            "诉求分类": path,
            "诉求标题": vocab.resident_title(rng, told, said.title_names_place if said else False),
            "诉求内容": text,
            "事发地址": self._address(grid, problem, said),
            "区县": _typed(rng, grid.district),
            "街道": _typed(rng, grid.street),
            "社区": _typed(rng, grid.community),
            "网格": "" if noisy and rng.random() < 0.05 else grid.grid_code,
            "工单状态": "待派单",
            "重办次数": 0,
        }
        grid_first = category.placed and rng.random() < GRID_FIRST
        origin = category.origin or category.code
        unit = hotline.handling_unit(rng, grid, origin, grid_first)
        order = hotline.Order(order_id, at, fixed)
        order.changes = hotline.lifecycle(
            rng, at, unit, hotline.department_for(origin), appeal_type, grid_first
        )
        if grid_first:
            contact = next(when for when, delta in order.changes if "首次联系时间" in delta)
            self.pending_grid[contact.date()].append(
                grid_app.handling(rng, contact, grid, order_id, category.path, self.world)
            )
        self._schedule(order)
        self.recent_orders[grid.community_code].append(order_id)
        return order

    def _schedule(self, order: hotline.Order) -> None:
        """Put the order in the bucket of every export that will show a change of it."""
        last = len(self.periods) - 1
        periods = {self.period_of[order.received.date()]}
        for when, _ in order.changes:
            index = self.period_of.get(when.date())
            if index is None:
                break  # beyond the data's end
            periods.add(index)
        for index in periods:
            if index < last and self.rng.random() < LATE_RATE:
                index += 1  # the change reaches the platform's export a period late
            self.order_buckets[index][order.order_id] = order

    def hotline_day(self, day: datetime) -> None:
        rng = self.rng
        todo: list[tuple[datetime, Grid, vocab.Category, vocab.Problem, planted.Appearance | None]] = []
        for _ in range(_daily_count(rng, self.scale.orders_per_day, day.date())):
            grid = self._grid()
            category, problem = self._background_problem(grid)
            todo.append((hotline.call_time(rng, day), grid, category, problem, None))
        while self.appearances and self.appearances[0].at.date() == day.date():
            a = self.appearances.popleft()
            if a.stream == "hotline":
                todo.append((a.at, a.grid, a.category, a.problem, a))
            else:
                self._planted_grid.append(a)
        todo.sort(key=lambda item: item[0])
        for seq, (at, grid, category, problem, appearance) in enumerate(todo, start=1):
            order_id = f"HX{at:%y%m%d}{seq:05d}"
            said = self._said(appearance)
            self._order(order_id, at, grid, category, problem, noisy=appearance is None, said=said)
            if appearance is not None:
                planted.record_member(appearance, f"12345:{order_id}")
        self.counts["orders"] += len(todo)

    def _said(self, appearance: planted.Appearance | None) -> naming.Said | None:
        """How a planted record names its place, in a city whose classes vary it (None: as usual)."""
        if appearance is None or not self.world.naming_variants:
            return None
        aliases = naming.aliases(appearance.problem.place) if not appearance.grid.rural else ()
        return naming.say(self.rng, appearance.naming, appearance.problem, appearance.grid, aliases)

    def export_hotline(self, index: int) -> None:
        first, last = self.periods[index]
        cutoff = datetime.combine(last, datetime.max.time())
        bucket = self.order_buckets.pop(index, {})
        self.recent_buckets.append(bucket)
        rows = []
        for key in sorted(bucket):
            order = bucket[key]
            state = order.state_at(cutoff)
            if state is None:
                continue
            rows.append(state)
            # What the adapter will make of the row: the lifecycle facts it has not seen, and a snapshot.
            facts = sum(1 for c in hotline.LIFECYCLE_COLUMNS if state.get(c)) + int(state["重办次数"])
            self.counts["events_estimate"] += max(0, facts - order.exported) + 1
            order.exported = max(order.exported, facts)
        landing = self.landing
        stamp = last.strftime("%Y%m%d")
        path = landing.table(
            "hotline",
            last,
            f"12345_export_{stamp}",
            hotline.HEADER,
            rows,
            hotline.BREAKERS,
            HOTLINE_MALFORMED,
        )
        previous = landing.last_file.get("hotline")
        if previous and (index == 1 or self.rng.random() < RESEND_RATE):
            landing.resend("hotline", previous, last)
        landing.last_file["hotline"] = path
        overlap_due = last.weekday() == 6 if self.scale.cadence == "daily" else last.month % 3 == 0
        if overlap_due and len(self.recent_buckets) > 1:
            # A wider export over the last periods: every order in it is already in a daily file.
            union = {k: o for b in self.recent_buckets for k, o in b.items()}
            wide = [s for k in sorted(union) if (s := union[k].state_at(cutoff)) is not None]
            since = self.periods[max(0, index - len(self.recent_buckets) + 1)][0].strftime("%Y%m%d")
            landing.table(
                "hotline",
                last,
                f"12345_export_{since}-{stamp}",
                hotline.HEADER,
                wide,
                hotline.BREAKERS,
                HOTLINE_MALFORMED,
            )

    # --- grid ----------------------------------------------------------------------------------------

    def grid_day(self, day: datetime) -> None:
        rng = self.rng
        todo = self.pending_grid.pop(day.date(), [])
        for _ in range(_daily_count(rng, self.scale.grid_per_day, day.date())):
            grid = self._grid()
            kind = rng.choice(grid_app.KINDS)
            if kind == "issue":
                category, problem = self._background_problem(grid)
                if not category.placed:
                    kind = "visit"
                else:
                    at = grid_app.round_time(rng, day)
                    todo.append(grid_app.issue(rng, at, grid, problem, self.world))
                    continue
            todo.append(grid_app.routine(rng, day, grid, kind, self.world))
        for a in self._planted_grid:
            said = self._said(a)
            told = said.text_problem if said else a.problem
            # A worker on the spot reports with the phone's position when the city's classes are varied.
            submission = grid_app.issue(rng, a.at, a.grid, told, self.world, located=said is not None)
            submission.extra["appearance"] = a
            todo.append(submission)
        self._planted_grid = []
        todo.sort(key=lambda s: (s.submitted_at, s.grid.grid_code, s.kind))
        index = self.period_of[day.date()]
        for seq, submission in enumerate(todo, start=1):
            submission.submission_id = f"S{day:%y%m%d}{seq:06d}"
            if "appearance" in submission.extra:
                planted.record_member(submission.extra.pop("appearance"), f"grid:{submission.submission_id}")
            if submission.kind == "issue" and submission.status == "reported" and submission.related is None:
                later = grid_app.follow_up(rng, submission)
                self.pending_grid[later.submitted_at.date()].append(later)
            late = index < len(self.periods) - 1 and rng.random() < LATE_RATE
            self.grid_buckets[index + 1 if late else index].append(submission)
        self.counts["grid_submissions"] += len(todo)

    def export_grid(self, index: int) -> None:
        rng = self.rng
        last = self.periods[index][1]
        lines, marks = [], []
        for submission in self.grid_buckets.pop(index, []):
            lines.append(grid_app.jsonl_line(submission))
            if rng.random() < GRID_DUPLICATE:
                lines.append(lines[-1])  # uploaded twice
            if rng.random() < GRID_MALFORMED:
                broken, reason = grid_app.malformed_line(rng, submission)
                lines.append(broken)
                marks.append((len(lines), reason))
        self.counts["events_estimate"] += len(lines) - len(marks)
        self.landing.lines("grid", last, f"grid_submissions_{last:%Y%m%d}.jsonl", lines, marks)

    # --- volunteer -----------------------------------------------------------------------------------

    def volunteer_day(self, day: datetime) -> None:
        rng = self.rng
        sessions = []
        for _ in range(_daily_count(rng, self.scale.sessions_per_day, day.date())):
            unit = self.units[bisect(self.unit_cum, rng.random() * self.unit_cum[-1])]
            recent = self.recent_orders.get(unit.community.community_code)
            order_id = rng.choice(recent) if recent and rng.random() < 0.05 else None
            sessions.append(volunteer_app.session(rng, day, unit, order_id))
        sessions.sort(key=lambda s: (s["签到时间"], s["党员编号"]))
        for seq, session in enumerate(sessions, start=1):
            session["记录编号"] = f"V{day:%y%m%d}{seq:04d}"
        self.session_buffer += sessions
        self.counts["volunteer_sessions"] += len(sessions)
        self.counts["events_estimate"] += sum(2 if s["签退时间"] else 1 for s in sessions)

    def export_volunteer(self, index: int) -> None:
        last = self.periods[index][1]
        self.landing.table(
            "volunteer",
            last,
            f"volunteer_sessions_{last:%Y%m%d}",
            volunteer_app.HEADER,
            self.session_buffer,
            volunteer_app.BREAKERS,
            VOLUNTEER_MALFORMED,
        )
        self.session_buffer = []

    # --- the run -------------------------------------------------------------------------------------

    def run(self) -> None:
        self._planted_grid: list[planted.Appearance] = []
        first, last = self.periods[0][0], self.periods[-1][1]
        day = first
        while day <= last:
            moment = datetime.combine(day, datetime.min.time())
            quarter = planted.quarter_of(moment)
            if quarter != self.quarter:
                self.quarter, self.used = quarter, set()
            self.hotline_day(moment)
            self.grid_day(moment)
            self.volunteer_day(moment)
            index = self.period_of[day]
            if day == self.periods[index][1]:
                self.export_hotline(index)
                self.export_grid(index)
                self.export_volunteer(index)
            day += timedelta(days=1)


def generate(
    out: Path, scale_name: str = "tiny", seed: int = 1, city: str = "default", divisions: Path | None = None
) -> dict:
    """Write the landing files, the city's reference and ``truth.json`` into ``out``; returns a summary."""
    if scale_name not in SCALES:
        raise GridlineError(f"unknown scale {scale_name!r}; known: {', '.join(SCALES)}")
    world = make_world(city, seed, divisions)
    out = Path(out)
    streams = [out / s for s in ("hotline", "grid", "volunteer") if (out / s).exists()]
    if streams and not (out / "truth.json").exists():
        raise GridlineError(f"{out} already holds landing files not written by gridline generate")
    # An earlier run's output is replaced whole, so files of a longer run never mix with this one's.
    for folder in [*streams, out / reference.FOLDER]:
        if folder.exists():
            shutil.rmtree(folder)
    out.mkdir(parents=True, exist_ok=True)
    scale = SCALES[scale_name]
    generator = Generator(out, scale, seed, world)
    generator.run()
    reference.write(out / reference.FOLDER, world)
    counts = generator.counts
    truth = {
        "scale": scale_name,
        "seed": seed,
        "quarters": list(scale.quarters),
        "city": {
            "kind": city,
            "name": world.city.name,
            "address_style": world.style.kind,
            "grids": len(generator.city.grids),
            "communities": len(generator.city.communities),
            "streets": len(generator.city.streets),
        },
        "counts": {
            "hotline_orders": counts["orders"],
            "grid_submissions": counts["grid_submissions"],
            "volunteer_sessions": counts["volunteer_sessions"],
            "malformed": len(generator.landing.malformed),
        },
        "classes": [c.truth() for c in generator.classes],
        "malformed": generator.landing.malformed,
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return {
        "scale": scale_name,
        "seed": seed,
        "city": world.city.name,
        "orders": counts["orders"],
        "grid_submissions": counts["grid_submissions"],
        "volunteer_sessions": counts["volunteer_sessions"],
        "events_estimate": counts["events_estimate"],
        "classes": len(generator.classes),
        "files": generator.landing.files,
        "bytes": generator.landing.bytes,
    }
