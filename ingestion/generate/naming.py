"""How one member of a planted class names its place: in the address, in the text, or by a short name.

Real appeals about one compound rarely name it the same way: one caller gives the address and only says
"3栋电梯" in the text, another leaves the address blank and names 嘉禾苑 in the text, a third says 嘉禾 or
嘉禾苑小区. A random city plants its classes with such members, so that grouping by the address alone or by
the exact name alone falls short.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ingestion.generate import towns, vocab
from ingestion.generate.city import Grid, Lexicon

FULL, ADDRESS_ONLY, TEXT_ONLY, ALIAS = "full", "address_only", "text_only", "alias"
MODES = (FULL, ADDRESS_ONLY, TEXT_ONLY, ALIAS)
_WEIGHTS = {FULL: 3, ADDRESS_ONLY: 2.5, TEXT_ONLY: 2.5, ALIAS: 2}
# What a caller says instead of a road's name when the address already gives it.
_NEARBY = "门口这条路"
_SUFFIXES = sorted({*Lexicon().compound_suffixes, *towns.COMPOUND_SUFFIXES})  # sorted: no hash order


def aliases(place: str) -> tuple[str, ...]:
    """The short and long forms residents use for a compound: 嘉禾苑 → 嘉禾, 嘉禾苑小区."""
    if not place:
        return ()
    fits = [s for s in _SUFFIXES if place.endswith(s) and len(place) > len(s) + 1]
    suffix = max(fits, key=len, default="")
    forms = []
    if suffix:
        forms.append(place[: -len(suffix)])
    if not place.endswith("小区"):
        forms.append(place + "小区")
    return tuple(forms)


def draw_modes(rng: random.Random, members: int, place_aliases: tuple[str, ...]) -> list[str]:
    """Each member's way of naming the place: the first names it fully, so someone gives both forms, and
    every other way the place allows comes next (a class of four or more shows them all), then any."""
    choices = [m for m in MODES if m != ALIAS or place_aliases]
    others = [m for m in choices if m != FULL]
    rng.shuffle(others)
    rest = rng.choices(choices, [_WEIGHTS[m] for m in choices], k=max(0, members - 1 - len(others)))
    return ([FULL, *others, *rest])[:members]


@dataclass(frozen=True)
class Said:
    """What one record says: the compound its address names (None: no usable address), and its problem."""

    address_place: str | None
    text_problem: vocab.Problem
    title_names_place: bool = False


def say(
    rng: random.Random, mode: str, problem: vocab.Problem, grid: Grid, place_aliases: tuple[str, ...]
) -> Said:
    if mode == ADDRESS_ONLY:
        if problem.place:
            return Said(problem.place, replace(problem, place=""))
        obj = problem.obj
        for road in (*grid.roads, grid.main_road, grid.river):
            if road and road in obj:
                obj = obj.replace(road, _NEARBY)
        return Said("", replace(problem, obj=obj))
    if mode == TEXT_ONLY:
        return Said(None, problem, title_names_place=True)
    if mode == ALIAS and place_aliases:
        # Two different forms, so at least one of the two is a short or long name.
        address_form, text_form = rng.sample([problem.place, *place_aliases], 2)
        return Said(address_form, replace(problem, place=text_form))
    return Said(problem.place, problem)
