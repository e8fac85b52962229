"""What the quarterly review reads from the published marts, as plain Python objects.

The base is what SPEC 4 guarantees: ``marts.cases``, ``marts.problem_class_tickets`` and
``marts.problem_class_ticket_cases``, with ``reference.areas`` and ``reference.categories`` for names.
Everything a reviewer needs (residents, escalations, rates, example descriptions) is computed here from
those, set-based in DuckDB. Richer marts are used when the published warehouse has them (checked in
``information_schema``): volunteer sessions for the dual report-in capacity of a ticket's area.
Resident keys are used only inside counts and never leave this module.
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

# One row per place at each level a ticket can sit on, with the names above it.
_PLACES = """
    select 'grid' as level, grid_code as code, district, street, community, grid_code as grid
    from reference.areas
    union all
    select distinct 'community', community_code, district, street, community, null from reference.areas
    union all
    select distinct 'street', street_code, district, street, null, null from reference.areas
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


@dataclass(frozen=True)
class TrendPoint:
    quarter: str
    cases: int
    is_ticket: bool


@dataclass(frozen=True)
class Capacity:
    units: int
    members: int
    hours: float
    sessions: int
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
    median_hours: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    persisted: int = 0
    channels: list[tuple[str, int]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    members: list[MemberCase] = field(default_factory=list)
    capacity: Capacity | None = None

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

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.case_count if self.case_count else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


@dataclass(frozen=True)
class Rates:
    cases: int
    orders: int
    grid_reports: int
    response: float | None
    resolution: float | None
    satisfaction: float | None
    grid_level: float | None


@dataclass
class Review:
    quarter: Quarter
    current: Rates
    previous: Rates | None
    tickets: list[Ticket]
    abated: list[Ticket]
    status_counts: dict[str, int]
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
    _add_trends(con, quarter, tickets, Quarter.parse(available[0]))
    has_capacity = _add_capacity(con, q, tickets)
    if not has_capacity:
        notes.append("双报到志愿服务数据尚未发布 (no volunteer-session mart published yet).")
    previous_label = quarter.previous().label
    current = _rates(con, q)
    if current.grid_level is None:
        notes.append("网格层级办结占比需要服务水平数据 (needs the resolution level in the marts).")
    active.sort(key=lambda t: (-t.priority.total, -t.case_count, t.ticket_id))
    abated = sorted((t for t in tickets if t.status == "abated"), key=lambda t: t.ticket_id)
    counts: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        counts[ticket.status] += 1
    level1 = [
        r[0] for r in con.execute("select distinct level1 from reference.categories order by 1").fetchall()
    ]
    return Review(
        quarter=quarter,
        current=current,
        previous=_rates(con, previous_label) if previous_label in available else None,
        tickets=active,
        abated=abated,
        status_counts=dict(counts),
        by_district=_by_district(con, q),
        heat_rows=_heat_rows(con, q),
        level1=level1,
        has_capacity=has_capacity,
        notes=notes,
    )


def _tickets(con: duckdb.DuckDBPyConnection, quarter: str) -> list[Ticket]:
    rows = con.execute(
        f"""
        with places as ({_PLACES})
        select t.ticket_id, t.status, t.case_count, t.area_level, t.area_code,
               p.district, p.street, p.community, p.grid,
               t.category_code, c.level1, c.level2, c.level3
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join reference.categories c on c.category_code = t.category_code
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
        )
        for r in rows
    ]


def _add_member_stats(con: duckdb.DuckDBPyConnection, quarter: str, tickets: dict[str, Ticket]) -> None:
    """Counts, rates, channels, examples and the member cases themselves, from membership + cases."""
    members = """
        select m.ticket_id, c.*
        from marts.problem_class_ticket_cases m
        join marts.cases c on c.case_id = m.case_id
        where m.quarter = ?
    """
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
               strftime(max(received_at)::timestamp, '%Y-%m-%d')
        from ({members})
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

    for ticket_id, channel, n in con.execute(
        f"""
        select ticket_id, coalesce(channel, stream), count(*) as n from ({members})
        group by all order by ticket_id, n desc, 2
        """,
        [quarter],
    ).fetchall():
        if ticket_id in tickets:
            tickets[ticket_id].channels.append((channel, int(n)))

    # The descriptions most often repeated are the clearest statement of the shared problem.
    for ticket_id, description in con.execute(
        f"""
        select ticket_id, description from ({members})
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
               strftime(resolved_at::timestamp, '%Y-%m-%d %H:%M'), title, description
        from ({members})
        qualify row_number() over (partition by ticket_id order by received_at, case_id) <= ?
        order by ticket_id, received_at, case_id
        """,
        [quarter, MEMBER_LIMIT],
    ).fetchall():
        if r[0] in tickets:
            tickets[r[0]].members.append(MemberCase(*r[1:9], bool(r[9]), *r[10:]))


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
    """Dual report-in units and hours in each ticket's community (or street), when sessions are published."""
    have = columns(con, "marts", "volunteer_sessions")
    needed = {"unit_name", "hours", "community_code", "street_code", "quarter"}
    if not needed <= have:
        return False
    activity = "activity" if "activity" in have else "null"
    member = "member_key" if "member_key" in have else "null"
    rows = con.execute(
        f"""
        with wanted as (
            select distinct t.ticket_id,
                   case when t.area_level = 'street' then null
                        else coalesce(a.community_code, t.area_code) end as community_code,
                   coalesce(a.street_code, s.street_code, t.area_code) as street_code
            from marts.problem_class_tickets t
            left join (select distinct grid_code, community_code, street_code from reference.areas) a
              on t.area_level = 'grid' and a.grid_code = t.area_code
            left join (select distinct community_code, street_code from reference.areas) s
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
        select ticket_id, 'unit', unit_name, null, null, sum(hours), count(*)
        from sessions where unit_name is not null group by all
        union all
        select ticket_id, 'activity', activity, null, null, sum(hours), count(*)
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
        ticket.capacity = Capacity(
            units=units,
            members=members,
            hours=hours,
            sessions=sessions,
            top_units=sorted(named[(ticket.ticket_id, "unit")], key=lambda u: (-u[1], u[0]))[:5],
            activities=sorted(named[(ticket.ticket_id, "activity")], key=lambda a: (-a[1], a[0]))[:5],
        )
    return True


def _rates(con: duckdb.DuckDBPyConnection, quarter: str) -> Rates:
    """The three service rates of all cases received in a quarter (definitions in the report's notes)."""
    have = columns(con, "marts", "cases")
    grid_level = "null"
    if "resolution_level" in have:
        grid_level = (
            "count(*) filter (where resolution_level = 'grid')"
            " / nullif(count(*) filter (where resolved_at is not null), 0)"
        )
    r = con.execute(
        f"""
        select count(*),
               count(*) filter (where stream = 'hotline'),
               count(*) filter (where stream = 'grid'),
               count(*) filter (where first_contact_at <= received_at + interval {RESPONSE_HOURS} hour)
                   / nullif(count(*), 0),
               count(*) filter (where resolved_at is not null) / nullif(count(*), 0),
               count(*) filter (where satisfaction in {SATISFIED})
                   / nullif(count(*) filter (where satisfaction in {RATED}), 0),
               {grid_level}
        from marts.cases where quarter = ?
        """,
        [quarter],
    ).fetchall()[0]
    return Rates(int(r[0]), int(r[1]), int(r[2]), *(float(v) if v is not None else None for v in r[3:]))


def _by_district(con: duckdb.DuckDBPyConnection, quarter: str) -> list[tuple[str, str, int, int]]:
    """(district, level-1 category, tickets, member cases) of the quarter's open tickets."""
    rows = con.execute(
        f"""
        with places as ({_PLACES})
        select coalesce(p.district, '未定位'), coalesce(c.level1, '未分类'), count(*), sum(t.case_count)
        from marts.problem_class_tickets t
        left join places p on p.level = t.area_level and p.code = t.area_code
        left join reference.categories c on c.category_code = t.category_code
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
    rows = con.execute(
        f"""
        with places as ({_PLACES}),
        counts as (
            select c.district, c.street, coalesce(k.level1, '未分类') as level1, count(*) as n
            from marts.cases c
            left join reference.categories k on k.category_code = c.category_code
            where c.quarter = ? and c.street is not null
            group by all
        ),
        busiest as (
            select district, street from counts group by all order by sum(n) desc, 1, 2 limit ?
        ),
        ticketed as (
            select distinct p.district, p.street, k.level1
            from marts.problem_class_tickets t
            join places p on p.level = t.area_level and p.code = t.area_code
            join reference.categories k on k.category_code = t.category_code
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
