"""What the quarterly review reads from the published marts, as plain Python objects.

Every figure the review shows is a mart column, read by name and defined once in that mart's YAML: a
ticket's from ``marts.problem_class_tickets``, the city's rates and their limits from
``marts.service_levels``. This module adds only what a page needs around them: names for places and
categories (``marts.grids``, ``marts.communities``, ``marts.categories``),
each ticket's quarters for its trend, its member cases to drill into, and two cross-tabs for the charts.
Resident keys never leave the warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

import duckdb

from gridline.errors import GridlineError
from gridline.report.priority import Priority
from gridline.report.quarters import Quarter, span

# Drill-down rows per ticket: enough to read the cases, bounded so a city-scale ticket stays a page.
MEMBER_LIMIT = 200
TREND_QUARTERS = 8
HEAT_STREETS = 12

# How the tickets mart joins the items of its list columns (see their descriptions in its YAML).
LIST_SEPARATOR = ", "
EXAMPLE_SEPARATOR = " | "

# The city's areas and categories: its reference data, or what was derived from its exports.
GRIDS = "marts.grids"
COMMUNITIES = "marts.communities"
CATEGORIES = "marts.categories"

# One row per place at each level a ticket can sit on, with the names above it.
_PLACES = f"""
    select 'grid' as level, grid_code as code, district, street, community, grid_code as grid
    from {GRIDS}
    union all
    select distinct 'community', community_code, district, street, community, null from {COMMUNITIES}
    union all
    select distinct 'street', street_code, district, street, null, null from {COMMUNITIES}
    where street_code is not null
"""


@dataclass(frozen=True)
class Place:
    level: str
    code: str
    district: str | None
    street: str | None
    community: str | None
    grid: str | None

    @property
    def names(self) -> list[str]:
        names = [n for n in (self.district, self.street, self.community) if n]
        if self.grid:
            names.append(f"网格 {self.grid}")
        return names or [self.code]

    @property
    def level_label(self) -> str:
        return {"grid": "网格", "community": "社区", "street": "街道"}.get(self.level, self.level)


@dataclass(frozen=True)
class Category:
    code: str
    level1: str | None
    level2: str | None
    level3: str | None

    @property
    def name(self) -> str:
        return self.level3 or self.code

    @property
    def path(self) -> str:
        return " / ".join(n for n in (self.level1, self.level2, self.level3) if n) or self.code


@dataclass(frozen=True)
class MemberCase:
    case_id: str
    stream: str
    channel: str | None
    appeal_type: str | None
    received: str
    status: str | None
    satisfaction: str | None
    reopen_count: int
    escalated: bool
    resolved: str | None
    title: str | None
    description: str | None
    is_duplicate: bool


@dataclass(frozen=True)
class TrendPoint:
    quarter: str
    cases: int
    is_ticket: bool


@dataclass(frozen=True)
class Capacity:
    """The dual report-in capacity beside a ticket: the tickets mart's columns of the same names."""

    units_reported_in: int
    volunteer_members: int
    volunteer_sessions: int
    volunteer_hours: float
    matching_sessions: int
    matching_activities: list[str]
    top_units: list[str]
    top_activities: list[str]


@dataclass
class Ticket:
    """One row of ``marts.problem_class_tickets``; the figures carry the mart's column names."""

    ticket_id: str
    status: str
    place: Place
    category: Category
    case_count: int
    duplicate_count: int
    distinct_residents: int
    hotline_cases: int
    grid_cases: int
    reopened_cases: int
    whistled_cases: int
    reopened_or_whistled_cases: int
    dissatisfied_cases: int
    prior_active_quarters: int
    resolution_rate: float | None
    satisfaction_rate: float | None
    median_hours_to_resolve: float | None
    first_seen: str | None
    last_seen: str | None
    channels: list[tuple[str, int]]
    examples: list[str]
    capacity: Capacity | None
    trend: list[TrendPoint] = field(default_factory=list)
    members: list[MemberCase] = field(default_factory=list)

    @property
    def priority(self) -> Priority:
        return Priority(
            {
                "size": self.case_count,
                "persistence": self.prior_active_quarters,
                "escalation": self.reopened_or_whistled_cases,
                "dissatisfaction": self.dissatisfied_cases,
            }
        )


@dataclass(frozen=True)
class Rates:
    """The city's row of ``marts.service_levels`` for a quarter; the fields carry its column names."""

    cases: int
    hotline_cases: int
    grid_cases: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    grid_resolution_share: float | None
    grid_contact_rate: float | None
    response_sla_hours: int | None
    grid_contact_minutes: int | None


@dataclass
class Review:
    quarter: Quarter
    current: Rates
    previous: Rates | None
    tickets: list[Ticket]
    abated: list[Ticket]
    status_counts: dict[str, int]
    previous_ticket_count: int
    by_district: list[tuple[str, str, int, int]]
    heat_rows: list[tuple[str, str, dict[str, int], set[str]]]
    level1: list[str]
    has_capacity: bool
    notes: list[str]


def records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column name, so no reader depends on a column's position."""
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def split_list(value: str | None, separator: str = LIST_SEPARATOR) -> list[str]:
    """The items of one of the tickets mart's list columns."""
    return [item.strip() for item in (value or "").split(separator) if item.strip()]


def load_review(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> Review:
    """Everything the report shows for one quarter, read in a handful of set-based queries."""
    try:
        return _load_review(con, quarter)
    except (duckdb.BinderException, duckdb.CatalogException) as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise GridlineError(
            f"the published marts lack what the report reads ({first_line}): rebuild them with `gridline run`"
        ) from None


def _load_review(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> Review:
    available = [r["quarter"] for r in records(con, "select distinct quarter from marts.cases order by 1")]
    if quarter.label not in available:
        listed = ", ".join(available) or "none"
        raise GridlineError(f"no cases in {quarter} in the published marts (quarters with cases: {listed})")
    notes: list[str] = []
    has_capacity = records(con, "select count(*) > 0 as has_sessions from marts.volunteer_sessions")[0][
        "has_sessions"
    ]
    if not has_capacity:
        notes.append("双报到志愿服务数据尚未发布 (no volunteer sessions published yet).")
    tickets = _tickets(con, quarter.label, has_capacity)
    active = [t for t in tickets if t.status != "abated"]
    _add_members(con, quarter.label, {t.ticket_id: t for t in active})
    _add_trends(con, quarter, tickets, Quarter.parse(available[0]))
    active.sort(key=lambda t: (-t.priority.total, -t.case_count, t.ticket_id))
    abated = sorted((t for t in tickets if t.status == "abated"), key=lambda t: t.ticket_id)
    counts: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        counts[ticket.status] += 1
    previous_label = quarter.previous().label
    previous_tickets = records(
        con,
        "select count(*) as n from marts.problem_class_tickets where quarter = ? and status <> 'abated'",
        [previous_label],
    )[0]["n"]
    level1 = [r["level1"] for r in records(con, f"select distinct level1 from {CATEGORIES} order by 1")]
    return Review(
        quarter=quarter,
        current=_rates(con, quarter.label),
        previous=_rates(con, previous_label) if previous_label in available else None,
        tickets=active,
        abated=abated,
        status_counts=dict(counts),
        previous_ticket_count=int(previous_tickets),
        by_district=_by_district(con, quarter.label),
        heat_rows=_heat_rows(con, quarter.label),
        level1=level1,
        has_capacity=has_capacity,
        notes=notes,
    )


# Ticket fields read straight from the mart column of the same name.
_TICKET_FIGURES = (
    "case_count",
    "duplicate_count",
    "distinct_residents",
    "hotline_cases",
    "grid_cases",
    "reopened_cases",
    "whistled_cases",
    "reopened_or_whistled_cases",
    "dissatisfied_cases",
    "prior_active_quarters",
    "resolution_rate",
    "satisfaction_rate",
    "median_hours_to_resolve",
)
_CAPACITY_FIGURES = ("units_reported_in", "volunteer_members", "volunteer_sessions", "volunteer_hours")


def _tickets(con: duckdb.DuckDBPyConnection, quarter: str, has_capacity: bool) -> list[Ticket]:
    figures = ", ".join(f"t.{name}" for name in _TICKET_FIGURES + _CAPACITY_FIGURES)
    rows = records(
        con,
        f"""
        with places as ({_PLACES})
        select t.ticket_id, t.status, t.area_level, t.area_code,
               p.district, p.street, p.community, p.grid,
               t.category_code, c.level1, c.level2, c.level3,
               {figures},
               -- the ticket's time span as local dates (the connection is in the city's time zone)
               strftime(t.first_seen_at::timestamp, '%Y-%m-%d') as first_seen,
               strftime(t.last_seen_at::timestamp, '%Y-%m-%d') as last_seen,
               t.channel_mix, t.example_descriptions,
               t.matching_sessions, t.matching_activities, t.top_units, t.top_activities
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join {CATEGORIES} c on c.category_code = t.category_code
        where t.quarter = ?
        order by t.ticket_id
        """,
        [quarter],
    )
    return [_ticket(row, has_capacity) for row in rows]


def _ticket(row: dict[str, Any], has_capacity: bool) -> Ticket:
    capacity = Capacity(
        **{name: row[name] for name in _CAPACITY_FIGURES},
        matching_sessions=row["matching_sessions"],
        matching_activities=split_list(row["matching_activities"]),
        top_units=split_list(row["top_units"]),
        top_activities=split_list(row["top_activities"]),
    )
    return Ticket(
        ticket_id=row["ticket_id"],
        status=row["status"],
        place=Place(
            *(row[k] for k in ("area_level", "area_code", "district", "street", "community", "grid"))
        ),
        category=Category(*(row[k] for k in ("category_code", "level1", "level2", "level3"))),
        **{name: row[name] for name in _TICKET_FIGURES},
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        channels=[_channel_count(item) for item in split_list(row["channel_mix"])],
        examples=split_list(row["example_descriptions"], EXAMPLE_SEPARATOR),
        capacity=capacity if has_capacity else None,
    )


def _channel_count(item: str) -> tuple[str, int]:
    """``电话 5`` of the mart's channel mix as (channel, cases)."""
    channel, _, cases = item.rpartition(" ")
    return channel, int(cases)


def _add_members(con: duckdb.DuckDBPyConnection, quarter: str, tickets: dict[str, Ticket]) -> None:
    """The member cases to drill into, earliest first; one closed as a duplicate is listed and marked."""
    names = [f.name for f in fields(MemberCase)]
    for row in records(
        con,
        """
        select m.ticket_id, c.case_id, c.stream, c.channel, c.appeal_type,
               strftime(c.received_at::timestamp, '%Y-%m-%d %H:%M') as received, c.status, c.satisfaction,
               coalesce(c.reopen_count, 0) as reopen_count, c.escalated_at is not null as escalated,
               strftime(c.resolved_at::timestamp, '%Y-%m-%d %H:%M') as resolved, c.title, c.description,
               m.is_duplicate
        from marts.problem_class_ticket_cases m
        join marts.cases c on c.case_id = m.case_id
        where m.quarter = ?
        qualify row_number() over (partition by m.ticket_id order by c.received_at, c.case_id) <= ?
        order by m.ticket_id, c.received_at, c.case_id
        """,
        [quarter, MEMBER_LIMIT],
    ):
        if (ticket := tickets.get(row["ticket_id"])) is not None:
            ticket.members.append(MemberCase(**{name: row[name] for name in names}))


def _add_trends(
    con: duckdb.DuckDBPyConnection, quarter: Quarter, tickets: list[Ticket], first: Quarter
) -> None:
    """Per ticket and quarter: its case count where it was a ticket, else the counted cases of its place
    and category. The second number is shown lighter: it says how close the problem came to being a ticket.
    """
    if not tickets:
        return
    quarters = span(max(first, _back(quarter, TREND_QUARTERS - 1)), quarter)
    labels = [q.label for q in quarters]
    ids = [t.ticket_id for t in tickets]
    as_ticket = {
        (r["ticket_id"], r["quarter"]): r["case_count"]
        for r in records(
            con,
            """
            select ticket_id, quarter, case_count from marts.problem_class_tickets
            where list_contains(?, ticket_id) and list_contains(?, quarter) and status <> 'abated'
            """,
            [ids, labels],
        )
    }
    in_place = {
        (r["ticket_id"], r["quarter"]): r["cases"]
        for r in records(
            con,
            """
            with t as (
                select ticket_id, area_level, area_code, category_code
                from marts.problem_class_tickets where quarter = ?
            )
            select t.ticket_id, c.quarter, count(*) as cases
            from t
            join marts.cases c
              on c.category_code = t.category_code
             and t.area_code = case t.area_level
                    when 'grid' then c.grid_code
                    when 'community' then c.community_code
                    when 'street' then c.street_code
                 end
            where list_contains(?, c.quarter) and not c.is_duplicate
            group by all
            """,
            [quarter.label, labels],
        )
    }
    for ticket in tickets:
        points = []
        for label in labels:
            key = (ticket.ticket_id, label)
            if key in as_ticket:
                points.append(TrendPoint(label, int(as_ticket[key]), True))
            else:
                points.append(TrendPoint(label, int(in_place.get(key, 0)), False))
        ticket.trend = points


def _back(quarter: Quarter, steps: int) -> Quarter:
    for _ in range(steps):
        quarter = quarter.previous()
    return quarter


def _rates(con: duckdb.DuckDBPyConnection, quarter: str) -> Rates:
    """The city's service levels for a quarter; a quarter of duplicates only has no row: nothing known."""
    names = [f.name for f in fields(Rates)]
    found = records(
        con,
        f"""
        select {", ".join(names)} from marts.service_levels
        where period_type = 'quarter' and period = ? and area_level = 'city'
        """,
        [quarter],
    )
    if not found:
        return Rates(0, 0, 0, *(None,) * (len(names) - 3))
    return Rates(**found[0])


def _by_district(con: duckdb.DuckDBPyConnection, quarter: str) -> list[tuple[str, str, int, int]]:
    """(district, level-1 category, tickets, member cases) of the quarter's open tickets."""
    rows = records(
        con,
        f"""
        with places as ({_PLACES})
        select coalesce(p.district, '未定位') as district, coalesce(c.level1, '未分类') as level1,
               count(*) as tickets, sum(t.case_count) as cases
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join {CATEGORIES} c on c.category_code = t.category_code
        where t.quarter = ? and t.status <> 'abated'
        group by all order by 1, 2
        """,
        [quarter],
    )
    return [(r["district"], r["level1"], int(r["tickets"]), int(r["cases"] or 0)) for r in rows]


def _heat_rows(
    con: duckdb.DuckDBPyConnection, quarter: str
) -> list[tuple[str, str, dict[str, int], set[str]]]:
    """The busiest streets: counted cases per level-1 category, and the categories holding an open ticket."""
    rows = records(
        con,
        f"""
        with places as ({_PLACES}),
        counts as (
            select c.district, c.street, coalesce(k.level1, '未分类') as level1, count(*) as n
            from marts.cases c
            left join {CATEGORIES} k on k.category_code = c.category_code
            where c.quarter = ? and c.street is not null and not c.is_duplicate
            group by all
        ),
        busiest as (
            select district, street from counts group by all order by sum(n) desc, 1, 2 limit ?
        ),
        ticketed as (
            select distinct p.district, p.street, k.level1
            from marts.problem_class_tickets t
            join places p on p.level = t.area_level and p.code = t.area_code
            join {CATEGORIES} k on k.category_code = t.category_code
            where t.quarter = ? and t.status <> 'abated'
        )
        select b.district, b.street, c.level1, c.n, t.level1 is not null as ticketed
        from busiest b
        join counts c using (district, street)
        left join ticketed t on t.district = b.district and t.street = b.street and t.level1 = c.level1
        """,
        [quarter, HEAT_STREETS, quarter],
    )
    table: dict[tuple[str, str], tuple[dict[str, int], set[str]]] = {}
    for row in rows:
        cells, marked = table.setdefault((row["district"], row["street"]), ({}, set()))
        cells[row["level1"]] = int(row["n"])
        if row["ticketed"]:
            marked.add(row["level1"])
    ordered = sorted(table.items(), key=lambda kv: (-sum(kv[1][0].values()), kv[0]))
    return [(d, s, cells, marked) for (d, s), (cells, marked) in ordered]
