"""Charts as inline SVG written in Python: no chart library, no script, nothing fetched at view time.

Every function returns ``Markup`` built from escaped data, so the template can drop it in as is. Text in
the SVG inherits the page's font stack (Noto Sans CJK SC first), so Chinese labels render the same as
the prose around them.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from gridline.report.marts import TrendPoint
from gridline.report.priority import PARTS, Priority

# Distinguishable on screen and in greyscale print, after Okabe and Ito's colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D31", "#6A51A3", "#999999")
PART_COLOURS = {
    "size": "#0072B2",
    "persistence": "#6A51A3",
    "escalation": "#D55E00",
    "dissatisfaction": "#E69F00",
}
INK, MUTED, RULE, LIGHT = "#1f2933", "#6b7280", "#e5e7eb", "#c7d7ea"


def category_colours(level1: list[str]) -> dict[str, str]:
    colours = {name: PALETTE[i % (len(PALETTE) - 1)] for i, name in enumerate(level1)}
    colours["未分类"] = PALETTE[-1]
    return colours


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def district_bars(rows: list[tuple[str, str, int, int]], colours: dict[str, str]) -> Markup | None:
    """Open tickets per district as bars stacked by first-level category, with the case count beside."""
    if not rows:
        return None
    districts: dict[str, list[tuple[str, int, int]]] = {}
    for district, level1, tickets, cases in rows:
        districts.setdefault(district, []).append((level1, tickets, cases))
    order = sorted(districts, key=lambda d: (-sum(t for _, t, _ in districts[d]), d))
    most = max(sum(t for _, t, _ in parts) for parts in districts.values())
    label_w, bar_w, row_h, top = 96, 380, 30, 8
    width, height = label_w + bar_w + 150, top + row_h * len(order) + 8
    body = []
    for i, district in enumerate(order):
        y = top + i * row_h
        body.append(
            f'<text x="{label_w - 10}" y="{y + 18}" text-anchor="end" font-size="14" fill="{INK}">'
            f"{escape(district)}</text>"
        )
        x = float(label_w)
        for level1, tickets, cases in districts[district]:
            w = bar_w * tickets / most
            body.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{max(w - 1.5, 1):.1f}" height="{row_h - 10}" rx="2" '
                f'fill="{colours.get(level1, PALETTE[-1])}"><title>{escape(district)} · {escape(level1)}: '
                f"{tickets} 个类事工单, {cases} 件诉求</title></rect>"
            )
            if w > 26:
                body.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" font-size="12" '
                    f'fill="#fff">{tickets}</text>'
                )
            x += w
        total_t = sum(t for _, t, _ in districts[district])
        total_c = sum(c for _, _, c in districts[district])
        body.append(
            f'<text x="{x + 8:.1f}" y="{y + 18}" font-size="12.5" fill="{MUTED}">'
            f"{total_t} 个工单 · {total_c} 件</text>"
        )
    return _svg(width, height, body, "各区县类事工单，按一级分类")


def trend_bars(points: list[TrendPoint]) -> Markup:
    """A ticket's quarters: dark bars where it was a ticket, light ones for its place and category else."""
    col, height, base = 44, 92, 70
    most = max([p.cases for p in points] + [1])
    body = [f'<line x1="0" y1="{base}" x2="{col * len(points)}" y2="{base}" stroke="{RULE}"/>']
    for i, point in enumerate(points):
        h = 52 * point.cases / most
        x = i * col + 9
        fill = PALETTE[0] if point.is_ticket else LIGHT
        kind = "类事工单成员" if point.is_ticket else "同地同类诉求（未成类）"
        body.append(
            f'<rect x="{x}" y="{base - h:.1f}" width="{col - 18}" height="{max(h, 0.8):.1f}" rx="2" '
            f'fill="{fill}"><title>{escape(point.quarter)}: {point.cases} 件 {kind}</title></rect>'
            f'<text x="{x + (col - 18) / 2}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="11.5" '
            f'fill="{INK if point.is_ticket else MUTED}">{point.cases}</text>'
            f'<text x="{x + (col - 18) / 2}" y="{base + 15}" text-anchor="middle" font-size="10.5" '
            f'fill="{MUTED}">{escape(point.quarter[2:])}</text>'
        )
    return _svg(col * len(points), height, body, "季度趋势")


def priority_bar(priority: Priority, scale_max: int, width: int = 150) -> Markup:
    """The priority's four parts side by side, on a scale shared by every ticket in the report."""
    scale_max = max(scale_max, 1)
    x, body = 0.0, []
    for part in PARTS:
        points = priority.points[part.key]
        if not points:
            continue
        w = width * points / scale_max
        body.append(
            f'<rect x="{x:.1f}" y="3" width="{max(w - 1, 1):.1f}" height="12" '
            f'fill="{PART_COLOURS[part.key]}"><title>{escape(part.label)} {points}</title></rect>'
        )
        x += w
    return _svg(width, 18, body, f"优先级 {priority.total}")


def heat_colour(value: int, most: int) -> tuple[str, str]:
    """Background and text colour of a heat-table cell: darker blue for more cases."""
    if value <= 0 or most <= 0:
        return "transparent", MUTED
    share = value / most
    # Interpolate from a pale to a deep blue; text turns white once the cell is dark enough to need it.
    lo, hi = (239, 246, 255), (8, 69, 148)
    rgb = tuple(round(a + (b - a) * (0.12 + 0.88 * share)) for a, b in zip(lo, hi, strict=True))
    return f"rgb{rgb}", "#ffffff" if share > 0.45 else INK


def part_colours() -> dict[str, str]:
    return dict(PART_COLOURS)
