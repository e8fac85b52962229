"""Everything a run's city is: its places, its category list, how its addresses read, how it is named.

``default`` is 云州市 with the default taxonomy, exactly as the demo and its dbt seeds know it. ``random``
is another city per seed (:mod:`ingestion.generate.towns`), with a category list of its own
(:mod:`ingestion.generate.taxonomy`), another address habit (:mod:`ingestion.generate.address`), and
planted classes whose members name their place in different ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridline.errors import GridlineError
from ingestion.generate.address import AddressStyle
from ingestion.generate.city import City, build_city
from ingestion.generate.taxonomy import Taxonomy, default_taxonomy, random_taxonomy
from ingestion.generate.towns import random_city

CITY_KINDS = ("default", "random")


@dataclass(frozen=True)
class World:
    city: City
    taxonomy: Taxonomy
    style: AddressStyle
    naming_variants: bool  # do planted members name their place in different ways?


def make_world(kind: str, seed: int, divisions: Path | None = None) -> World:
    if kind == "default":
        if divisions is not None:
            raise GridlineError("--divisions draws a random city: use it with --city random")
        return World(build_city(), default_taxonomy(), AddressStyle(), naming_variants=False)
    if kind == "random":
        city, style, rng = random_city(seed, divisions)
        return World(city, random_taxonomy(rng), style, naming_variants=True)
    raise GridlineError(f"unknown city {kind!r}; known: {', '.join(CITY_KINDS)}")
