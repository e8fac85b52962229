"""The generated demo city's reference files in the generic form, for tests and ``make demo``.

``gridline generate`` writes ``<out>/reference/{areas,categories}.csv`` for the city it generated; until it
does, they are written here from the lists the generator draws that city from (the former dbt seeds).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def reference_files(landing: Path) -> tuple[Path, Path]:
    """The generated city's areas and categories files, written beside its landing files if missing."""
    areas_file = landing / "reference" / "areas.csv"
    categories_file = landing / "reference" / "categories.csv"
    if areas_file.exists() and categories_file.exists():
        return areas_file, categories_file
    aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _rows("area_aliases"):
        aliases[(row["level"], row["code"])].append(row["alias"])
    areas: dict[str, dict] = {}
    for row in _rows("areas"):
        for level, code, name, parent in (
            ("district", row["district_code"], row["district"], ""),
            ("street", row["street_code"], row["street"], row["district_code"]),
            ("community", row["community_code"], row["community"], row["street_code"]),
            ("grid", row["grid_code"], row["grid_code"], row["community_code"]),
        ):
            areas[code] = {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent,
                "aliases": "|".join(aliases[(level, code)]),
            }
    header = ["code", "name", "level", "parent_code", "aliases", "lat", "lon"]
    _write(areas_file, header, list(areas.values()))
    extra: dict[str, list[str]] = defaultdict(list)
    for row in _rows("category_aliases"):
        extra[row["category_code"]].append(row["alias"])
    categories = [
        {
            "code": row["category_code"],
            "level1": row["level1"],
            "level2": row["level2"],
            "level3": row["level3"],
            "is_place_bound": row["is_place_bound"],
            "aliases": "|".join(a for a in [*row["aliases"].split("|"), *extra[row["category_code"]]] if a),
        }
        for row in _rows("categories")
    ]
    _write(categories_file, ["code", "level1", "level2", "level3", "is_place_bound", "aliases"], categories)
    return areas_file, categories_file


def import_demo_reference(landing: Path, home: Path) -> None:
    """Load the generated city's reference into ``home`` as a deployment does: `gridline reference import`."""
    from tests.conftest import gridline_cli

    areas, categories = reference_files(landing)
    gridline_cli("reference", "import", "areas", str(areas), env_home=home)
    gridline_cli("reference", "import", "categories", str(categories), env_home=home)


if __name__ == "__main__":
    import sys

    for written in reference_files(Path(sys.argv[1])):
        print(written)
