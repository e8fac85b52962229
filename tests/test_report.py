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


def test_on_the_spec_minimum_marts_the_loader_computes_what_the_richer_marts_carry(published, tmp_path):
    """A warehouse with only SPEC 4's columns (no reviewer columns, no service or volunteer marts) still
    gives the same tickets, and the figures the loader computes itself agree with the richer marts'."""
    import duckdb

    minimal = tmp_path / "minimal.duckdb"
    con = duckdb.connect(str(minimal))
    try:
        con.execute(f"attach '{published.published_db}' as src (read_only)")
        con.execute("create schema marts")
        con.execute("create schema intermediate")
        con.execute(
            "create table marts.cases as select case_id, stream, source_system, received_at, category_code, "
            "district, street, community, grid_code, status, resolved_at, satisfaction, quarter, "
            "street_code, community_code, resident_key, reopen_count, escalated_at, first_contact_at, "
            "channel, appeal_type, title, description from src.marts.cases where not is_duplicate"
        )
        con.execute(
            "create table marts.problem_class_tickets as select ticket_id, quarter, area_level, area_code, "
            "category_code, case_count, status from src.marts.problem_class_tickets"
        )
        con.execute(
            "create table marts.problem_class_ticket_cases as select ticket_id, quarter, case_id "
            "from src.marts.problem_class_ticket_cases where not is_duplicate"
        )
        for table in ("int_areas__grids", "int_areas__communities", "int_categories__taxonomy"):
            con.execute(f"create table intermediate.{table} as select * from src.intermediate.{table}")
        con.execute("detach src")
    finally:
        con.close()

    quarter = Quarter.parse(_ticket_quarters(published)[-1])
    rich_con = read_only_connection(published)
    lean_con = duckdb.connect(str(minimal), read_only=True)
    lean_con.execute(f"set TimeZone = '{published.timezone}'")  # as read_only_connection does
    try:
        rich, lean = load_review(rich_con, quarter), load_review(lean_con, quarter)
    finally:
        rich_con.close()
        lean_con.close()
    assert not lean.has_capacity and rich.has_capacity
    assert [t.ticket_id for t in lean.tickets] == [t.ticket_id for t in rich.tickets]
    assert {t.ticket_id for t in lean.abated} == {t.ticket_id for t in rich.abated}
    for a, b in zip(lean.tickets, rich.tickets, strict=True):
        assert a.mart == {} and b.mart
        for attribute in ("residents", "hotline", "grid", "reopened", "whistled", "first_seen", "last_seen"):
            assert getattr(a, attribute) == getattr(b, attribute), (a.ticket_id, attribute)
        assert a.resolution_rate == pytest.approx(b.resolution_rate, abs=0.001)  # the mart rounds
        assert (a.median_hours is None) == (b.median_hours is None)
    assert lean.current.cases == rich.current.cases
    assert lean.current.grid_reports == rich.current.grid_reports
    html = render(lean, published_at=None, generated_at=datetime(2026, 1, 1))
    assert {t["data-ticket-id"] for t in _parse(html).tickets} == {
        t.ticket_id for t in lean.tickets + lean.abated
    }
    assert "双报到志愿服务数据尚未发布" in html


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
