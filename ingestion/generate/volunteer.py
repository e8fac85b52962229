"""Synthetic dual report-in (双报到) records (``volunteer``, SPEC 2.5): units, members, service sessions.

Party organisations of agencies (机关), institutions (事业单位), state firms (国有企业), private firms and
social organisations report in to a community; their members check in and out of volunteer sessions there,
mostly at weekends and on weekday evenings. A few sessions name the hotline order they helped close.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingestion.generate import vocab
from ingestion.generate.city import City, Grid

HEADER = [
    "记录编号",
    "报到单位",
    "单位类型",
    "党员编号",
    "姓名",
    "报到社区",
    "所属街道",
    "所属区县",
    "活动类型",
    "签到时间",
    "签退时间",
    "服务时长",
    "关联工单",
    "备注",
]
ACTIVITIES = (
    ["环境整治"] * 4 + ["关爱帮扶"] * 3 + ["文明劝导"] * 2 + ["矛盾调解", "政策宣传", "治安巡逻", "便民服务"]
)
_AGENCIES = [
    "财政局",
    "教育局",
    "民政局",
    "住建局",
    "城管局",
    "税务局",
    "人社局",
    "卫健委",
    "统计局",
    "司法局",
]
_STATE_FIRMS = [
    "{city}水务集团",
    "国网{city}供电公司",
    "{city}城投集团",
    "{city}公交集团",
    "{city}燃气集团",
    "{city}农商银行",
]
NOTES = ["", "", "", "清理楼道小广告", "慰问独居老人", "劝导电动车规范停放", "协助社区开展宣传"]


@dataclass(frozen=True)
class Unit:
    name: str
    unit_type: str
    community: Grid  # any grid of the community: it carries the community's names
    members: tuple[tuple[str, str], ...]  # (member_id, name)


def _unit_name(rng: random.Random, unit_type: str, grid: Grid, serial: int, city: str) -> str:
    if unit_type == "机关":
        return f"{grid.district}{rng.choice(_AGENCIES)}机关第{serial % 9 + 1}党支部"
    if unit_type == "事业单位":
        return rng.choice(
            [
                f"{grid.school}党支部",
                f"{grid.district}人民医院第{serial % 9 + 1}党支部",
                f"{grid.district}图书馆党支部",
            ]
        )
    if unit_type == "国有企业":
        return f"{rng.choice(_STATE_FIRMS).format(city=city)}第{serial % 12 + 1}党支部"
    if unit_type == "非公企业":
        return f"{grid.firm}党支部"
    return f"{grid.community}{rng.choice(['社工服务中心', '志愿者协会', '老年协会'])}党支部"


def build_units(rng: random.Random, city: City) -> list[Unit]:
    """Three to seven report-in units per community, each with five to forty members."""
    units = []
    serial = 0
    for grids in city.communities.values():
        for _ in range(rng.randint(3, 7)):
            serial += 1
            unit_type = rng.choices(
                ["机关", "事业单位", "国有企业", "非公企业", "社会组织"], [30, 25, 20, 15, 10]
            )[0]
            members = tuple(
                (f"DY{serial:05d}{m:02d}", vocab.person(rng)) for m in range(1, rng.randint(5, 40) + 1)
            )
            units.append(
                Unit(
                    _unit_name(rng, unit_type, rng.choice(grids), serial, city.short_name),
                    unit_type,
                    grids[0],
                    members,
                )
            )
    return units


def session(rng: random.Random, day: datetime, unit: Unit, order_id: str | None) -> dict[str, object]:
    """One check-in/check-out session (without its record id, numbered when the day is)."""
    weekend = day.weekday() >= 5
    start_hour = rng.choice([8, 9, 9, 14, 15]) if weekend else rng.choice([18, 19, 19, 9, 15])
    checked_in = day.replace(hour=start_hour, minute=rng.choice([0, 0, 10, 20, 30, 40, 50]))
    hours = rng.choice([1, 1.5, 2, 2, 2.5, 3, 4])
    checked_out = checked_in + timedelta(minutes=int(hours * 60) + rng.randint(-5, 10))
    member_id, name = rng.choice(unit.members)
    grid = unit.community
    forgot = rng.random() < 0.04  # forgot to check out: no check-out time, no hours
    note = rng.choice(NOTES)
    if rng.random() < 0.03:
        note += f"联系人{vocab.person(rng)}{vocab.phone(rng)}"
    return {
        "报到单位": unit.name,
        "单位类型": unit.unit_type,
        "党员编号": member_id,
        "姓名": name,
        "报到社区": grid.community,
        "所属街道": grid.street,
        "所属区县": grid.district,
        "活动类型": "矛盾调解" if order_id and rng.random() < 0.3 else rng.choice(ACTIVITIES),
        "签到时间": checked_in,
        "签退时间": None if forgot else checked_out,
        "服务时长": None if forgot else f"{round((checked_out - checked_in).total_seconds() / 3600, 1)}",
        "关联工单": order_id,
        "备注": note,
    }


def _missing_id(rng: random.Random, row: dict[str, object]) -> dict[str, object]:
    return {**row, "记录编号": ""}


def _bad_check_in(rng: random.Random, row: dict[str, object]) -> dict[str, object]:
    return {**row, "签到时间": rng.choice(["上午9点", "2025-02-30 09:00:00", "#VALUE!"])}


BREAKERS = {"missing 记录编号": _missing_id, "unreadable 签到时间": _bad_check_in}
