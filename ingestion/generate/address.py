"""How a city writes the address of an incident (事发地址).

The default city writes its areas first and then the compound (``云中区和平街道友谊社区翠苑小区``). Other
cities write a road and a house number (``滨江区望湖路128号嘉禾苑``, ``望湖路12号院``, ``望湖路128弄``),
sometimes the number alone without the compound's name, or the city's name first. Villages keep their
村民小组 (``青石镇柳塘村三组``) whatever the city's habit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ingestion.generate.city import Grid

KINDS = ("areas_first", "road_number", "city_road", "street_compound")
NUMBER_FORMS = ("{n}号", "{n}号院", "{n}弄", "{lane}巷{n}号")


@dataclass(frozen=True)
class AddressStyle:
    kind: str = "areas_first"
    city: str = ""
    bare_number: float = 0.0  # share of road addresses giving the number but not the compound's name

    def incident(self, rng: random.Random, grid: Grid, compound: str, rest: str) -> str:
        """The address of something at ``compound`` (blank for a road object) followed by ``rest``."""
        areas = f"{grid.district}{grid.street}{grid.community}"
        if self.kind == "areas_first" or grid.rural:
            return f"{areas}{compound}{rest}"
        number = _number_of(grid, compound)
        if self.kind == "street_compound":
            return f"{grid.street}{compound}{rest}"
        where = number + ("" if number and rng.random() < self.bare_number else compound)
        prefix = f"{self.city}{grid.district}" if self.kind == "city_road" else grid.district
        return f"{prefix}{where}{rest}"

    def vague(self, rng: random.Random, grid: Grid) -> str:
        """What an operator writes when the caller names no address: nothing, or only an area."""
        return rng.choice(["", "", grid.district, f"{grid.district}{grid.street}", f"{grid.street}附近"])


def _number_of(grid: Grid, compound: str) -> str:
    if compound in grid.compounds and grid.compound_addresses:
        return grid.compound_addresses[grid.compounds.index(compound)]
    return ""


def house_number(rng: random.Random, road: str, form: str) -> str:
    """A compound's street address on ``road`` in the city's habit ``form``."""
    return road + form.format(n=rng.randint(1, 399), lane=rng.randint(1, 60))


def random_style(rng: random.Random, city: str) -> tuple[AddressStyle, str]:
    """A city's address habit and its house-number form."""
    kind = rng.choice(KINDS)
    return AddressStyle(kind, city, rng.choice([0.0, 0.15, 0.3])), rng.choice(NUMBER_FORMS)
