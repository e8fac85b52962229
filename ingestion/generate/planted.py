"""Planted classes of problems: the ground truth that downstream class-of-problem tickets are measured by.

A class is one specific problem (a category, a place and an object such as ``翠苑小区3栋电梯`` with one
problem such as 经常停运) that residents raise again and again in one or more quarters. Its members are
hotline orders and grid-worker ``issue`` submissions, each described in fresh words. Some classes spread
over several grids of a community or over a street; one in five is partly filed under a neighbouring
category. Beside some grid classes sit *decoys*: other problems of the same category in the same grid,
which a category-and-place rule alone would wrongly merge into the class.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingestion.generate import grid as grid_app
from ingestion.generate import hotline, vocab
from ingestion.generate.city import City, Grid


@dataclass
class PlantedClass:
    class_id: str
    problem: vocab.Problem
    area_level: str
    area_code: str
    grids: list[Grid]
    quarters: list[str]
    also_category: str | None = None
    case_ids: dict[str, list[str]] = field(default_factory=dict)
    decoy_ids: dict[str, list[str]] = field(default_factory=dict)

    def truth(self) -> dict:
        return {
            "class_id": self.class_id,
            "category_code": self.problem.category.code,
            "also_filed_under": [self.also_category] if self.also_category else [],
            "area_level": self.area_level,
            "area_code": self.area_code,
            "grid_codes": sorted({g.grid_code for g in self.grids}),
            "place": self.problem.place,
            "object": self.problem.obj,
            "problem": self.problem.category.problems[self.problem.group][0],
            "quarters": self.quarters,
            "case_ids": {q: sorted(ids) for q, ids in sorted(self.case_ids.items())},
            "decoy_case_ids": {q: sorted(ids) for q, ids in sorted(self.decoy_ids.items())},
        }


@dataclass(slots=True)
class Appearance:
    """One planned member (or decoy) of a class: who files what, when and where."""

    at: datetime
    planted: PlantedClass
    stream: str  # hotline | grid
    grid: Grid
    category: vocab.Category
    problem: vocab.Problem
    decoy: bool = False


def quarter_of(ts: datetime) -> str:
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    year, q = int(quarter[:4]), int(quarter[-1])
    start = datetime(year, 3 * (q - 1) + 1, 1)
    end = datetime(year + 1, 1, 1) if q == 4 else datetime(year, 3 * q + 1, 1)
    return start, end


def _active_quarters(rng: random.Random, quarters: list[str]) -> list[str]:
    if len(quarters) >= 3 and rng.random() < 0.2:  # goes away, comes back
        first = rng.randrange(len(quarters) - 2)
        return [quarters[first], quarters[first + 2]]
    first = rng.randrange(len(quarters))
    span = rng.choice([1, 1, 2, 2, 3, 4])
    return quarters[first : first + span]


def plan(
    rng: random.Random, city: City, quarters: list[str], count: int, weights: list[int]
) -> tuple[list[PlantedClass], list[Appearance]]:
    """``count`` classes over ``quarters`` and every appearance of their members and decoys, by time."""
    placed = [c for c in vocab.CATEGORIES if c.placed]
    wide = [c for c in placed if any("{road}" in t or "{river}" in t for t in c.objects)]
    neighbours = dict(vocab.NEIGHBOURS) | {b: a for a, b in vocab.NEIGHBOURS}
    crossable = [c for c in placed if c.code in neighbours]
    communities = [grids for grids in city.communities.values() if len(grids) >= 2]
    streets = [grids for grids in city.streets.values() if len({g.community_code for g in grids}) >= 2]
    classes: list[PlantedClass] = []
    appearances: list[Appearance] = []
    taken: set[tuple[str, str]] = set()
    while len(classes) < count:
        # The first three classes cover every kind (community, cross-category grid, street), so even a tiny
        # run has each; the rest are drawn: two thirds grid, a quarter community, the rest street.
        roll = [0.7, 0.0, 0.95][len(classes)] if len(classes) < 3 else rng.random()
        if roll < 0.65:
            grid = rng.choices(city.grids, weights)[0]
            category = rng.choice(crossable if len(classes) == 1 else placed)
            place, obj = vocab.draw_object(rng, category, grid)
            level, code, grids = "grid", grid.grid_code, [grid]
        elif roll < 0.9:
            community = rng.choice(communities)
            category = rng.choice(wide)
            grids = rng.sample(community, min(len(community), rng.randint(2, 4)))
            place, obj = vocab.draw_object(rng, category, grids[0], wide=True)
            level, code = "community", grids[0].community_code
        else:
            street = rng.choice(streets)
            category = rng.choice(wide)
            grids = rng.sample(street, min(len(street), rng.randint(3, 6)))
            place, obj = vocab.draw_object(rng, category, grids[0], wide=True, road=grids[0].main_road)
            level, code = "street", grids[0].street_code
        problem = vocab.Problem(category, place, obj, rng.randrange(len(category.problems)))
        if problem.key in taken or any(k[0] == category.code and k[1] == code for k in taken):
            continue  # one class per category and area keeps the truth unambiguous
        taken.add(problem.key)
        taken.add((category.code, code))
        also = neighbours.get(category.code) if rng.random() < 0.2 or len(classes) == 1 else None
        planted = PlantedClass(
            f"K{len(classes) + 1:04d}", problem, level, code, grids, _active_quarters(rng, quarters), also
        )
        classes.append(planted)
        mixed = rng.random() < 0.6
        decoys = level == "grid" and rng.random() < 0.5
        for quarter in planted.quarters:
            start, end = quarter_bounds(quarter)
            days = (end - start).days
            hotline_members = rng.randint(4, 8)
            for n in range(hotline_members):
                at = hotline.call_time(rng, start + timedelta(days=rng.randrange(days)))
                filed = category
                if also and (n == 3 or (n > 3 and rng.random() < 0.5)):
                    filed = vocab.BY_CODE[also]
                appearances.append(Appearance(at, planted, "hotline", rng.choice(grids), filed, problem))
            for _ in range(rng.randint(1, 3) if mixed else 0):
                at = grid_app.round_time(rng, start + timedelta(days=rng.randrange(days)))
                appearances.append(Appearance(at, planted, "grid", rng.choice(grids), category, problem))
            for _ in range(2 if decoys else 0):
                at = hotline.call_time(rng, start + timedelta(days=rng.randrange(days)))
                while True:
                    place2, obj2 = vocab.draw_object(rng, category, grids[0])
                    other = vocab.Problem(category, place2, obj2, rng.randrange(len(category.problems)))
                    if other.key != problem.key:
                        break
                appearances.append(Appearance(at, planted, "hotline", grids[0], category, other, decoy=True))
    appearances.sort(key=lambda a: a.at)
    return classes, appearances


def record_member(appearance: Appearance, case_id: str) -> None:
    planted = appearance.planted
    quarter = quarter_of(appearance.at)
    target = planted.decoy_ids if appearance.decoy else planted.case_ids
    target.setdefault(quarter, []).append(case_id)
