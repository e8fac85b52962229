"""The quarterly review: built from a real published warehouse, read back as HTML and in headless Chromium."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import read_only_connection
from gridline.report import build_report
from gridline.report.marts import MEMBER_LIMIT, load_review
from gridline.report.priority import PARTS
from gridline.report.quarters import Quarter
from gridline.report.render import render
from tests.conftest import gridline_cli

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def published(published_home) -> Settings:
    return Settings(home=published_home)


def _query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    con = read_only_connection(settings)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _rows(settings: Settings, sql: str, params: list | None = None) -> list[dict]:
    con = read_only_connection(settings)
    try:
        cursor = con.execute(sql, params or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _ticket_quarters(settings: Settings) -> list[str]:
    return [
        r[0] for r in _query(settings, "select distinct quarter from marts.problem_class_tickets order by 1")
    ]


class _Collect(HTMLParser):
    """Ticket elements in document order, and which member cases sit inside each ticket."""

    def __init__(self) -> None:
        super().__init__()
        self.tickets: list[dict[str, str]] = []
        self.cases: dict[str, list[str]] = {}
        self.external: list[str] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"script", "link", "img", "iframe"} and (a.get("src") or a.get("href")):
            self.external.append(f"{tag} {a.get('src') or a.get('href')}")
        ticket = a.get("data-ticket-id")
        if ticket is not None:
            self.tickets.append(a)
        if tag in {"article", "tr"}:
            self._open.append((tag, ticket))
        if "data-case-id" in a:
            owner = next((t for _, t in reversed(self._open) if t), None)
            self.cases.setdefault(owner, []).append(a["data-case-id"])

    def handle_endtag(self, tag):
        if tag in {"article", "tr"} and self._open:
            self._open.pop()


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def test_report_lists_exactly_the_quarters_tickets_ranked_by_the_shown_formula(published, tmp_path):
    quarters = _ticket_quarters(published)
    assert quarters, "the tiny city must produce tickets"
    for quarter in quarters:
        path = build_report(published, quarter, tmp_path)
        assert path == tmp_path / f"gridline-review-{quarter}.html"
        page = _parse(path.read_text(encoding="utf-8"))
        expected = {
            r[0]
            for r in _query(
                published, "select ticket_id from marts.problem_class_tickets where quarter = ?", [quarter]
            )
        }
        shown = [t["data-ticket-id"] for t in page.tickets]
        assert len(shown) == len(set(shown)) and set(shown) == expected

        # Priority recomputed here from the marts, independently of the report's loader.
        counts = {
            r[0]: r[1:]
            for r in _query(
                published,
                """
                select t.ticket_id, t.case_count,
                       count(c.case_id) filter (where c.reopen_count > 0 or c.escalated_at is not null),
                       count(c.case_id) filter (where c.satisfaction = '不满意')
                from marts.problem_class_tickets t
                left join marts.problem_class_ticket_cases m
                  on m.ticket_id = t.ticket_id and m.quarter = t.quarter
                left join marts.cases c on c.case_id = m.case_id and not m.is_duplicate
                where t.quarter = ? and t.status <> 'abated'
                group by all
                """,
                [quarter],
            )
        }
        earlier = {
            r[0]: r[1]
            for r in _query(
                published,
                "select ticket_id, list(quarter) from marts.problem_class_tickets "
                "where status <> 'abated' group by 1",
            )
        }
        weights = {p.key: p.weight for p in PARTS}
        ranked = [t for t in page.tickets if "data-priority" in t]
        assert {t["data-ticket-id"] for t in ranked} == set(counts)
        for t in ranked:
            size, escalated, unhappy = counts[t["data-ticket-id"]]
            streak, q = 0, Quarter.parse(quarter).previous()
            while q.label in earlier[t["data-ticket-id"]]:
                streak, q = streak + 1, q.previous()
            expected_priority = (
                weights["size"] * size
                + weights["persistence"] * streak
                + weights["escalation"] * escalated
                + weights["dissatisfaction"] * unhappy
            )
            assert int(t["data-priority"]) == expected_priority
        priorities = [int(t["data-priority"]) for t in ranked]
        assert priorities == sorted(priorities, reverse=True)


def test_each_ticket_drills_down_to_its_member_cases(published, tmp_path):
    quarter = _ticket_quarters(published)[-1]
    page = _parse(build_report(published, quarter, tmp_path).read_text(encoding="utf-8"))
    members: dict[str, set[str]] = {}
    for ticket_id, case_id in _query(
        published,
        "select ticket_id, case_id from marts.problem_class_ticket_cases where quarter = ?",
        [quarter],
    ):
        members.setdefault(ticket_id, set()).add(case_id)
    assert members
    for ticket_id, cases in members.items():
        shown = page.cases.get(ticket_id, [])
        assert len(shown) == min(len(cases), MEMBER_LIMIT) and set(shown) <= cases


def test_report_is_self_contained_and_shows_no_personal_data(published, tmp_path):
    quarter = _ticket_quarters(published)[-1]
    html = build_report(published, quarter, tmp_path).read_text(encoding="utf-8")
    page = _parse(html)
    assert page.external == []
    assert "@import" not in html and "url(" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert "<svg" in html and "响应率" in html and "优先级 = " in html
    keys = {
        r[0]
        for r in _query(
            published, "select distinct resident_key from marts.cases where resident_key is not null"
        )
    }
    assert keys and not any(key in html for key in keys)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", html)  # no mobile numbers in clear


def test_data_is_escaped(published):
    con = read_only_connection(published)
    try:
        review = load_review(con, Quarter.parse(_ticket_quarters(published)[-1]))
    finally:
        con.close()
    ticket = next(t for t in review.tickets + review.abated)
    evil = '<script>alert("x")</script>'
    ticket.examples = [evil]
    ticket.category = replace(ticket.category, level3=evil)
    html = render(review, published_at=None, generated_at=datetime(2026, 1, 1))
    assert evil not in html and "&lt;script&gt;" in html


def test_cli_writes_the_report_and_refuses_bad_quarters_with_one_line(published, tmp_path):
    quarter = _ticket_quarters(published)[-1]
    proc = gridline_cli(
        "report", "--quarter", quarter, "--out", str(tmp_path / "out"), env_home=published.home
    )
    assert (tmp_path / "out" / f"gridline-review-{quarter}.html").exists()
    assert str(tmp_path / "out") in proc.stderr
    proc = gridline_cli("report", "--quarter", "2025-3", env_home=published.home, check=False)
    assert (
        proc.returncode == 1
        and proc.stderr == "gridline: error: quarter must look like 2025Q3, not '2025-3'\n"
    )
    with pytest.raises(GridlineError, match="no cases in 1999Q1"):
        build_report(published, "1999Q1", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    assert (
        build_report(published, quarter.lower())
        == published.home / "reports" / f"gridline-review-{quarter}.html"
    )
    with pytest.raises(GridlineError, match="nothing published"):
        build_report(Settings(home=tmp_path / "empty"), quarter)


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _png_ink(path: Path) -> tuple[int, int, float]:
    """Width, height and the share of non-zero bytes in the filtered image data.

    A uniform picture filters to (nearly) all zeros whatever filter the encoder picks; text and charts
    leave many non-zero bytes behind.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, 1 - raw.count(0) / len(raw)


def test_report_renders_in_headless_chromium(published, tmp_path):
    assert CHROMIUM.exists(), "Debian chromium is missing: `make browser-deps` installs it"
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert "Noto Sans CJK SC" in fonts, "fonts-noto-cjk is missing: `make browser-deps` installs it"
    quarter = _ticket_quarters(published)[-1]
    path = build_report(published, quarter, tmp_path)
    expected = {
        r[0]
        for r in _query(
            published, "select ticket_id from marts.problem_class_tickets where quarter = ?", [quarter]
        )
    }

    dom = _chromium("--dump-dom", path.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = _parse(dom.stdout)
    assert {t["data-ticket-id"] for t in rendered.tickets} == expected
    assert "类事工单复盘" in dom.stdout

    shot = tmp_path / "report.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1280,1800", path.as_uri(), tmp_path=tmp_path)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    width, height, ink = _png_ink(shot)
    assert (width, height) == (1280, 1800)

    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>")
    blank_shot = tmp_path / "blank.png"
    _chromium(f"--screenshot={blank_shot}", "--window-size=1280,1800", blank.as_uri(), tmp_path=tmp_path)
    assert ink > 0.05 > _png_ink(blank_shot)[2]


class _Figures(HTMLParser):
    """The figures a page shows, by the mart column each ``data-figure`` names: per ticket (the enclosing
    ``data-ticket-id``), and for the city (key None). A figure holding ``data-item`` elements is a list."""

    VOID = {"br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[str | None, dict[str, str | list[str]]] = {}
        self._open: list[tuple[str, str | None, str | None, bool]] = []  # tag, ticket, figure, item

    def _innermost(self, index: int) -> str | None:
        return next((entry[index] for entry in reversed(self._open) if entry[index]), None)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        ticket, figure = a.get("data-ticket-id"), a.get("data-figure")
        owner = ticket or self._innermost(1)
        if figure:
            self.shown.setdefault(owner, {})[figure] = ""
        if "data-item" in a and (name := self._innermost(2)):
            items = self.shown[owner].get(name)
            items = items if isinstance(items, list) else []
            items.append(a["data-item"])
            self.shown[owner][name] = items
        self._open.append((tag, ticket, figure, "data-item" in a and not a["data-item"]))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        name = self._innermost(2)
        if name is None:
            return
        figures = self.shown[self._innermost(1)]
        if isinstance(figures[name], list):
            if any(entry[3] for entry in self._open):  # an item whose text is its value
                figures[name][-1] += data
        else:
            figures[name] += data


def _shown_number(text: str) -> float | None:
    """A figure as printed (``1,234``, ``12.5%``, ``3.2 小时``, ``1.5 天``), back in the mart's unit."""
    text = text.strip()
    if text == "—":
        return None
    value = float(re.sub(r"[^0-9.\-]", "", text))
    if text.endswith("%"):
        return value / 100
    return value * 24 if text.endswith("天") else value


# List columns of the tickets mart and how it joins their items (their YAML descriptions say so).
_LIST_SEPARATORS = {
    "channel_mix": ", ",
    "matching_activities": ", ",
    "top_units": ", ",
    "top_activities": ", ",
    "example_descriptions": " | ",
}


def test_report_and_the_marts_agree_on_every_figure_both_show(published, tmp_path):
    """Each figure on the page is its mart column as printed: the report computes none of its own."""
    zone = ZoneInfo(published.timezone)
    checked: set[str] = set()
    for quarter in _ticket_quarters(published):
        parser = _Figures()
        parser.feed(build_report(published, quarter, tmp_path).read_text(encoding="utf-8"))
        tickets = {
            row["ticket_id"]: row
            for row in _rows(
                published, "select * from marts.problem_class_tickets where quarter = ?", [quarter]
            )
        }
        city = _rows(
            published,
            "select * from marts.service_levels where period_type = 'quarter' and period = ? "
            "and area_level = 'city'",
            [quarter],
        )[0]
        shown = parser.shown
        assert set(shown) - {None} == set(tickets)
        for owner, figures in shown.items():
            row = city if owner is None else tickets[owner]
            for column, text in figures.items():
                expected = row[column]
                checked.add(column)
                where = (quarter, owner, column, text, expected)
                if column in _LIST_SEPARATORS:
                    items = text if isinstance(text, list) else []
                    assert _LIST_SEPARATORS[column].join(items) == (expected or ""), where
                elif column in ("first_seen_at", "last_seen_at"):
                    assert text == expected.astimezone(zone).date().isoformat(), where
                elif expected is None:
                    assert text.strip() == "—", where
                elif column.endswith(("_rate", "_share")):
                    assert _shown_number(text) == pytest.approx(expected, abs=0.00051), where
                elif column == "median_hours_to_resolve":  # hours to one decimal, or days beyond 48 hours
                    tolerance = 0.051 * (24 if "天" in text else 1)
                    assert _shown_number(text) == pytest.approx(expected, abs=tolerance), where
                else:
                    assert _shown_number(text) == pytest.approx(expected, abs=0.051), where
            if owner is not None:
                # a figure left off the page is one the page leaves off for being empty
                for column in set(row) & {
                    "duplicate_count",
                    "prior_active_quarters",
                    "units_reported_in",
                    "volunteer_members",
                    "volunteer_hours",
                    "volunteer_sessions",
                    "matching_sessions",
                    "matching_activities",
                    "top_units",
                    "top_activities",
                    "example_descriptions",
                } - set(figures):
                    assert not row[column], (quarter, owner, column, row[column])
    assert checked >= {
        "case_count",
        "distinct_residents",
        "hotline_cases",
        "grid_cases",
        "reopened_cases",
        "whistled_cases",
        "dissatisfied_cases",
        "resolution_rate",
        "satisfaction_rate",
        "median_hours_to_resolve",
        "first_seen_at",
        "last_seen_at",
        "channel_mix",
        "example_descriptions",
        "units_reported_in",
        "volunteer_hours",
        "volunteer_sessions",
        "top_units",
        "top_activities",
        "response_rate",
        "grid_contact_rate",
    }, checked


def test_a_warehouse_without_the_reviewer_columns_is_refused_in_one_line(published, tmp_path):
    """Marts published before the report's columns existed: one line that says to rebuild, no traceback."""
    import duckdb

    older = tmp_path / "older.duckdb"
    con = duckdb.connect(str(older))
    try:
        con.execute(f"attach '{published.published_db}' as src (read_only)")
        con.execute("create schema marts")
        for table in (
            *("cases", "problem_class_ticket_cases", "service_levels", "volunteer_sessions"),
            *("grids", "communities", "categories"),
        ):
            con.execute(f"create table marts.{table} as select * from src.marts.{table}")
        con.execute(
            "create table marts.problem_class_tickets as "
            "select * exclude (dissatisfied_cases) from src.marts.problem_class_tickets"
        )
        con.execute("detach src")
    finally:
        con.close()
    lean = duckdb.connect(str(older), read_only=True)
    try:
        with pytest.raises(
            GridlineError, match=r"^the published marts lack what the report reads .*dissatisf"
        ):
            load_review(lean, Quarter.parse(_ticket_quarters(published)[-1]))
    finally:
        lean.close()


def test_a_quarter_without_tickets_or_history_still_reads_well(published):
    con = read_only_connection(published)
    try:
        review = load_review(con, Quarter.parse(_ticket_quarters(published)[0]))
    finally:
        con.close()
    review.tickets, review.abated, review.by_district, review.previous = [], [], [], None
    html = render(review, published_at=None, generated_at=datetime(2026, 1, 1))
    assert "本季度没有形成类事工单" in html and "没有上季度工单在本季度缓解" in html
    assert _parse(html).tickets == []
