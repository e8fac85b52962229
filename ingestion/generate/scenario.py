"""``gridline generate``: landing files for a synthetic city, with the planted ground truth beside them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gridline.errors import GridlineError
from ingestion.generate import hotline
from ingestion.generate.city import build_city

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


@dataclass(frozen=True)
class Scale:
    quarters: tuple[str, ...]
    background_per_quarter: int
    planted_classes: int


SCALES = {
    "tiny": Scale(("2025Q3", "2025Q4"), 300, 8),
    "small": Scale(("2025Q1", "2025Q2", "2025Q3", "2025Q4"), 2500, 30),
}


def _plant(rng: random.Random, scale: Scale, grids, categories) -> list[hotline.PlantedClass]:
    communities: dict[str, list] = {}
    for grid in grids:
        communities.setdefault(grid.community_code, []).append(grid)
    classes = []
    used: set[tuple[str, str]] = set()
    while len(classes) < scale.planted_classes:
        category = rng.choice(categories)
        if rng.random() < 0.3:
            community = rng.choice(list(communities))
            members = rng.sample(communities[community], rng.randint(2, len(communities[community])))
            level, code = "community", community
        else:
            members = [rng.choice(grids)]
            level, code = "grid", members[0].grid_code
        if (category.code, code[:9]) in used:
            continue
        used.add((category.code, code[:9]))
        first = rng.randrange(len(scale.quarters))
        span = rng.choice([1, 1, 2, 3])
        spot = rng.choice(hotline.BUILDINGS).format(n=rng.randint(1, 30))
        classes.append(
            hotline.PlantedClass(
                class_id=f"K{len(classes) + 1:03d}",
                category=category,
                area_level=level,
                area_code=code,
                grids=members,
                spot=f"{members[0].community}{spot}",
                quarters=list(scale.quarters[first : first + span]),
            )
        )
    return classes


def generate(out: Path, scale_name: str = "tiny", seed: int = 1) -> dict:
    if scale_name not in SCALES:
        raise GridlineError(f"unknown scale {scale_name!r}; known: {', '.join(SCALES)}")
    scale = SCALES[scale_name]
    rng = random.Random(seed)
    grids = build_city()
    categories = hotline.load_categories(SEEDS_DIR / "categories.csv")
    common = categories[: len(categories)]
    classes = _plant(rng, scale, grids, categories)
    out.mkdir(parents=True, exist_ok=True)

    orders: list[tuple[datetime, dict]] = []
    sequence = 0
    end = hotline.quarter_start(scale.quarters[-1]) + timedelta(days=92)
    end = end.replace(day=1)

    def next_id(ts: datetime) -> str:
        nonlocal sequence
        sequence += 1
        return f"HX{ts:%y}{seq_width(sequence)}"

    def seq_width(n: int) -> str:
        return f"{n:08d}"

    for quarter in scale.quarters:
        start = hotline.quarter_start(quarter)
        days = (hotline.quarter_start(quarter).replace(month=start.month) + timedelta(days=91) - start).days
        for _ in range(scale.background_per_quarter):
            received = start + timedelta(seconds=rng.randrange(days * 86400))
            grid, category = rng.choice(grids), rng.choice(common)
            order_id = next_id(received)
            text = hotline.describe(rng, category, grid.community)
            orders.append((received, hotline.order_row(rng, order_id, received, grid, category, text, end)))
        for planted in classes:
            if quarter not in planted.quarters:
                continue
            for _ in range(rng.randint(4, 9)):
                received = start + timedelta(seconds=rng.randrange(days * 86400))
                grid = rng.choice(planted.grids)
                order_id = next_id(received)
                text = hotline.describe(rng, planted.category, planted.spot)
                orders.append(
                    (received, hotline.order_row(rng, order_id, received, grid, planted.category, text, end))
                )
                planted.case_ids.setdefault(quarter, []).append(f"12345:{order_id}")

    orders.sort(key=lambda pair: pair[0])
    files = []
    for quarter in scale.quarters:
        rows = [row for received, row in orders if hotline.quarter_of(received) == quarter]
        export_day = (hotline.quarter_start(quarter) + timedelta(days=92)).replace(day=1) - timedelta(days=1)
        folder = out / "hotline" / export_day.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"12345_export_{quarter}.csv"
        hotline.write_orders(path, rows)
        files.append(str(path.relative_to(out)))
    truth = {
        "scale": scale_name,
        "seed": seed,
        "quarters": list(scale.quarters),
        "classes": [
            {
                "class_id": c.class_id,
                "category_code": c.category.code,
                "area_level": c.area_level,
                "area_code": c.area_code,
                "quarters": c.quarters,
                "case_ids": c.case_ids,
            }
            for c in classes
        ],
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2))
    return {"files": files, "orders": len(orders), "classes": len(classes)}
