"""What the quarterly review reads from the published marts, as plain Python objects.

The base is what SPEC 4 guarantees: ``marts.cases``, ``marts.problem_class_tickets`` and
``marts.problem_class_ticket_cases``, with the city's areas and categories as the warehouse conformed them
(``intermediate.int_areas__grids``, ``int_areas__communities``, ``int_categories__taxonomy``) for names.
Everything a reviewer needs (residents, escalations, rates, example descriptions) is computed here from
those, set-based in DuckDB, so the report works on any warehouse that meets the SPEC. Where the published
warehouse has richer columns and marts (checked in ``information_schema``), their figures win: the
reviewer columns of ``problem_class_tickets``, ``is_duplicate`` of the membership, ``service_levels``
for the three rates, ``volunteer_sessions`` for the dual report-in units of a ticket's area. Resident
keys are used only inside counts and never leave this module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import duckdb

from gridline.errors import GridlineError
from gridline.report.priority import Priority
from gridline.report.quarters import Quarter, span

# Drill-down rows per ticket: enough to read the cases, bounded so a city-scale ticket stays a page.
MEMBER_LIMIT = 200
EXAMPLE_LIMIT = 3
TREND_QUARTERS = 8
HEAT_STREETS = 12
RESPONSE_HOURS = 24
SATISFIED = ("满意", "基本满意")
RATED = ("满意", "基本满意", "不满意")

# Reviewer columns of marts.problem_class_tickets used when present: name -> SQL reading it (as local
# dates where it is a timestamp). Absent ones are computed from the member cases instead.
_REVIEWER_COLUMNS = {
    "distinct_residents": "t.distinct_residents",
    "hotline_cases": "t.hotline_cases",
    "grid_cases": "t.grid_cases",
    "duplicate_count": "t.duplicate_count",
    "reopened_cases": "t.reopened_cases",
    "whistled_cases": "t.whistled_cases",
    "resolution_rate": "t.resolution_rate",
    "satisfaction_rate": "t.satisfaction_rate",
    "median_hours_to_resolve": "t.median_hours_to_resolve",
    "first_seen_at": "strftime(t.first_seen_at::timestamp, '%Y-%m-%d')",
    "last_seen_at": "strftime(t.last_seen_at::timestamp, '%Y-%m-%d')",
    "example_descriptions": "t.example_descriptions",
    "units_reported_in": "t.units_reported_in",
    "volunteer_hours": "t.volunteer_hours",
    "matching_sessions": "t.matching_sessions",
    "matching_activities": "t.matching_activities",
}

# The city's areas and categories: its reference data, or what was derived from its exports.
GRIDS = "intermediate.int_areas__grids"
COMMUNITIES = "intermediate.int_areas__communities"
CATEGORIES = "intermediate.int_categories__taxonomy"

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
    units: int
    members: int | None
    hours: float
    sessions: int
    matching_sessions: int | None
    matching_activities: list[str]
    top_units: list[tuple[str, float]]
    activities: list[tuple[str, float]]


@dataclass
class Ticket:
    ticket_id: str
    status: str
    place: Place
    category: Category
    case_count: int
    residents: int = 0
    hotline: int = 0
    grid: int = 0
    reopened: int = 0
    whistled: int = 0
    escalated: int = 0
    dissatisfied: int = 0
    rated: int = 0
    satisfied: int = 0
    resolved: int = 0
    duplicates: int = 0
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    median_hours: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    persisted: int = 0
    channels: list[tuple[str, int]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    members: list[MemberCase] = field(default_factory=list)
    capacity: Capacity | None = None
    # The reviewer columns of the tickets mart, when it has them (see ``_REVIEWER_COLUMNS``).
    mart: dict[str, object] = field(default_factory=dict)

    @property
    def priority(self) -> Priority:
        return Priority(
            {
                "size": self.case_count,
                "persistence": self.persisted,
                "escalation": self.escalated,
                "dissatisfaction": self.dissatisfied,
            }
        )


@dataclass(frozen=True)
class Rates:
    cases: int
    orders: int
    grid_reports: int
    response: float | None
    resolution: float | None
    satisfaction: float | None
    grid_level: float | None
    grid_contact: float | None


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


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def load_review(con: duckdb.DuckDBPyConnection, quarter: Quarter) -> Review:
    """Everything the report shows for one quarter, read in a handful of set-based queries."""
    available = [r[0] for r in con.execute("select distinct quarter from marts.cases order by 1").fetchall()]
    if quarter.label not in available:
        listed = ", ".join(available) or "none"
        raise GridlineError(f"no cases in {quarter} in the published marts (quarters with cases: {listed})")
    notes: list[str] = []
    q = quarter.label
    tickets = _tickets(con, q)
    active = [t for t in tickets if t.status != "abated"]
    _add_member_stats(con, q, {t.ticket_id: t for t in active})
    for ticket in active:
        _prefer_mart_columns(ticket)
    _add_trends(con, quarter, tickets, Quarter.parse(available[0]))
    has_capacity = _add_capacity(con, q, tickets)
    if not has_capacity:
        notes.append("双报到志愿服务数据尚未发布 (no volunteer-session mart published yet).")
    previous_label = quarter.previous().label
    current = _rates(con, q)
    if current.grid_level is None:
        notes.append("网格层级办结占比需要办结层级数据 (needs the resolution level in the marts).")
    active.sort(key=lambda t: (-t.priority.total, -t.case_count, t.ticket_id))
    abated = sorted((t for t in tickets if t.status == "abated"), key=lambda t: t.ticket_id)
    counts: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        counts[ticket.status] += 1
    level1 = [r[0] for r in con.execute(f"select distinct level1 from {CATEGORIES} order by 1").fetchall()]
    return Review(
        quarter=quarter,
        current=current,
        previous=_rates(con, previous_label) if previous_label in available else None,
        tickets=active,
        abated=abated,
        status_counts=dict(counts),
        previous_ticket_count=con.execute(
            "select count(*) from marts.problem_class_tickets where quarter = ? and status <> 'abated'",
            [previous_label],
        ).fetchall()[0][0],
        by_district=_by_district(con, q),
        heat_rows=_heat_rows(con, q),
        level1=level1,
        has_capacity=has_capacity,
        notes=notes,
    )


def _tickets(con: duckdb.DuckDBPyConnection, quarter: str) -> list[Ticket]:
    have = columns(con, "marts", "problem_class_tickets")
    reviewer = {name: sql for name, sql in _REVIEWER_COLUMNS.items() if name in have}
    extra = "".join(f", {sql} as {name}" for name, sql in reviewer.items())
    rows = con.execute(
        f"""
        with places as ({_PLACES})
        select t.ticket_id, t.status, t.case_count, t.area_level, t.area_code,
               p.district, p.street, p.community, p.grid,
               t.category_code, c.level1, c.level2, c.level3{extra}
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join {CATEGORIES} c on c.category_code = t.category_code
        where t.quarter = ?
        order by t.ticket_id
        """,
        [quarter],
    ).fetchall()
    return [
        Ticket(
            ticket_id=r[0],
            status=r[1],
            case_count=int(r[2] or 0),
            place=Place(r[3], r[4], r[5], r[6], r[7], r[8]),
            category=Category(r[9], r[10], r[11], r[12]),
            mart=dict(zip(reviewer, r[13:], strict=True)),
        )
        for r in rows
    ]


def _duplicate_flag(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for "this member case is a duplicate", over the membership ``m`` and the case ``c``."""
    if "is_duplicate" in columns(con, "marts", "problem_class_ticket_cases"):
        return "coalesce(m.is_duplicate, false)"
    if "is_duplicate" in columns(con, "marts", "cases"):
        return "coalesce(c.is_duplicate, false)"
    return "false"


def _add_member_stats(con: duckdb.DuckDBPyConnection, quarter: str, tickets: dict[str, Ticket]) -> None:
    """Counts, rates, channels, examples and the member cases themselves, from membership + cases.

    A member closed as a duplicate of another request is listed in the drill-down but not counted.
    """
    members = f"""
        select m.ticket_id, {_duplicate_flag(con)} as member_is_duplicate, c.*
        from marts.problem_class_ticket_cases m
        join marts.cases c on c.case_id = m.case_id
        where m.quarter = ?
    """
    counted = f"select * from ({members}) where not member_is_duplicate"
    stats = con.execute(
        f"""
        select ticket_id,
               count(distinct resident_key),
               count(*) filter (where stream = 'hotline'),
               count(*) filter (where stream = 'grid'),
               count(*) filter (where reopen_count > 0),
               count(*) filter (where escalated_at is not null),
               count(*) filter (where reopen_count > 0 or escalated_at is not null),
               count(*) filter (where satisfaction = '不满意'),
               count(*) filter (where satisfaction in {RATED}),
               count(*) filter (where satisfaction in {SATISFIED}),
               count(*) filter (where resolved_at is not null),
               median(date_diff('minute', received_at, resolved_at)) / 60.0,
               strftime(min(received_at)::timestamp, '%Y-%m-%d'),
               strftime(max(received_at)::timestamp, '%Y-%m-%d'),
               count(*)
        from ({counted})
        group by ticket_id
        """,
        [quarter],
    ).fetchall()
    for r in stats:
        if (ticket := tickets.get(r[0])) is None:
            continue
        (
            ticket.residents,
            ticket.hotline,
            ticket.grid,
            ticket.reopened,
            ticket.whistled,
            ticket.escalated,
            ticket.dissatisfied,
            ticket.rated,
            ticket.satisfied,
            ticket.resolved,
        ) = (int(v) for v in r[1:11])
        ticket.median_hours = float(r[11]) if r[11] is not None else None
        ticket.first_seen, ticket.last_seen = r[12], r[13]
        ticket.resolution_rate = ticket.resolved / r[14] if r[14] else None
        ticket.satisfaction_rate = ticket.satisfied / ticket.rated if ticket.rated else None

    for ticket_id, channel, n in con.execute(
        f"""
        select ticket_id, coalesce(channel, stream), count(*) as n from ({counted})
        group by all order by ticket_id, n desc, 2
        """,
        [quarter],
    ).fetchall():
        if ticket_id in tickets:
            tickets[ticket_id].channels.append((channel, int(n)))

    # The descriptions most often repeated are the clearest statement of the shared problem.
    for ticket_id, description in con.execute(
        f"""
        select ticket_id, description from ({counted})
        where nullif(trim(description), '') is not null
        group by ticket_id, description
        qualify row_number() over (partition by ticket_id order by count(*) desc, description) <= ?
        order by ticket_id, count(*) desc, description
        """,
        [quarter, EXAMPLE_LIMIT],
    ).fetchall():
        if ticket_id in tickets:
            tickets[ticket_id].examples.append(description)

    for r in con.execute(
        f"""
        select ticket_id, case_id, stream, channel, appeal_type,
               strftime(received_at::timestamp, '%Y-%m-%d %H:%M'), status, satisfaction,
               coalesce(reopen_count, 0), escalated_at is not null,
               strftime(resolved_at::timestamp, '%Y-%m-%d %H:%M'), title, description, member_is_duplicate
        from ({members})
        qualify row_number() over (partition by ticket_id order by received_at, case_id) <= ?
        order by ticket_id, received_at, case_id
        """,
        [quarter, MEMBER_LIMIT],
    ).fetchall():
        if r[0] in tickets:
            tickets[r[0]].members.append(
                MemberCase(
                    *r[1:9],
                    escalated=bool(r[9]),
                    resolved=r[10],
                    title=r[11],
                    description=r[12],
                    is_duplicate=bool(r[13]),
                )
            )
            tickets[r[0]].duplicates += bool(r[13])


def _prefer_mart_columns(ticket: Ticket) -> None:
    """Where the tickets mart carries a reviewer figure, show the warehouse's figure, not ours."""
    mart = ticket.mart
    for name, attribute in (
        ("distinct_residents", "residents"),
        ("hotline_cases", "hotline"),
        ("grid_cases", "grid"),
        ("duplicate_count", "duplicates"),
        ("reopened_cases", "reopened"),
        ("whistled_cases", "whistled"),
        ("resolution_rate", "resolution_rate"),
        ("satisfaction_rate", "satisfaction_rate"),
        ("median_hours_to_resolve", "median_hours"),
        ("first_seen_at", "first_seen"),
        ("last_seen_at", "last_seen"),
    ):
        if mart.get(name) is not None:
            setattr(ticket, attribute, mart[name])
    examples = mart.get("example_descriptions")
    if isinstance(examples, str) and examples.strip():
        ticket.examples = [e.strip() for e in examples.split(" | ") if e.strip()][:EXAMPLE_LIMIT]


def _add_trends(
    con: duckdb.DuckDBPyConnection, quarter: Quarter, tickets: list[Ticket], first: Quarter
) -> None:
    """Per ticket and quarter: its member cases where it was a ticket, else cases of its place and category.

    The second number is shown lighter: it says how close the problem came to being a ticket.
    """
    if not tickets:
        return
    quarters = span(max(first, _back(quarter, TREND_QUARTERS - 1)), quarter)
    labels = [q.label for q in quarters]
    ids = [t.ticket_id for t in tickets]
    as_ticket = {
        (r[0], r[1]): (int(r[2]), r[3])
        for r in con.execute(
            """
            select ticket_id, quarter, case_count, status from marts.problem_class_tickets
            where list_contains(?, ticket_id) and list_contains(?, quarter)
            """,
            [ids, labels],
        ).fetchall()
    }
    in_place = {
        (r[0], r[1]): int(r[2])
        for r in con.execute(
            """
            with t as (
                select ticket_id, area_level, area_code, category_code
                from marts.problem_class_tickets where quarter = ?
            )
            select t.ticket_id, c.quarter, count(*)
            from t
            join marts.cases c
              on c.category_code = t.category_code
             and t.area_code = case t.area_level
                    when 'grid' then c.grid_code
                    when 'community' then c.community_code
                    when 'street' then c.street_code
                 end
            where list_contains(?, c.quarter)
            group by all
            """,
            [quarter.label, labels],
        ).fetchall()
    }
    for ticket in tickets:
        points = []
        for label in labels:
            count, status = as_ticket.get((ticket.ticket_id, label), (None, None))
            active = status is not None and status != "abated"
            cases = count if active else in_place.get((ticket.ticket_id, label), 0)
            points.append(TrendPoint(label, int(cases or 0), active))
        ticket.trend = points
        # Persistence: consecutive earlier quarters in which this ticket was already open.
        streak = 0
        for point in reversed(points[:-1]):
            if not point.is_ticket:
                break
            streak += 1
        ticket.persisted = streak if ticket.status != "abated" else 0


def _back(quarter: Quarter, steps: int) -> Quarter:
    for _ in range(steps):
        quarter = quarter.previous()
    return quarter


def _add_capacity(con: duckdb.DuckDBPyConnection, quarter: str, tickets: list[Ticket]) -> bool:
    """Dual report-in units and hours in each ticket's community (its street's, for a street ticket).

    Totals come from the tickets mart when it has them; the units and activities behind them from
    ``marts.volunteer_sessions``. Returns False when neither is published.
    """
    have = columns(con, "marts", "volunteer_sessions")
    from_mart = any("units_reported_in" in t.mart for t in tickets)
    if not {"unit_name", "hours", "community_code", "street_code", "quarter"} <= have:
        if not from_mart:
            return False
        have = set()
    rows = []
    if have:
        activity = "v.activity" if "activity" in have else "null"
        member = "v.member_key" if "member_key" in have else "null"
        rows = con.execute(
            f"""
            with wanted as (
                select distinct t.ticket_id,
                       case when t.area_level = 'street' then null
                            else coalesce(a.community_code, t.area_code) end as community_code,
                       coalesce(a.street_code, s.street_code, t.area_code) as street_code
                from marts.problem_class_tickets t
                left join (select distinct grid_code, community_code, street_code from {GRIDS}) a
                  on t.area_level = 'grid' and a.grid_code = t.area_code
                left join (select distinct community_code, street_code from {COMMUNITIES}) s
                  on t.area_level = 'community' and s.community_code = t.area_code
                where t.quarter = ?
            ),
            sessions as (
                select w.ticket_id, v.unit_name, {member} as member_key, v.hours, {activity} as activity
                from wanted w
                join marts.volunteer_sessions v
                  on v.quarter = ?
                 and (v.community_code = w.community_code
                      or (w.community_code is null and v.street_code = w.street_code))
            )
            select ticket_id, 'total', null, count(distinct unit_name), count(distinct member_key),
                   coalesce(sum(hours), 0), count(*)
            from sessions group by ticket_id
            union all
            select ticket_id, 'unit', unit_name, null, null, coalesce(sum(hours), 0), count(*)
            from sessions where unit_name is not null group by all
            union all
            select ticket_id, 'activity', activity, null, null, coalesce(sum(hours), 0), count(*)
            from sessions where activity is not null group by all
            """,
            [quarter, quarter],
        ).fetchall()
    totals: dict[str, tuple[int, int, float, int]] = {}
    named: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for ticket_id, kind, name, units, members, hours, sessions in rows:
        if kind == "total":
            totals[ticket_id] = (int(units), int(members), float(hours), int(sessions))
        else:
            named[(ticket_id, kind)].append((name, float(hours)))
    for ticket in tickets:
        units, members, hours, sessions = totals.get(ticket.ticket_id, (0, 0, 0.0, 0))
        mart = ticket.mart
        if mart.get("units_reported_in") is not None:
            units = int(mart["units_reported_in"])
            hours = float(mart.get("volunteer_hours") or 0.0)
        matching = mart.get("matching_activities")
        ticket.capacity = Capacity(
            units=units,
            members=members if have else None,
            hours=hours,
            sessions=sessions,
            matching_sessions=int(mart["matching_sessions"])
            if mart.get("matching_sessions") is not None
            else None,
            matching_activities=[a.strip() for a in matching.split(",") if a.strip()] if matching else [],
            top_units=sorted(named[(ticket.ticket_id, "unit")], key=lambda u: (-u[1], u[0]))[:5],
            activities=sorted(named[(ticket.ticket_id, "activity")], key=lambda a: (-a[1], a[0]))[:5],
        )
    return True


def _rates(con: duckdb.DuckDBPyConnection, quarter: str) -> Rates:
    """The city's service rates for a quarter: from ``marts.service_levels`` when published, else cases."""
    levels = columns(con, "marts", "service_levels")
    wanted = {"period_type", "period", "area_level", "cases", "hotline_cases", "grid_cases", "response_rate"}
    if wanted <= levels:
        optional = [
            c if c in levels else f"null as {c}"
            for c in ("resolution_rate", "satisfaction_rate", "grid_resolution_share", "grid_contact_rate")
        ]
        found = con.execute(
            f"""
            select cases, hotline_cases, grid_cases, response_rate, {", ".join(optional)}
            from marts.service_levels
            where period_type = 'quarter' and period = ? and area_level = 'city'
            """,
            [quarter],
        ).fetchall()
        if found:
            r = found[0]
            return Rates(
                int(r[0]), int(r[1]), int(r[2]), *(float(v) if v is not None else None for v in r[3:])
            )
    return _rates_from_cases(con, quarter)


def _rates_from_cases(con: duckdb.DuckDBPyConnection, quarter: str) -> Rates:
    """The rates by the definitions printed in the report, when no service-levels mart is published."""
    have = columns(con, "marts", "cases")
    grid_level = "null"
    if "resolution_level" in have:
        grid_level = (
            "count(*) filter (where resolution_level = 'grid')"
            " / nullif(count(*) filter (where resolved_at is not null), 0)"
        )
    counted = "not coalesce(is_duplicate, false)" if "is_duplicate" in have else "true"
    r = con.execute(
        f"""
        select count(*),
               count(*) filter (where stream = 'hotline'),
               count(*) filter (where stream = 'grid'),
               -- unknown, not 0, when the source records no first-contact time
               case when count(first_contact_at) > 0 then
                   count(*) filter (where first_contact_at <= received_at + interval {RESPONSE_HOURS} hour)
                   / count(*) end,
               count(*) filter (where resolved_at is not null) / nullif(count(*), 0),
               count(*) filter (where satisfaction in {SATISFIED})
                   / nullif(count(*) filter (where satisfaction in {RATED}), 0),
               {grid_level}
        from marts.cases where quarter = ? and {counted}
        """,
        [quarter],
    ).fetchall()[0]
    rates = (float(v) if v is not None else None for v in r[3:])
    return Rates(int(r[0]), int(r[1]), int(r[2]), *rates, grid_contact=None)


def _by_district(con: duckdb.DuckDBPyConnection, quarter: str) -> list[tuple[str, str, int, int]]:
    """(district, level-1 category, tickets, member cases) of the quarter's open tickets."""
    rows = con.execute(
        f"""
        with places as ({_PLACES})
        select coalesce(p.district, '未定位'), coalesce(c.level1, '未分类'), count(*), sum(t.case_count)
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join {CATEGORIES} c on c.category_code = t.category_code
        where t.quarter = ? and t.status <> 'abated'
        group by all order by 1, 2
        """,
        [quarter],
    ).fetchall()
    return [(r[0], r[1], int(r[2]), int(r[3] or 0)) for r in rows]


def _heat_rows(
    con: duckdb.DuckDBPyConnection, quarter: str
) -> list[tuple[str, str, dict[str, int], set[str]]]:
    """The busiest streets: cases per level-1 category, and the categories holding an open ticket there."""
    counted = (
        "not coalesce(c.is_duplicate, false)" if "is_duplicate" in columns(con, "marts", "cases") else "true"
    )
    rows = con.execute(
        f"""
        with places as ({_PLACES}),
        counts as (
            select c.district, c.street, coalesce(k.level1, '未分类') as level1, count(*) as n
            from marts.cases c
            left join {CATEGORIES} k on k.category_code = c.category_code
            where c.quarter = ? and c.street is not null and {counted}
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
        select b.district, b.street, c.level1, c.n, t.level1 is not null
        from busiest b
        join counts c using (district, street)
        left join ticketed t on t.district = b.district and t.street = b.street and t.level1 = c.level1
        """,
        [quarter, HEAT_STREETS, quarter],
    ).fetchall()
    table: dict[tuple[str, str], tuple[dict[str, int], set[str]]] = {}
    for district, street, level1, n, ticketed in rows:
        cells, marked = table.setdefault((district, street), ({}, set()))
        cells[level1] = int(n)
        if ticketed:
            marked.add(level1)
    ordered = sorted(table.items(), key=lambda kv: (-sum(kv[1][0].values()), kv[0]))
    return [(d, s, cells, marked) for (d, s), (cells, marked) in ordered]
