"""Turns a loaded ``Review`` into one self-contained HTML page with Jinja2 (autoescaped throughout)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from gridline.report import charts
from gridline.report.marts import Review
from gridline.report.priority import PARTS, formula

TEMPLATES = Path(__file__).parent / "templates"

STATUS_LABELS = {"new": "新发", "persisting": "持续", "escalated": "升级", "abated": "已缓解"}
STREAM_LABELS = {"hotline": "热线", "grid": "网格"}
CHANNEL_LABELS = {"grid-app": "网格员 App"}
# Grid-app statuses are English codes; staff read the hotline's Chinese status words.
CASE_STATUS_LABELS = {
    "reported": "已上报",
    "in_progress": "处置中",
    "resolved": "已办结",
    "escalated": "已上交",
}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _duration(hours: float | None) -> str:
    if hours is None:
        return "—"
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def _change(
    current: float | int | None, previous: float | int | None, rate: bool = False, better: str | None = "up"
) -> dict | None:
    """How a figure moved since last quarter, worded for its tile.

    ``better`` says which way is good news (``up`` for a rate, ``down`` for open tickets, None for plain
    volumes), so colour means the same thing on every tile.
    """
    if current is None or previous is None:
        return None
    if rate:
        diff = (current - previous) * 100
        text, sign = f"{diff:+.1f} 个百分点", (diff > 0.05) - (diff < -0.05)
    elif previous:
        diff = (current - previous) / previous * 100
        text, sign = f"{diff:+.0f}%", (diff > 0.5) - (diff < -0.5)
    else:
        return None
    tone = "neutral" if better is None or sign == 0 else ("good" if (sign > 0) == (better == "up") else "bad")
    return {"text": text, "sign": sign, "tone": tone}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(percent=_percent, number=_number, duration=_duration)
    env.globals.update(
        change=_change,
        status_label=lambda s: STATUS_LABELS.get(s, s),
        stream_label=lambda s: STREAM_LABELS.get(s, s),
        channel_label=lambda s: CHANNEL_LABELS.get(s, s),
        case_status_label=lambda s: CASE_STATUS_LABELS.get(s, s),
        trend_bars=charts.trend_bars,
        priority_bar=charts.priority_bar,
        heat_colour=charts.heat_colour,
    )
    return env


def render(review: Review, published_at: datetime | None, generated_at: datetime) -> str:
    colours = charts.category_colours(review.level1)
    heat_max = max((n for _, _, cells, _ in review.heat_rows for n in cells.values()), default=0)
    heat_columns = [c for c in review.level1 if any(c in cells for _, _, cells, _ in review.heat_rows)]
    if any("未分类" in cells for _, _, cells, _ in review.heat_rows):
        heat_columns.append("未分类")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            review=review,
            q=review.quarter,
            published_at=published_at,
            generated_at=generated_at,
            parts=PARTS,
            part_colours=charts.part_colours(),
            formula=formula(),
            priority_max=max((t.priority.total for t in review.tickets), default=1),
            district_chart=charts.district_bars(review.by_district, colours),
            district_legend=[
                (c, colours[c]) for c in review.level1 if any(c == r[1] for r in review.by_district)
            ],
            heat_columns=heat_columns,
            heat_max=heat_max,
        )
    )
