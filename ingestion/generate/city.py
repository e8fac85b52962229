"""The synthetic city's place hierarchy: district → street → community → grid.

The city is fixed (its own seed), so the reference data in ``dbt_project/seeds/areas.csv`` matches every
generated dataset; a run's ``--seed`` varies only the records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY_SEED = 20250701
DISTRICTS = ["江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东湖新区"]
_STREET_ROOTS = [
    "民主",
    "花桥",
    "水塔",
    "唐家",
    "前进",
    "四新",
    "永丰",
    "首义",
    "紫阳",
    "白沙",
    "和平",
    "红卫",
    "珞南",
    "关山",
    "卓刀",
    "梨园",
    "中南",
    "南湖",
    "徐东",
    "积玉",
]
_COMMUNITY_ROOTS = [
    "幸福",
    "康宁",
    "翠微",
    "锦绣",
    "阳光",
    "桃源",
    "丹桂",
    "枫林",
    "荷塘",
    "云景",
    "新村",
    "北苑",
    "南苑",
    "东苑",
    "西苑",
    "望江",
    "星河",
    "金桥",
    "玉兰",
    "长青",
]


@dataclass(frozen=True)
class Grid:
    district_code: str
    district: str
    street_code: str
    street: str
    community_code: str
    community: str
    grid_code: str


def build_city(
    streets_per_district: int = 6, communities_per_street: int = 5, grids_per_community: int = 4
) -> list[Grid]:
    rng = random.Random(CITY_SEED)
    grids = []
    for d, district in enumerate(DISTRICTS, start=1):
        street_names = rng.sample(_STREET_ROOTS, streets_per_district)
        for s, street_root in enumerate(street_names, start=1):
            community_names = rng.sample(_COMMUNITY_ROOTS, communities_per_street)
            for c, community_root in enumerate(community_names, start=1):
                for g in range(1, grids_per_community + 1):
                    grids.append(
                        Grid(
                            district_code=f"D{d:02d}",
                            district=district,
                            street_code=f"D{d:02d}S{s:02d}",
                            street=f"{street_root}街道",
                            community_code=f"D{d:02d}S{s:02d}C{c:02d}",
                            community=f"{community_root}社区",
                            grid_code=f"D{d:02d}S{s:02d}C{c:02d}G{g:02d}",
                        )
                    )
    return grids
