"""The generated city's reference in the generic form ``gridline reference import`` reads (SPEC 2.6).

``<out>/reference/areas.csv``: ``code,name,level,parent_code,aliases,lat,lon`` for every district, street,
community and grid, with the variants operators type as aliases and each area's centroid;
``<out>/reference/categories.csv``: ``code,level1,level2,level3,is_place_bound,aliases`` for the city's
category list, with the default list's name as an alias where the city renamed a category;
``<out>/reference/activities.csv``: ``activity,category_prefix``, which volunteer activities take on which
categories (the demo city's list, ``demo_city/activities.csv``; another city's is the same list carried
over to its own codes).

The demo city's reference also carries the aliases curated for it in ``demo_city/`` beside this module
(traditional characters, full official names and a typo for its areas; short names and the message board's
names for its categories), so loading the generated files loses none of them. The taxonomy itself is
``vocab.CATEGORIES``; no other copy of it exists.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from ingestion.generate import vocab
from ingestion.generate.world import World

FOLDER = "reference"
CURATED = Path(__file__).resolve().parent / "demo_city"
AREA_HEADER = ["code", "name", "level", "parent_code", "aliases", "lat", "lon"]
CATEGORY_HEADER = ["code", "level1", "level2", "level3", "is_place_bound", "aliases"]
ACTIVITY_HEADER = ["activity", "category_prefix"]


def typed_variants(name: str) -> list[str]:
    """The ways an operator types an area's name: 社区 dropped or 居委会 added, 街 for 街道, 镇 dropped."""
    if name.endswith("社区"):
        return [name[:-2], name + "居委会"]
    if name.endswith("街道"):
        return [name[:-1], name + "办事处"]
    return [name[:-1]] if len(name) > 2 else []


def grid_name(community: str, grid_code: str) -> str:
    return f"{community}第{int(grid_code[-3:])}网格"


def _curated(name: str) -> list[dict[str, str]]:
    """Rows of a curated alias list for the demo city; none where the list is absent."""
    path = CURATED / f"{name}.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _curated_aliases(world: World) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Curated aliases by area code and by category code, for the default city only."""
    areas: dict[str, list[str]] = defaultdict(list)
    categories: dict[str, list[str]] = defaultdict(list)
    if world.naming_variants:  # a random city has no curated lists
        return areas, categories
    for row in _curated("area_aliases"):
        areas[row["code"]].append(row["alias"])
    for row in _curated("category_aliases"):
        categories[row["category_code"]].append(row["alias"])
    return areas, categories


def _joined(*groups: list[str]) -> str:
    return "|".join(dict.fromkeys(a for group in groups for a in group if a))


def area_rows(world: World) -> list[list[str]]:
    curated, _ = _curated_aliases(world)
    rows: list[list[str]] = []
    seen: set[str] = set()
    levels = [
        ("district", "district_code", "district", None),
        ("street", "street_code", "street", "district_code"),
        ("community", "community_code", "community", "street_code"),
    ]
    for level, code_field, name_field, parent_field in levels:
        groups: dict[str, list] = {}
        for grid in world.city.grids:
            groups.setdefault(getattr(grid, code_field), []).append(grid)
        for code, grids in groups.items():
            if code in seen:
                continue
            seen.add(code)
            name = getattr(grids[0], name_field)
            parent = getattr(grids[0], parent_field) if parent_field else ""
            lat = sum(g.lat for g in grids) / len(grids)
            lon = sum(g.lon for g in grids) / len(grids)
            aliases = _joined(typed_variants(name), curated[code])
            rows.append([code, name, level, parent, aliases, f"{lat:.6f}", f"{lon:.6f}"])
    for grid in world.city.grids:
        name, aliases = grid_name(grid.community, grid.grid_code), _joined(curated[grid.grid_code])
        rows.append(
            [grid.grid_code, name, "grid", grid.community_code, aliases, f"{grid.lat:.6f}", f"{grid.lon:.6f}"]
        )
    return rows


def category_rows(world: World) -> list[list[str]]:
    _, curated = _curated_aliases(world)
    default_paths = {c.code: c.path for c in vocab.CATEGORIES}
    rows = []
    for category in world.taxonomy.categories:
        level1, level2, level3 = category.path.split("/")
        old = default_paths[category.origin or category.code].split("/")[-1]
        aliases = _joined([old] if old != level3 else [], curated[category.code])
        rows.append([category.code, level1, level2, level3, "true" if category.placed else "false", aliases])
    return rows


def activity_rows(world: World) -> list[list[str]]:
    """The demo city's activity list; for a city with its own codes, each prefix becomes the codes of the
    city's categories that descend from the default categories under it."""
    rows = []
    for row in _curated("activities"):
        activity, prefix = row["activity"], row["category_prefix"]
        if not world.naming_variants:
            rows.append([activity, prefix])
            continue
        for category in world.taxonomy.categories:
            if (category.origin or category.code).startswith(prefix):
                rows.append([activity, category.code])
    return list(map(list, dict.fromkeys(map(tuple, rows))))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write(folder: Path, world: World) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "areas.csv", AREA_HEADER, area_rows(world))
    _write(folder / "categories.csv", CATEGORY_HEADER, category_rows(world))
    _write(folder / "activities.csv", ACTIVITY_HEADER, activity_rows(world))
