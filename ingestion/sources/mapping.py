"""Any other city's request export, read through a declarative mapping file (SPEC 2.3).

A mapping (YAML, documented in docs/mapping-files.md, shipped ones in ``ingestion/mappings/``) says which
column holds the request id, which columns give the case fields and the place levels, how timestamps are
written and in which zone, how raw values map onto gridline's vocabulary, which stream a row belongs to,
how to derive a spatial grid cell from lat/lon and how duplicates are marked. This module validates the
file, checks it against the landing file's header and turns the rows into case events with the same
snapshot semantics as the 12345 adapter: every row is a snapshot and only what changed becomes new.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridline.errors import GridlineError
from ingestion.sources import case_events
from ingestion.sources.reading import columns_of

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"

Stream = Literal["hotline", "grid", "volunteer"]
STATUSES = ("待派单", "已派单", "已签收", "办理中", "已办结", "已回访", "已关闭", "重办")

# Times a case carries on its snapshot only (no lifecycle event): when it is due, when it was cancelled.
SNAPSHOT_TIMES = ("due_at", "cancelled_at")
TIMESTAMP_FIELDS = (*case_events.LIFECYCLE, "updated_at", *SNAPSHOT_TIMES)
# Case fields a mapping may fill from columns: the contract's text fields but the id and the places
# (which have their own sections) and the raw status (kept from the status column itself), then the
# caller, the position and the times.
_OWN_SECTIONS = ("order_id", "district", "street", "community", "grid_code", "status_raw")
MAPPED_FIELDS = (
    *(name for name in case_events.TEXT_FIELDS if name not in _OWN_SECTIONS),
    "reopen_count",
    "caller_phone",
    "caller_name",
    "lat",
    "lon",
    *TIMESTAMP_FIELDS,
)
FieldName = Literal[MAPPED_FIELDS]  # a tuple subscript is the list of allowed values
PlaceLevel = Literal["district", "street", "community", "grid_code"]
MappedValue = Literal["status", "channel", "appeal_type", "satisfaction", "category_path"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StreamByValue(_Strict):
    column: str
    values: dict[str, Stream]
    default: Stream


class Timestamps(_Strict):
    formats: list[str] = Field(min_length=1)
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("formats")
    @classmethod
    def _strptime_formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a strptime format (e.g. '%Y-%m-%d %H:%M:%S')")
        return value


class GridCell(_Strict):
    lat: str
    lon: str
    size_m: int = Field(default=500, gt=0)
    # south, west, north, east: coordinates outside are placeholders, not places.
    bounds: tuple[float, float, float, float] | None = None
    # [lat, lon] points inside the city that stand for "not geocoded" (a city hall, a depot): a point
    # within PLACEHOLDER_TOLERANCE degrees of one is no place.
    placeholders: list[tuple[float, float]] = []
    prefix: str | None = None

    @model_validator(mode="after")
    def _ordered_bounds(self) -> GridCell:
        if self.bounds and not (self.bounds[0] < self.bounds[2] and self.bounds[1] < self.bounds[3]):
            raise ValueError("bounds must be [south, west, north, east] with south < north and west < east")
        return self


class Duplicates(_Strict):
    column: str
    values: list[str] = []
    # one marker or several (any of them, case-insensitive, anywhere in the text)
    contains: str | list[str] | None = None
    duplicate_of: str | None = None
    # the status a duplicate closure has, when the export's status column does not say it
    status: str | None = None

    @model_validator(mode="after")
    def _some_test(self) -> Duplicates:
        if not self.values and not self.contains:
            raise ValueError("duplicates needs `values` or `contains`")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"duplicates.status {self.status!r} is not one of {', '.join(STATUSES)}")
        return self

    def markers(self) -> list[str]:
        return [self.contains] if isinstance(self.contains, str) else list(self.contains or [])


class Mapping(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str = ""
    source_system: str | None = None
    id: str
    stream: Stream | StreamByValue
    timestamps: Timestamps
    fields: dict[FieldName, str | list[str]]
    places: dict[PlaceLevel, str] = {}
    values: dict[MappedValue, dict[str, str]] = {}
    grid_cell: GridCell | None = None
    duplicates: Duplicates | None = None
    extra: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Mapping:
        if "received_at" not in self.fields:
            raise ValueError("fields.received_at is required: every case needs the time it was received")
        bad = sorted(set(self.values.get("status", {}).values()) - set(STATUSES))
        if bad:
            raise ValueError(f"values.status maps onto {bad}; allowed: {', '.join(STATUSES)}")
        if self.grid_cell and "grid_code" in self.places:
            raise ValueError("give either places.grid_code or grid_cell, not both")
        return self

    @property
    def system(self) -> str:
        return self.source_system or self.name

    def columns(self) -> dict[str, str]:
        """Every column the mapping reads, with where in the mapping it is named (for error messages)."""
        used = {self.id: "id"}
        for field, spec in self.fields.items():
            for column in [spec] if isinstance(spec, str) else spec:
                used.setdefault(column, f"fields.{field}")
        for level, column in self.places.items():
            used.setdefault(column, f"places.{level}")
        if isinstance(self.stream, StreamByValue):
            used.setdefault(self.stream.column, "stream.column")
        if self.grid_cell:
            used.setdefault(self.grid_cell.lat, "grid_cell.lat")
            used.setdefault(self.grid_cell.lon, "grid_cell.lon")
        if self.duplicates:
            used.setdefault(self.duplicates.column, "duplicates.column")
            if self.duplicates.duplicate_of:
                used.setdefault(self.duplicates.duplicate_of, "duplicates.duplicate_of")
        for column in self.extra:
            used.setdefault(column, "extra")
        return used

    def fixed_stream(self) -> str | None:
        return self.stream if isinstance(self.stream, str) else None


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (``nyc311``) or a YAML file by path, validated."""
    path = Path(name_or_path)
    shipped = MAPPINGS_DIR / f"{name_or_path}.yml"
    if shipped.exists() and path.suffix == "":
        path = shipped
    elif not path.exists():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml")))
        raise GridlineError(f"no mapping {name_or_path!r}: not a shipped mapping ({known}) nor a file")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GridlineError(f"mapping {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise GridlineError(f"mapping {path}: expected a YAML mapping of sections at the top level")
    try:
        return Mapping.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"{p}: " for p in [".".join(str(p) for p in first["loc"])] if p)
        message = first["msg"].removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise GridlineError(f"mapping {path}: {where}{message}{more}") from None


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_text(column: str) -> str:
    return f"nullif(trim({_q(column)}), '')"


def _field_sql(spec: str | list[str]) -> str:
    if isinstance(spec, str):
        return _column_text(spec)
    # Several columns make one path (e.g. complaint type / descriptor); blanks are skipped.
    return f"nullif(concat_ws('/', {', '.join(_column_text(c) for c in spec)}), '')"


def _value_map_sql(expression: str, table: dict[str, str], keep_unmapped: bool) -> str:
    if not table:
        return expression
    cases = " ".join(f"when {_lit(raw)} then {_lit(mapped)}" for raw, mapped in table.items())
    return f"case {expression} {cases} else {expression if keep_unmapped else 'null'} end"


# Tried after a mapping's own formats: the ISO form a workbook's date cells are read in (reading._cell_text).
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _timestamp_sql(expression: str, stamps: Timestamps) -> str:
    formats = [*stamps.formats, *(f for f in ISO_FORMATS if f not in stamps.formats)]
    attempts = ", ".join(f"try_strptime({expression}, {_lit(f)})" for f in formats)
    return f"timezone({_lit(stamps.timezone)}, coalesce({attempts}))"


# Placeholder points match to about 10 m: exports round coordinates to 4 or more decimals.
PLACEHOLDER_TOLERANCE = 0.0001


def _grid_cell_sql(cell: GridCell) -> tuple[str, str, str]:
    """SQL for (lat, lon, grid cell code); coordinates outside the bounds count as unknown."""
    lat, lon = (
        f"try_cast({_column_text(cell.lat)} as double)",
        f"try_cast({_column_text(cell.lon)} as double)",
    )
    near = PLACEHOLDER_TOLERANCE
    placeholders = " or ".join(
        f"(abs({lat} - ({p_lat})) < {near} and abs({lon} - ({p_lon})) < {near})"
        for p_lat, p_lon in cell.placeholders
    )
    if cell.bounds:
        south, west, north, east = cell.bounds
        inside = f"({lat} between {south} and {north} and {lon} between {west} and {east})"
        reference = (south + north) / 2
        ref_sql = str(reference)
    else:
        inside = (
            f"({lat} between -90 and 90 and {lon} between -180 and 180 and not ({lat} = 0 and {lon} = 0))"
        )
        ref_sql = f"round({lat})"
    if placeholders:
        inside = f"({inside} and not coalesce({placeholders}, false))"
    # A cell of size_m metres a side, on an equirectangular grid anchored at the reference latitude.
    metres_per_degree = 111_320
    prefix = cell.prefix or f"{cell.size_m}m"
    row = f"cast(floor({lat} * {metres_per_degree} / {cell.size_m}) as bigint)"
    col = f"cast(floor({lon} * {metres_per_degree} * cos(radians({ref_sql})) / {cell.size_m}) as bigint)"
    code = f"case when {inside} then {_lit(prefix + ':')} || {row} || ':' || {col} end"
    return f"case when {inside} then {lat} end", f"case when {inside} then {lon} end", code


def _stream_sql(mapping: Mapping, stream: str | None) -> str:
    rule = mapping.stream
    if isinstance(rule, str):
        if stream not in (None, rule):
            raise GridlineError(f"mapping {mapping.name} assigns its rows to the {rule} stream, not {stream}")
        return _lit(rule)
    if stream is not None:
        raise GridlineError(f"mapping {mapping.name} assigns streams by {rule.column}; leave out --stream")
    cases = " ".join(f"when {_lit(raw)} then {_lit(target)}" for raw, target in rule.values.items())
    return f"case {_column_text(rule.column)} {cases} else {_lit(rule.default)} end"


def _duplicate_sql(rule: Duplicates | None, system: str) -> tuple[str, str]:
    if rule is None:
        return "false", "null::varchar"
    column = _column_text(rule.column)
    tests = []
    if rule.values:
        tests.append(f"{column} in ({', '.join(_lit(v) for v in rule.values)})")
    for marker in rule.markers():
        tests.append(f"contains(lower({column}), {_lit(marker.lower())})")
    of = (
        f"{_lit(system + ':')} || {_column_text(rule.duplicate_of)}" if rule.duplicate_of else "null::varchar"
    )
    return f"coalesce({' or '.join(tests)}, false)", of


def check_columns(mapping: Mapping, present: list[str], source_file: str) -> None:
    missing = [
        f"{column!r} ({where})" for column, where in mapping.columns().items() if column not in present
    ]
    if missing:
        raise GridlineError(
            f"{source_file}: mapping {mapping.name} names columns the file does not have: "
            + ", ".join(missing)
        )


def load(
    con: duckdb.DuckDBPyConnection, view: str, source_file: str, mapping: Mapping, stream: str | None
) -> int:
    """Turn the rows of ``view`` into candidate events and quarantine rows; returns rows read."""
    check_columns(mapping, columns_of(con, view), source_file)
    system = mapping.system
    fields = mapping.fields
    values = mapping.values

    def text(field: str) -> str:
        if field not in fields:
            return "null::varchar"
        raw = _field_sql(fields[field])
        return _value_map_sql(raw, values.get(field, {}), keep_unmapped=True) if field != "status" else raw

    if mapping.grid_cell:
        lat_sql, lon_sql, grid_sql = _grid_cell_sql(mapping.grid_cell)
    else:
        lat_sql = f"try_cast({text('lat')} as double)"
        lon_sql = f"try_cast({text('lon')} as double)"
        grid_sql = _column_text(mapping.places["grid_code"]) if "grid_code" in mapping.places else "null"
    places = {
        level: _column_text(mapping.places[level]) if level in mapping.places else "null::varchar"
        for level in ("district", "street", "community")
    }
    is_duplicate, duplicate_of = _duplicate_sql(mapping.duplicates, system)
    status_sql = _value_map_sql(text("status"), values.get("status", {}), keep_unmapped=False)
    if mapping.duplicates and mapping.duplicates.status:
        status_sql = f"case when {is_duplicate} then {_lit(mapping.duplicates.status)} else {status_sql} end"
    extra = (
        "json_object(" + ", ".join(f"{_lit(c)}, {_column_text(c)}" for c in mapping.extra) + ")"
        if mapping.extra
        else "null::json"
    )
    con.execute(
        f"""
        create or replace temp table {view}_mapped as
        select _line, {_column_text(mapping.id)} as source_id, {_stream_sql(mapping, stream)} as stream,
               {", ".join(f"{text(f)} as {f}" for f in TIMESTAMP_FIELDS)},
               {text("channel")} as channel, {text("appeal_type")} as appeal_type,
               {text("category_path")} as category_path, {text("title")} as title,
               {text("description")} as description, {text("address")} as address,
               {places["district"]} as district, {places["street"]} as street,
               {places["community"]} as community, {grid_sql} as grid_code,
               {text("handling_unit")} as handling_unit,
               {status_sql} as status,
               {text("status")} as status_raw, {text("resolution")} as resolution,
               {text("satisfaction")} as satisfaction, {text("reopen_count")} as reopen_count_raw,
               {text("caller_phone")} as caller_phone, {text("caller_name")} as caller_name,
               {lat_sql} as lat, {lon_sql} as lon,
               {is_duplicate} as is_duplicate, {duplicate_of} as duplicate_of, {extra} as extra
        from {view}
        """
    )
    parsed = ", ".join(f"{_timestamp_sql(c, mapping.timestamps)} as {c}_utc" for c in TIMESTAMP_FIELDS)
    bad_ts = " ".join(
        f"when {c} is not null and {c}_utc is null then 'unreadable timestamp in {c}: ' || {c}"
        for c in TIMESTAMP_FIELDS
    )
    con.execute(
        f"""
        create or replace temp table {view}_checked as
        select *,
            case when source_id is null then {_lit(f"missing id ({mapping.id})")}
                 when received_at is null then {_lit(f"missing received time ({fields['received_at']})")}
                 {bad_ts}
                 when reopen_count_raw is not null and try_cast(reopen_count_raw as integer) is null
                      then 'unreadable reopen count: ' || reopen_count_raw
            end as problem
        from (select *, {parsed} from {view}_mapped)
        """
    )
    file_literal = _lit(source_file)
    con.execute(
        f"""insert into quarantine
            select {file_literal}, _line, problem,
                   redact_phones(concat_ws(' | ', source_id, received_at, status_raw, category_path, address))
            from {view}_checked where problem is not null"""
    )
    con.execute(
        f"""
        create or replace temp table {view}_cases as
        select _line, {_lit(system + ":")} || source_id as entity_id, stream,
               source_id as order_id, channel, appeal_type, category_path,
               redact_text(title, caller_name) as title, redact_text(description, caller_name) as description,
               redact_phones(address) as address, district, street, community, grid_code, handling_unit,
               status, status_raw, resolution, satisfaction,
               coalesce(try_cast(reopen_count_raw as integer), 0) as reopen_count,
               phone_hash(caller_phone) as caller_key, pii_hash(caller_name) as caller_name_key, lat, lon,
               {", ".join(f"{c}_utc" for c in TIMESTAMP_FIELDS)}, is_duplicate, duplicate_of, extra
        from {view}_checked where problem is null
        """
    )
    snapshot_times = [c for c in SNAPSHOT_TIMES if c in fields]
    case_events.emit(con, f"{view}_cases", system, file_literal, snapshot_times)
    return con.sql(f"select count(*) from {view}_mapped").fetchall()[0][0]
