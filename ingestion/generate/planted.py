"""Planted classes of problems: the ground truth that downstream class-of-problem tickets are measured by.

A class is one specific problem (a category, a place and an object such as ``翠苑小区3栋电梯`` with one
problem such as 经常停运) that residents raise again and again in one or more quarters. Its members are
hotline orders and grid-worker ``issue`` submissions, each described in fresh words. Some classes spread
over several grids of a community or over a street; one in five is partly filed under a neighbouring
category. Beside some grid classes sit *decoys*: other problems of the same category in the same grid,
which a category-and-place rule alone would wrongly merge into the class.

In a random city (``variants``) members also name their place in different ways (:mod:`naming`); some
compounds hold two classes of different problems (``same_place_as``: they must stay apart); and every class
has *noise* beside it: single appeals about other problems at the same place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingestion.generate import grid as grid_app
from ingestion.generate import hotline, naming, vocab
from ingestion.generate.city import City, Grid
from ingestion.generate.taxonomy import Taxonomy


@dataclass
class PlantedClass:
    class_id: str
    problem: vocab.Problem
    area_level: str
    area_code: str
    grids: list[Grid]
    quarters: list[str]
    also_category: str | None = None
    place_aliases: tuple[str, ...] = ()
    same_place_as: str | None = None
    case_ids: dict[str, list[str]] = field(default_factory=dict)
    decoy_ids: dict[str, list[str]] = field(default_factory=dict)
    noise_ids: dict[str, list[str]] = field(default_factory=dict)
    naming: dict[str, list[str]] = field(default_factory=dict)  # how each member named the place

    @property
    def place_address(self) -> str:
        """The compound's street address (``望湖路128号``) in a city whose addresses give one."""
        grid = self.grids[0]
        if self.problem.place in grid.compounds and grid.compound_addresses:
            return grid.compound_addresses[grid.compounds.index(self.problem.place)]
        return ""

    def truth(self) -> dict:
        return {
            "class_id": self.class_id,
            "category_code": self.problem.category.code,
            "also_filed_under": [self.also_category] if self.also_category else [],
            "area_level": self.area_level,
            "area_code": self.area_code,
            "grid_codes": sorted({g.grid_code for g in self.grids}),
            "place": self.problem.place,
            "place_aliases": list(self.place_aliases),
            "place_address": self.place_address,
            "same_place_as": self.same_place_as,
            "object": self.problem.obj,
            "problem": self.problem.category.problems[self.problem.group][0],
            "quarters": self.quarters,
            "case_ids": {q: sorted(ids) for q, ids in sorted(self.case_ids.items())},
            "decoy_case_ids": {q: sorted(ids) for q, ids in sorted(self.decoy_ids.items())},
            "noise_case_ids": {q: sorted(ids) for q, ids in sorted(self.noise_ids.items())},
            "naming": {mode: sorted(ids) for mode, ids in sorted(self.naming.items())},
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
    noise: bool = False  # another problem at the class's place (random city), never a member
    naming: str = naming.FULL


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
    rng: random.Random,
    city: City,
    quarters: list[str],
    count: int,
    weights: list[int],
    taxonomy: Taxonomy,
    variants: bool = False,
) -> tuple[list[PlantedClass], list[Appearance]]:
    """``count`` classes over ``quarters`` and every appearance of their members and decoys, by time."""
    placed = [c for c in taxonomy.categories if c.placed]
    wide = [c for c in placed if any("{road}" in t or "{river}" in t for t in c.objects)]
    neighbours = dict(taxonomy.neighbours) | {b: a for a, b in taxonomy.neighbours}
    crossable = [c for c in placed if c.code in neighbours]
    communities = [grids for grids in city.communities.values() if len(grids) >= 2]
    streets = [grids for grids in city.streets.values() if len({g.community_code for g in grids}) >= 2]
    classes: list[PlantedClass] = []
    appearances: list[Appearance] = []
    taken: set[tuple[str, str]] = set()
    twin_of: PlantedClass | None = None
    urban = any(not g.rural for g in city.grids)  # a compound with short names, not a village's group
    while len(classes) < count:
        # The first three classes cover every kind (community, cross-category grid, street), so even a tiny
        # run has each; the rest are drawn: two thirds grid, a quarter community, the rest street.
        roll = [0.7, 0.0, 0.95][len(classes)] if len(classes) < 3 else rng.random()
        if twin_of is not None:
            # Another problem at the compound of the class before: the two must stay apart.
            grid, twin = twin_of.grids[0], twin_of.problem.category
            category = rng.choice([c for c in placed if c.code not in (twin.code, neighbours.get(twin.code))])
            place, obj = vocab.draw_object(rng, category, grid)
            if not place:
                continue  # an object on a road: draw again until it is in the compound
            place = twin_of.problem.place
            level, code, grids = "grid", grid.grid_code, [grid]
        elif roll < 0.65:
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
        if (
            variants
            and len(classes) == 3
            and not (level == "grid" and place and not (urban and grids[0].rural))
        ):
            continue  # the fourth class sits in a compound, so even a tiny run has two problems at one
        taken.add(problem.key)
        taken.add((category.code, code))
        also = neighbours.get(category.code) if rng.random() < 0.2 or len(classes) == 1 else None
        # A twin is raised in the same quarters as the class beside it, so keeping them apart is tested.
        active = twin_of.quarters if twin_of is not None else _active_quarters(rng, quarters)
        planted = PlantedClass(f"K{len(classes) + 1:04d}", problem, level, code, grids, active, also)
        if variants:
            in_compound = level == "grid" and bool(place)
            planted.place_aliases = naming.aliases(place) if in_compound and not grids[0].rural else ()
            if twin_of is not None:
                planted.same_place_as, twin_of = twin_of.class_id, None
            elif in_compound and len(classes) >= 3 and (len(classes) == 3 or rng.random() < 0.25):
                twin_of = planted
        classes.append(planted)
        mixed = rng.random() < 0.6
        decoys = level == "grid" and rng.random() < 0.5
        for quarter in planted.quarters:
            start, end = quarter_bounds(quarter)
            days = (end - start).days
            hotline_members = rng.randint(4, 8)
            modes = naming.draw_modes(rng, hotline_members, planted.place_aliases) if variants else []
            for n in range(hotline_members):
                at = hotline.call_time(rng, start + timedelta(days=rng.randrange(days)))
                filed = category
                if also and (n == 3 or (n > 3 and rng.random() < 0.5)):
                    filed = taxonomy.by_code[also]
                member = Appearance(at, planted, "hotline", rng.choice(grids), filed, problem)
                member.naming = modes[n] if modes else naming.FULL
                appearances.append(member)
            for _ in range(rng.randint(1, 3) if mixed else 0):
                at = grid_app.round_time(rng, start + timedelta(days=rng.randrange(days)))
                member = Appearance(at, planted, "grid", rng.choice(grids), category, problem)
                if variants and planted.place_aliases and rng.random() < 0.3:
                    member.naming = naming.ALIAS  # the worker's shorthand for the compound
                appearances.append(member)
            for _ in range(2 if decoys else 0):
                at = hotline.call_time(rng, start + timedelta(days=rng.randrange(days)))
                while True:
                    place2, obj2 = vocab.draw_object(rng, category, grids[0])
                    other = vocab.Problem(category, place2, obj2, rng.randrange(len(category.problems)))
                    if other.key != problem.key:
                        break
                decoy = Appearance(at, planted, "hotline", grids[0], category, other, decoy=True)
                if variants:
                    decoy.naming = naming.draw_modes(rng, 2, ())[1]
                appearances.append(decoy)
            if variants:
                appearances += _noise(rng, planted, quarter, placed, neighbours, taken)
    appearances.sort(key=lambda a: a.at)
    return classes, appearances


def _noise(
    rng: random.Random,
    planted: PlantedClass,
    quarter: str,
    placed: list[vocab.Category],
    neighbours: dict[str, str],
    taken: set[tuple[str, str]],
) -> list[Appearance]:
    """Two or three single appeals about other problems at the class's place in ``quarter``."""
    start, end = quarter_bounds(quarter)
    own = planted.problem.category.code
    others = [c for c in placed if c.code not in (own, neighbours.get(own))]
    noise: list[Appearance] = []
    wanted = rng.randint(2, 3)
    while len(noise) < wanted:
        category = rng.choice(others)
        grid = rng.choice(planted.grids)
        place, obj = vocab.draw_object(rng, category, grid)
        if place and planted.problem.place:
            place = planted.problem.place
        problem = vocab.Problem(category, place, obj, rng.randrange(len(category.problems)))
        if problem.key in taken:
            continue
        taken.add(problem.key)  # one appeal per noise problem: it never forms a class
        at = hotline.call_time(rng, start + timedelta(days=rng.randrange((end - start).days)))
        appearance = Appearance(at, planted, "hotline", grid, category, problem, decoy=True, noise=True)
        appearance.naming = naming.draw_modes(rng, 2, ())[1]
        noise.append(appearance)
    return noise


def record_member(appearance: Appearance, case_id: str) -> None:
    planted = appearance.planted
    quarter = quarter_of(appearance.at)
    if appearance.noise:
        planted.noise_ids.setdefault(quarter, []).append(case_id)
    elif appearance.decoy:
        planted.decoy_ids.setdefault(quarter, []).append(case_id)
    else:
        planted.case_ids.setdefault(quarter, []).append(case_id)
        planted.naming.setdefault(appearance.naming, []).append(case_id)
