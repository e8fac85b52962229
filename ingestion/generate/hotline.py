"""Synthetic 12345 work orders: background appeals plus planted classes of recurring problems."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ingestion.generate.city import Grid

HEADER = [
    "工单编号",
    "来电时间",
    "来电号码",
    "来电人",
    "诉求渠道",
    "诉求类型",
    "诉求分类",
    "诉求标题",
    "诉求内容",
    "事发地址",
    "区县",
    "街道",
    "社区",
    "网格",
    "承办单位",
    "工单状态",
    "派单时间",
    "签收时间",
    "首次联系时间",
    "吹哨时间",
    "办结时间",
    "回访时间",
    "办理结果",
    "满意度",
    "重办次数",
    "更新时间",
]
CHANNELS = ["电话"] * 6 + ["微信", "APP", "网站", "码上反映", "码上反映"]
APPEAL_TYPES = ["投诉"] * 4 + ["求助"] * 3 + ["咨询", "建议", "举报"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
OPENERS = ["市民来电反映：", "居民反映", "来电人称，", "市民通过码上反映称", "群众反映：", ""]
CLOSERS = ["，希望尽快处理。", "，请相关部门核实解决。", "，已多次反映未果。", "，影响居民生活。", "。"]
BUILDINGS = ["{n}栋", "{n}号楼", "{n}单元", "北门", "南门", "小区广场", "地下车库", "东侧路口"]
FMT_DASH = "%Y-%m-%d %H:%M:%S"


@dataclass
class Category:
    code: str
    path: str
    level3: str
    aliases: list[str]


@dataclass
class PlantedClass:
    class_id: str
    category: Category
    area_level: str
    area_code: str
    grids: list[Grid]
    spot: str
    quarters: list[str]
    case_ids: dict[str, list[str]] = field(default_factory=dict)


def load_categories(path: Path) -> list[Category]:
    with open(path, encoding="utf-8") as handle:
        return [
            Category(
                code=row["category_code"],
                path=f"{row['level1']}/{row['level2']}/{row['level3']}",
                level3=row["level3"],
                aliases=[a for a in (row.get("aliases") or "").split("|") if a],
            )
            for row in csv.DictReader(handle)
        ]


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def describe(rng: random.Random, category: Category, place: str) -> str:
    words = [category.level3, *category.aliases]
    verb = rng.choice(["存在", "出现", "一直", "又有", ""])
    return f"{rng.choice(OPENERS)}{place}{verb}{rng.choice(words)}问题{rng.choice(CLOSERS)}"


def quarter_of(ts: datetime) -> str:
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> datetime:
    year, q = int(quarter[:4]), int(quarter[-1])
    return datetime(year, 3 * (q - 1) + 1, 1)


def _lifecycle(rng: random.Random, received: datetime, now: datetime) -> dict[str, datetime | None]:
    """Timestamps of one order's life, cut off at ``now`` (the export time)."""
    steps: dict[str, datetime | None] = {}
    t = received + timedelta(minutes=rng.randint(3, 90))
    steps["派单时间"] = t
    t += timedelta(minutes=rng.randint(5, 240))
    steps["签收时间"] = t
    t += timedelta(minutes=rng.randint(5, 600))
    steps["首次联系时间"] = t
    steps["吹哨时间"] = t + timedelta(hours=rng.randint(1, 48)) if rng.random() < 0.05 else None
    t += timedelta(hours=rng.randint(2, 24 * 7))
    steps["办结时间"] = t if rng.random() < 0.92 else None
    steps["回访时间"] = t + timedelta(hours=rng.randint(1, 72)) if steps["办结时间"] else None
    return {k: (v if v is not None and v <= now else None) for k, v in steps.items()}


def _status(steps: dict[str, datetime | None], reopened: int) -> str:
    if steps["回访时间"]:
        return "已回访"
    if steps["办结时间"]:
        return "已办结"
    if reopened:
        return "重办"
    if steps["首次联系时间"]:
        return "办理中"
    if steps["签收时间"]:
        return "已签收"
    return "已派单" if steps["派单时间"] else "待派单"


def order_row(
    rng: random.Random,
    order_id: str,
    received: datetime,
    grid: Grid,
    category: Category,
    text: str,
    now: datetime,
) -> dict[str, str]:
    steps = _lifecycle(rng, received, now)
    reopened = 1 if steps["回访时间"] and rng.random() < 0.06 else 0
    satisfaction = rng.choices(["满意", "基本满意", "不满意"], [70, 20, 10])[0] if steps["回访时间"] else ""
    caller_phone, caller = phone(rng), person(rng)
    if rng.random() < 0.1:  # residents often leave a number in the text itself
        text = f"{text}联系电话{phone(rng)}。"
    updated = max(v for v in [received, *steps.values()] if v is not None)
    row = {
        "工单编号": order_id,
        "来电时间": received.strftime(FMT_DASH),
        "来电号码": caller_phone,
        "来电人": caller,
        "诉求渠道": rng.choice(CHANNELS),
        "诉求类型": rng.choice(APPEAL_TYPES),
        "诉求分类": category.path,
        "诉求标题": f"{grid.community}{category.level3}",
        "诉求内容": text,
        "事发地址": f"{grid.district}{grid.street}{grid.community}",
        "区县": grid.district,
        "街道": grid.street,
        "社区": grid.community,
        "网格": grid.grid_code if rng.random() > 0.05 else "",
        "承办单位": f"{grid.street}办事处",
        "工单状态": _status(steps, reopened),
        "办理结果": "已处理完毕" if steps["办结时间"] else "",
        "满意度": satisfaction if satisfaction else ("未评价" if steps["办结时间"] else ""),
        "重办次数": str(reopened),
        "更新时间": updated.strftime(FMT_DASH),
    }
    for key, value in steps.items():
        row[key] = value.strftime(FMT_DASH) if value else ""
    return row


def write_orders(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
