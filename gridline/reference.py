"""A city's reference data — its areas, its category taxonomy and which volunteer activities take on which
categories — as versioned input (SPEC 2.6).

``gridline reference import {areas,categories,activities} FILE`` reads the lists a city has, in the generic
form (areas ``code,name,level,parent_code,aliases,lat,lon``; categories
``code,level1,level2,level3,is_place_bound,aliases``; activities ``activity,category_prefix``: a 双报到
activity matches the categories whose code starts with the prefix) or as official lists come (the
national division code list's districts ``code,name,cityCode,provinceCode`` and streets
``code,name,areaCode,...``; a three-level taxonomy workbook ``一级分类,二级分类,三级分类``), validates them
and stores a new version under ``$GRIDLINE_HOME/reference/<kind>/``: the previous version with the file's
rows added (a code, or an activity and prefix, met again takes the new row). dbt reads the version in
effect at the build's instant, so a replay ``--as-of`` an earlier time uses the reference of that time.
With no version at all, an empty one is read and the models derive areas and categories from the exports
themselves (and match no activity).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gridline.config import Settings
from gridline.errors import GridlineError

KINDS = ("areas", "categories", "activities")
AREA_LEVELS = ("district", "street", "community", "grid")
# Which level an area's parent must have.
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}

SCHEMAS = {
    "areas": pa.schema(
        [
            ("code", pa.string()),
            ("name", pa.string()),
            ("level", pa.string()),
            ("parent_code", pa.string()),
            ("aliases", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
        ]
    ),
    "categories": pa.schema(
        [
            ("code", pa.string()),
            ("level1", pa.string()),
            ("level2", pa.string()),
            ("level3", pa.string()),
            ("is_place_bound", pa.bool_()),
            ("aliases", pa.string()),
        ]
    ),
    "activities": pa.schema([("activity", pa.string()), ("category_prefix", pa.string())]),
}
# What identifies a row of each kind: a later version's row with the same key replaces the earlier one.
KEYS = {"areas": ("code",), "categories": ("code",), "activities": ("activity", "category_prefix")}
_STAMP = "%Y%m%dT%H%M%S%fZ"
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


class ReferenceError(GridlineError):
    """A reference file gridline cannot take: one line saying which row and why."""


@dataclass(frozen=True)
class ImportResult:
    kind: str
    version: Path
    rows_read: int
    total: int


def reference_dir(settings: Settings, kind: str) -> Path:
    return settings.home / "reference" / kind


def versions(settings: Settings, kind: str) -> list[tuple[datetime, Path]]:
    """Every stored version of ``kind``, oldest first, with the instant it took effect."""
    found = []
    for path in reference_dir(settings, kind).glob("*.parquet"):
        try:
            stamp = datetime.strptime(path.stem, _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # the empty stand-in, or something else
        found.append((stamp, path))
    return sorted(found)


def effective_file(settings: Settings, kind: str, as_of: datetime | None = None) -> Path:
    """The version in effect at ``as_of`` (now when None); an empty file of the right shape if none."""
    candidates = [path for stamp, path in versions(settings, kind) if as_of is None or stamp <= as_of]
    if candidates:
        return candidates[-1]
    empty = reference_dir(settings, kind) / "empty.parquet"
    if not empty.exists():
        empty.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(SCHEMAS[kind].empty_table(), empty)
    return empty


def _read_rows(path: Path) -> tuple[list[str], list[list[str | None]]]:
    """Header and rows of a CSV (UTF-8 or GB18030) or the first sheet of a workbook, as text."""
    from ingestion.sources.reading import cell_text, column_names, text_encoding

    if not path.exists():
        raise ReferenceError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
            rows = sheet.to_python(skip_empty_area=True)
        except Exception as exc:  # calamine raises its own error types for every unreadable workbook
            raise ReferenceError(f"{path}: cannot be read as XLSX ({exc})") from None
        table = [[cell_text(cell) for cell in row] for row in rows]
    elif path.suffix.lower() in (".csv", ".txt"):
        with open(path, encoding=text_encoding(path), newline="") as handle:
            table = [[cell.strip() or None for cell in row] for row in csv.reader(handle)]
    else:
        raise ReferenceError(f"{path}: unsupported file type {path.suffix!r} (expected .csv or .xlsx)")
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise ReferenceError(f"{path}: empty file, no header row")
    header = [name.lower() if name.isascii() else name for name in column_names(table[0])]
    width = len(header)
    return header, [(row + [None] * width)[:width] for row in table[1:]]


def _records(header: list[str], rows: list[list[str | None]]) -> list[dict[str, str | None]]:
    return [dict(zip(header, row, strict=True)) for row in rows]


def _need(path: Path, header: list[str], columns: tuple[str, ...], form: str) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise ReferenceError(f"{path}: {form} needs the column(s) {', '.join(missing)}")


def _float(path: Path, line: int, column: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise ReferenceError(f"{path}: row {line}: {column} {text!r} is not a number") from None


def _areas_from(path: Path, within: str | None) -> list[dict]:
    header, rows = _read_rows(path)
    records = _records(header, rows)
    if "level" in header:
        _need(path, header, ("code", "name", "level"), "an areas list")
        areas = [
            {
                "code": r["code"],
                "name": r["name"],
                "level": (r["level"] or "").lower(),
                "parent_code": r.get("parent_code"),
                "aliases": r.get("aliases"),
                "lat": _float(path, line, "lat", r.get("lat")),
                "lon": _float(path, line, "lon", r.get("lon")),
            }
            for line, r in enumerate(records, start=2)
        ]
    elif "areacode" in header:  # the division code list's streets and towns
        _need(path, header, ("code", "name"), "a streets list")
        areas = [
            {"code": r["code"], "name": r["name"], "level": "street", "parent_code": r["areacode"]}
            for r in records
        ]
    elif "citycode" in header:  # the division code list's districts and counties
        _need(path, header, ("code", "name"), "a districts list")
        areas = [
            {"code": r["code"], "name": r["name"], "level": "district", "parent_code": None} for r in records
        ]
    else:
        raise ReferenceError(
            f"{path}: not an areas list: expected the columns code,name,level,parent_code,aliases,lat,lon "
            "or a division code list (code,name,cityCode,... or code,name,areaCode,...)"
        )
    if within:
        areas = [a for a in areas if (a["code"] or "").startswith(within)]
        if not areas:
            raise ReferenceError(f"{path}: no area's code starts with {within!r}")
    for line, area in enumerate(areas, start=2):
        if not area["code"] or not area["name"]:
            raise ReferenceError(f"{path}: row {line}: an area needs a code and a name")
        if area["level"] not in AREA_LEVELS:
            raise ReferenceError(
                f"{path}: row {line}: level {area['level']!r} is not one of {', '.join(AREA_LEVELS)}"
            )
    return areas


def _place_bound(path: Path, line: int, text: str | None) -> bool | None:
    if text is None:
        return None
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ReferenceError(f"{path}: row {line}: is_place_bound {text!r} is not true, false or blank")


def _categories_from(path: Path) -> list[dict]:
    header, rows = _read_rows(path)
    records = _records(header, rows)
    if "code" in header:
        _need(path, header, ("code", "level1", "level2", "level3"), "a categories list")
        categories = [
            {
                "code": r["code"],
                "level1": r["level1"],
                "level2": r["level2"],
                "level3": r["level3"],
                "is_place_bound": _place_bound(path, line, r.get("is_place_bound")),
                "aliases": r.get("aliases"),
            }
            for line, r in enumerate(records, start=2)
        ]
    elif {"一级分类", "二级分类", "三级分类"} <= set(header):
        categories = _numbered_taxonomy([(r["一级分类"], r["二级分类"], r["三级分类"]) for r in records])
    else:
        raise ReferenceError(
            f"{path}: not a categories list: expected the columns "
            "code,level1,level2,level3,is_place_bound,aliases or 一级分类,二级分类,三级分类"
        )
    for line, category in enumerate(categories, start=2):
        if not all(category[c] for c in ("code", "level1", "level2", "level3")):
            raise ReferenceError(f"{path}: row {line}: a category needs a code and all three levels")
    return categories


def _activities_from(path: Path) -> list[dict]:
    header, rows = _read_rows(path)
    _need(path, header, ("activity", "category_prefix"), "an activities list")
    activities = [
        {"activity": r["activity"], "category_prefix": r["category_prefix"]} for r in _records(header, rows)
    ]
    for line, activity in enumerate(activities, start=2):
        if not (activity["activity"] and activity["category_prefix"]):
            raise ReferenceError(f"{path}: row {line}: an activity needs a name and a category code prefix")
    return activities


def _numbered_taxonomy(paths: list[tuple[str | None, str | None, str | None]]) -> list[dict]:
    """Codes ``01.02.03`` by order of first appearance, for a taxonomy listed without codes."""
    numbers: dict[tuple, str] = {}

    def number(key: tuple, parent: str) -> str:
        if key not in numbers:
            siblings = sum(1 for k in numbers if len(k) == len(key) and k[:-1] == key[:-1])
            numbers[key] = f"{parent}{'.' if parent else ''}{siblings + 1:02d}"
        return numbers[key]

    categories = []
    for level1, level2, level3 in paths:
        if not (level1 and level2 and level3):
            categories.append({"code": None, "level1": level1, "level2": level2, "level3": level3})
            continue
        code = number((level1, level2, level3), number((level1, level2), number((level1,), "")))
        categories.append(
            {"code": code, "level1": level1, "level2": level2, "level3": level3, "is_place_bound": None}
        )
    return categories


def _check_areas(path: Path, areas: list[dict]) -> None:
    levels = {a["code"]: a["level"] for a in areas}
    for area in areas:
        wanted = PARENT_LEVEL.get(area["level"])
        parent = area.get("parent_code")
        if wanted and parent and levels.get(parent, wanted) != wanted:
            raise ReferenceError(
                f"{path}: {area['level']} {area['code']} ({area['name']}) has parent {parent}, "
                f"a {levels[parent]}, not a {wanted}"
            )


def _key(kind: str, row: dict) -> tuple:
    return tuple(row[name] for name in KEYS[kind])


def _merge(previous: Path | None, rows: list[dict], kind: str) -> list[dict]:
    by_key: dict[tuple, dict] = {}
    if previous is not None:
        for row in pq.read_table(previous).to_pylist():
            by_key[_key(kind, row)] = row
    for row in rows:
        by_key[_key(kind, row)] = {name: row.get(name) for name in SCHEMAS[kind].names}
    return list(by_key.values())


def import_reference(settings: Settings, kind: str, path: Path, within: str | None = None) -> ImportResult:
    """Validate ``path`` and store the previous version plus its rows as a new version of ``kind``."""
    if kind not in KINDS:
        raise ReferenceError(f"unknown reference {kind!r}; known: {', '.join(KINDS)}")
    if kind == "areas":
        rows = _areas_from(path, within)
    else:
        rows = _categories_from(path) if kind == "categories" else _activities_from(path)
    if not rows:
        raise ReferenceError(f"{path}: no rows under the header")
    seen: set[tuple] = set()
    for row in rows:
        if _key(kind, row) in seen:
            raise ReferenceError(f"{path}: {'/'.join(KEYS[kind])} {'/'.join(_key(kind, row))} appears twice")
        seen.add(_key(kind, row))
    existing = versions(settings, kind)
    merged = _merge(existing[-1][1] if existing else None, rows, kind)
    if kind == "areas":
        _check_areas(path, merged)
    now = datetime.now(UTC)
    if existing and now <= existing[-1][0]:
        raise ReferenceError(f"the newest {kind} version is dated in the future; check the clock")
    target = reference_dir(settings, kind) / f"{now.strftime(_STAMP)}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    pq.write_table(pa.Table.from_pylist(merged, schema=SCHEMAS[kind]), partial)
    partial.rename(target)  # a version appears whole or not at all
    return ImportResult(kind=kind, version=target, rows_read=len(rows), total=len(merged))
