"""The generated city's reference in the generic form ``gridline reference import`` reads (SPEC 2.6).

``<out>/reference/areas.csv``: ``code,name,level,parent_code,aliases,lat,lon`` for every district, street,
community and grid, with the variants operators type as aliases and each area's centroid;
``<out>/reference/categories.csv``: ``code,level1,level2,level3,is_place_bound,aliases`` for the city's
category list, with the default list's name as an alias where the city renamed a category.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ingestion.generate import vocab
from ingestion.generate.world import World

FOLDER = "reference"
AREA_HEADER = ["code", "name", "level", "parent_code", "aliases", "lat", "lon"]
CATEGORY_HEADER = ["code", "level1", "level2", "level3", "is_place_bound", "aliases"]


def typed_variants(name: str) -> list[str]:
    """The ways an operator types an area's name: 社区 dropped or 居委会 added, 街 for 街道, 镇 dropped."""
    if name.endswith("社区"):
        return [name[:-2], name + "居委会"]
    if name.endswith("街道"):
        return [name[:-1], name + "办事处"]
    return [name[:-1]] if len(name) > 2 else []


def grid_name(community: str, grid_code: str) -> str:
    return f"{community}第{int(grid_code[-3:])}网格"


def area_rows(world: World) -> list[list[str]]:
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
            rows.append(
                [code, name, level, parent, "|".join(typed_variants(name)), f"{lat:.6f}", f"{lon:.6f}"]
            )
    for grid in world.city.grids:
        name = grid_name(grid.community, grid.grid_code)
        rows.append(
            [grid.grid_code, name, "grid", grid.community_code, "", f"{grid.lat:.6f}", f"{grid.lon:.6f}"]
        )
    return rows


def category_rows(world: World) -> list[list[str]]:
    default_paths = {c.code: c.path for c in vocab.CATEGORIES}
    rows = []
    for category in world.taxonomy.categories:
        level1, level2, level3 = category.path.split("/")
        old = default_paths[category.origin] if category.origin else category.path
        aliases = [old.split("/")[-1]] if old.split("/")[-1] != level3 else []
        rows.append(
            [category.code, level1, level2, level3, "true" if category.placed else "false", "|".join(aliases)]
        )
    return rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write(folder: Path, world: World) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "areas.csv", AREA_HEADER, area_rows(world))
    _write(folder / "categories.csv", CATEGORY_HEADER, category_rows(world))
