"""Synthetic grid-worker app submissions (``grid-jsonl``, SPEC 2.4): the rounds of each grid's workers.

A round is mostly home visits (入户走访), with information updates, services done for residents, problems
found (kind ``issue``: these are cases, like hotline orders) and disputes mediated. A problem not settled on
the spot gets a follow-up submission days later (``related_submission_id``); that follow-up updates the same
case and is not a new one. When the grid is first handler of a hotline order, the worker's contact with the
resident is a submission carrying the ``order_id``, normally within 30 minutes of dispatch.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingestion.generate import vocab
from ingestion.generate.city import Grid
from ingestion.generate.world import World

KINDS = ["visit"] * 55 + ["info"] * 8 + ["service"] * 12 + ["issue"] * 20 + ["dispute"] * 5
VISIT_NOTES = [
    "独居老人身体状况良好",
    "了解居民对小区停车的意见",
    "宣传反诈知识",
    "核实常住人口信息",
    "登记困难家庭需求",
    "提醒住户注意用电安全",
    "走访残疾人家庭，了解康复需求",
    "收集居民对物业服务的意见",
]
SERVICES = [
    ("帮助老人办理养老资格认证", "劳动和社会保障/社会保险/养老保险"),
    ("代办医保卡激活", "劳动和社会保障/社会保险/医疗保险"),
    ("为行动不便居民代购药品", "劳动和社会保障/社会救助/养老服务"),
    ("协助清理楼道杂物", "城乡建设/违法建设/占用公共空间"),
    ("帮助居民申请低保材料", "劳动和社会保障/社会救助/低保申请"),
]
DISPUTES = [
    ("{b}栋{u}单元楼上楼下漏水纠纷", "社会治理/矛盾纠纷/邻里纠纷"),
    ("{b}栋住户噪音纠纷", "社会治理/矛盾纠纷/邻里纠纷"),
    ("{b}栋住户赡养纠纷", "社会治理/矛盾纠纷/家庭纠纷"),
    ("{b}栋邻居占用公共通道纠纷", "社会治理/矛盾纠纷/邻里纠纷"),
]
ISO = "%Y-%m-%dT%H:%M:%S+08:00"


def worker_of(rng: random.Random, grid: Grid) -> str:
    """Every grid has a full-time worker; larger grids a second one."""
    second = grid.households > 300 and rng.random() < 0.3
    return f"W{grid.grid_code}{'2' if second else '1'}"


@dataclass(slots=True)
class Submission:
    """One app submission; ``submission_id`` is assigned when its day's submissions are numbered."""

    submitted_at: datetime
    grid: Grid
    worker_id: str
    kind: str
    category_path: str | None
    description: str
    status: str
    resolved_on_site: bool
    address: str
    related: Submission | None = None
    order_id: str | None = None
    resident_phone: str | None = None
    photos: int = 0
    lat: float | None = None
    lon: float | None = None
    submission_id: str = ""
    extra: dict = field(default_factory=dict)

    def record(self) -> dict:
        return {
            "submission_id": self.submission_id,
            "worker_id": self.worker_id,
            "grid_code": self.grid.grid_code,
            "submitted_at": self.submitted_at.strftime(ISO),
            "kind": self.kind,
            "category_path": self.category_path,
            "description": self.description,
            "address": self.address,
            "lat": self.lat,
            "lon": self.lon,
            "status": self.status,
            "resolved_on_site": self.resolved_on_site,
            "related_submission_id": self.related.submission_id if self.related else None,
            "order_id": self.order_id,
            "resident_phone": self.resident_phone,
            "photos": self.photos,
        }


def _where(rng: random.Random, grid: Grid, located: bool = False) -> tuple[float | None, float | None]:
    if not located and rng.random() < 0.05:
        return None, None  # no GPS fix
    return round(grid.lat + rng.uniform(-0.002, 0.002), 6), round(grid.lon + rng.uniform(-0.002, 0.002), 6)


def round_time(rng: random.Random, day: datetime) -> datetime:
    """Grid rounds happen in working hours, a few in the evening."""
    hour = rng.choices([8, 9, 10, 11, 14, 15, 16, 17, 19], [6, 12, 12, 8, 10, 12, 10, 6, 3])[0]
    return day.replace(hour=hour, minute=rng.randrange(60))


def routine(rng: random.Random, day: datetime, grid: Grid, kind: str, world: World) -> Submission:
    """A visit, information update, service or dispute on a round."""
    at = round_time(rng, day)
    compound = rng.choice(grid.compounds)
    lat, lon = _where(rng, grid)
    b, u = rng.randint(1, 36), rng.randint(1, 4)
    category = None
    status, on_site = "resolved", True
    if kind == "visit":
        room = f"{rng.randint(1, 30)}0{rng.randint(1, 4)}"
        text = f"入户走访{compound}{b}栋{u}单元{room}室，{rng.choice(VISIT_NOTES)}。"
    elif kind == "info":
        text = f"采集更新{compound}{b}栋人口和房屋信息。"
    elif kind == "service":
        text, category = rng.choice(SERVICES)
        text, category = f"{text}（{compound}{b}栋）。", world.taxonomy.path_of(category)
    else:  # dispute
        template, category = rng.choice(DISPUTES)
        category = world.taxonomy.path_of(category)
        text = f"调解{compound}{template.format(b=b, u=u)}，" + rng.choice(
            ["双方达成一致。", "已初步化解，持续跟进。", "调解未果，已上报街道综治中心。"]
        )
        if "上报" in text:
            status, on_site = "escalated", False
    phone = vocab.phone(rng) if rng.random() < 0.3 else None
    if phone and rng.random() < 0.3:
        text += f"居民电话{phone}。"  # workers paste numbers into the text too
    return Submission(
        at,
        grid,
        worker_of(rng, grid),
        kind,
        category,
        text,
        status,
        on_site,
        world.style.incident(rng, grid, compound, ""),
        resident_phone=phone,
        photos=rng.choice([0, 1, 1, 2, 3]),
        lat=lat,
        lon=lon,
    )


def issue(
    rng: random.Random, at: datetime, grid: Grid, problem: vocab.Problem, world: World, located: bool = False
) -> Submission:
    """A problem found on a round; settled on the spot or left ``reported`` for a follow-up."""
    on_site = rng.random() < 0.55
    lat, lon = _where(rng, grid, located)
    return Submission(
        at,
        grid,
        worker_of(rng, grid),
        "issue",
        problem.category.path,
        vocab.worker_text(rng, problem),
        "resolved" if on_site else "reported",
        on_site,
        world.style.incident(rng, grid, problem.place, problem.obj),
        resident_phone=vocab.phone(rng) if rng.random() < 0.15 else None,
        photos=rng.choice([1, 1, 2, 3, 4]),
        lat=lat,
        lon=lon,
    )


def follow_up(rng: random.Random, original: Submission) -> Submission:
    at = original.submitted_at + timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 300))
    escalated = rng.random() < 0.2
    text = "跟进：问题已上报街道协调处理。" if escalated else "跟进：问题已处理完毕，居民认可。"
    return Submission(
        at,
        original.grid,
        original.worker_id,
        original.kind,
        original.category_path,
        text,
        "escalated" if escalated else "resolved",
        False,
        original.address,
        related=original,
        photos=rng.choice([0, 1, 2]),
        lat=original.lat,
        lon=original.lon,
    )


def handling(
    rng: random.Random, at: datetime, grid: Grid, order_id: str, category_path: str, world: World
) -> Submission:
    """The grid worker's contact with the resident of a hotline order the grid handles first."""
    lat, lon = _where(rng, grid)
    return Submission(
        at,
        grid,
        worker_of(rng, grid),
        "service",
        category_path,
        rng.choice(
            ["已电话联系来电人，约定上门查看。", "已联系诉求人，正在现场核实。", "接单后已与居民电话沟通。"]
        ),
        "in_progress",
        False,
        world.style.incident(rng, grid, rng.choice(grid.compounds), ""),
        order_id=order_id,
        photos=0,
        lat=lat,
        lon=lon,
    )


def jsonl_line(submission: Submission) -> str:
    return json.dumps(submission.record(), ensure_ascii=False, separators=(",", ":"))


def malformed_line(rng: random.Random, submission: Submission) -> tuple[str, str]:
    """A broken copy of a submission's line and the reason."""
    record = submission.record()
    reason = rng.choice(["truncated json", "missing submission_id", "unreadable submitted_at"])
    if reason == "missing submission_id":
        record["submission_id"] = None
    elif reason == "unreadable submitted_at":
        record["submitted_at"] = rng.choice(["2025-13-40T25:61:00+08:00", "今天上午", ""])
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    if reason == "truncated json":
        line = line[: len(line) // 2]
    return line, reason
