"""Synthetic 12345 work orders: each order's whole life, and its rows in the platform's snapshot exports.

An order is created with every change it will go through (:class:`Order` ``changes``): received,
dispatched within minutes, signed for, the resident contacted (by the grid worker within 30 minutes when
the grid handles it), sometimes escalated (吹哨), resolved within or beyond its time limit, rated, and, when
the resident is unhappy, reopened (重办) and resolved again, then closed. An export renders an order as it
stood at the export's cutoff (:meth:`Order.state_at`), so it re-appears in every export after it changed.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ingestion.generate.city import Grid
from ingestion.sources import twelve345

# The export's columns are the adapter's: one list, read by both.
HEADER = list(twelve345.HEADERS)
TIMESTAMP_COLUMNS = (
    "来电时间",
    "派单时间",
    "签收时间",
    "首次联系时间",
    "吹哨时间",
    "办结时间",
    "回访时间",
    "更新时间",
)
LIFECYCLE_COLUMNS = TIMESTAMP_COLUMNS[:-1]
CHANNELS = ["电话"] * 12 + ["微信"] * 3 + ["APP"] * 2 + ["网站", "码上反映", "码上反映", "码上反映"]
APPEAL_TYPES = ["投诉"] * 8 + ["求助"] * 5 + ["咨询"] * 3 + ["建议", "举报", "表扬"]
# Working days to resolve, by appeal type (咨询 is answered within a day).
TIME_LIMIT_DAYS = {"咨询": 1, "求助": 5, "投诉": 7, "建议": 7, "举报": 7, "表扬": 3}
DEPARTMENTS = {
    "01.01": "区住建局",
    "01.02": "区城管局",
    "01.03": "区城管执法局",
    "01.04": "区水务和供电供气单位",
    "02": "区生态环境分局",
    "03": "区交通运输局",
    "04": "区教育局",
    "05": "区人社局",
    "06": "区市场监管局",
    "07": "区卫健委",
    "08": "区司法局",
}
RESOLUTIONS = [
    "已派人现场处理完毕",
    "经核实已整改到位",
    "已协调相关单位解决",
    "已向来电人解释说明",
    "已纳入计划，近期实施",
    "已联系物业落实整改",
]


@dataclass(slots=True)
class Order:
    """One work order: what never changes (``fixed``) and its changes over time, in order."""

    order_id: str
    received: datetime
    fixed: dict[str, str]
    changes: list[tuple[datetime, dict[str, object]]] = field(default_factory=list)
    exported: int = 0  # lifecycle facts already shown by an export (for the event estimate)

    def state_at(self, cutoff: datetime) -> dict[str, object] | None:
        """The order's export row as of ``cutoff`` (timestamps as datetimes), or None before it exists."""
        if self.received > cutoff:
            return None
        state: dict[str, object] = {**self.fixed, "来电时间": self.received, "更新时间": self.received}
        for when, delta in self.changes:
            if when > cutoff:
                break
            state.update(delta)
            state["更新时间"] = when
        return state


def _minutes(rng: random.Random, median: float, spread: float = 0.8) -> timedelta:
    return timedelta(minutes=max(1, int(rng.lognormvariate(0, spread) * median)))


def _off_midnight(ts: datetime) -> datetime:
    """Nudge an instant off 00:00: an XLSX date cell at midnight reads back as a bare date."""
    return ts + timedelta(minutes=1) if ts.hour == 0 and ts.minute == 0 else ts


def lifecycle(
    rng: random.Random, received: datetime, unit: str, department: str, appeal_type: str, grid_first: bool
) -> list[tuple[datetime, dict[str, object]]]:
    """Every change of an order after it is received, with realistic delays and SLA breaches."""
    changes = _lifecycle(rng, received, unit, department, appeal_type, grid_first)
    return [
        (
            _off_midnight(when),
            {k: _off_midnight(v) if isinstance(v, datetime) else v for k, v in delta.items()},
        )
        for when, delta in changes
    ]


def _lifecycle(
    rng: random.Random, received: datetime, unit: str, department: str, appeal_type: str, grid_first: bool
) -> list[tuple[datetime, dict[str, object]]]:
    changes: list[tuple[datetime, dict[str, object]]] = []
    # Dispatch: most within half an hour, a tail past the two-hour limit.
    t = received + (_minutes(rng, 20) if rng.random() > 0.06 else timedelta(minutes=rng.randint(121, 600)))
    changes.append((t, {"派单时间": t, "承办单位": unit, "工单状态": "已派单"}))
    if grid_first:
        # The grid worker signs for it and must phone the resident within 30 minutes of dispatch.
        t = t + timedelta(minutes=rng.randint(1, 8))
        changes.append((t, {"签收时间": t, "工单状态": "已签收"}))
        contact = changes[0][0] + (
            timedelta(minutes=rng.randint(9, 29))
            if rng.random() < 0.82
            else timedelta(minutes=rng.randint(31, 300))
        )
        t = max(t + timedelta(minutes=1), contact)
    else:
        t = t + (_minutes(rng, 40) if rng.random() > 0.08 else timedelta(minutes=rng.randint(121, 1440)))
        changes.append((t, {"签收时间": t, "工单状态": "已签收"}))
        t = t + (_minutes(rng, 180) if rng.random() > 0.1 else timedelta(hours=rng.randint(25, 96)))
    changes.append((t, {"首次联系时间": t, "工单状态": "办理中"}))
    if rng.random() < 0.03:
        # 吹哨: the street calls the departments in; they join the handling units.
        w = t + timedelta(hours=rng.randint(2, 72))
        changes.append((w, {"吹哨时间": w, "承办单位": f"{unit}、{department}"}))
        t = w
    if rng.random() < 0.03:
        return changes  # still open when the data ends: a backlog order
    limit = TIME_LIMIT_DAYS[appeal_type]
    reopen_count = 0
    while True:
        days = rng.uniform(0.1, limit) if rng.random() > 0.1 else rng.uniform(limit, limit * 3)
        t = t + timedelta(minutes=int(days * 1440))
        changes.append(
            (
                t,
                {
                    "办结时间": t,
                    "办理结果": rng.choice(RESOLUTIONS),
                    "工单状态": "已办结",
                    "满意度": "未评价",
                },
            )
        )
        if rng.random() < 0.12:
            return changes  # never rated: the resident could not be reached
        t = t + timedelta(minutes=rng.randint(60, 4320))
        satisfaction = rng.choices(["满意", "基本满意", "不满意"], [72, 18, 10 if reopen_count == 0 else 5])[
            0
        ]
        changes.append((t, {"回访时间": t, "满意度": satisfaction, "工单状态": "已回访"}))
        if satisfaction == "不满意" and reopen_count < 2 and rng.random() < 0.6:
            reopen_count += 1
            t = t + timedelta(minutes=rng.randint(60, 2880))
            changes.append((t, {"工单状态": "重办", "重办次数": reopen_count}))
            continue
        t = t + timedelta(days=rng.randint(1, 5))
        changes.append((t, {"工单状态": "已关闭"}))
        return changes


def department_for(category_code: str) -> str:
    """The department for a category of the default list (another city's list keeps it as ``origin``)."""
    return DEPARTMENTS.get(category_code[:5]) or DEPARTMENTS.get(category_code[:2], "区政府办")


def handling_unit(rng: random.Random, grid: Grid, category_code: str, grid_first: bool) -> str:
    if grid_first:
        return f"{grid.community}居委会"
    return rng.choice([f"{grid.street}办事处", f"{grid.street}办事处", department_for(category_code)])


# Calls by hour of day: a morning peak, an afternoon peak, few at night.
_HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 4, 8, 10, 10, 9, 6, 7, 9, 9, 8, 7, 6, 6, 5, 4, 3, 2]
_HOURS = list(range(24))


def call_time(rng: random.Random, day: datetime) -> datetime:
    """A call's time on ``day`` (local), at whole minutes as the platform records them."""
    hour = rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
    return _off_midnight(day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0))


def write_orders(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    """A 12345 CSV export of ``rows`` (text cells keyed by HEADER) in ``encoding``."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _missing_id(rng: random.Random, row: dict[str, object]) -> dict[str, object]:
    return {**row, "工单编号": ""}


def _bad_received(rng: random.Random, row: dict[str, object]) -> dict[str, object]:
    return {**row, "来电时间": rng.choice(["昨天下午", "2025-13-45 10:00:00", "#VALUE!", "45123.5"])}


def _bad_reopen_count(rng: random.Random, row: dict[str, object]) -> dict[str, object]:
    return {**row, "重办次数": rng.choice(["一次", "1次", "N/A"])}


# How a row gets broken on its way out of the platform, by the reason a reader should give.
BREAKERS = {
    "missing 工单编号": _missing_id,
    "unreadable 来电时间": _bad_received,
    "unreadable 重办次数": _bad_reopen_count,
}
