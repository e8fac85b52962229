"""The synthetic city's places: district → street → community → grid, with the streets and compounds in them.

:func:`build` makes any city from its districts and a lexicon; :func:`build_city` is the default one.
云州市 is a fictional city of about 1.5 M people. Each district's population is split into streets
(街道; 镇 in the county), communities (社区; 村 in the county) and grids of a few hundred households, in the
proportions real cities report: an urban community of about 8,000 people holds a dozen grids, a village
of 1,500 people one or two. The city is fixed by its own seed, so the reference the generator writes for it
(``<out>/reference/areas.csv``) is the same in every dataset; a run's ``--seed`` varies only the records.

Besides the hierarchy each grid gets the things residents name in their appeals: residential compounds
(小区), the roads of its community, its street's river, a school, shops and firms. Names are unique across
the city so that a name in a description points at one place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CITY_SEED = 20250701
CITY = "云州市"
CITY_CODE = "3390"
# Centre of the synthetic city; grids are laid out on a lattice around it for lat/lon.
CENTRE_LAT, CENTRE_LON = 30.5928, 114.3055

# (name, population, rural): rural districts are counties of towns (镇) and villages (村).
DISTRICTS = [
    ("云中区", 320_000, False),
    ("江北区", 280_000, False),
    ("江南区", 260_000, False),
    ("湖滨区", 210_000, False),
    ("高新区", 170_000, False),
    ("经开区", 120_000, False),
    ("青山县", 140_000, True),
]
PEOPLE_PER_STREET = {False: 36_000, True: 17_000}
PEOPLE_PER_COMMUNITY = {False: 8_000, True: 1_500}
PEOPLE_PER_GRID = {False: 680, True: 800}

_ROOTS = str.split(
    "和平 友谊 长青 丹桂 枫林 翠微 锦绣 阳光 桃源 玉兰 星河 金桥 望江 荷塘 云景 紫阳 白沙 明珠 春华 秋实 "
    "松鹤 竹园 梅岭 兰亭 清溪 碧水 青石 东风 红旗 前进 胜利 新华 复兴 振兴 滨江 临湖 湖光 山水 龙泉 凤凰 "
    "麒麟 福寿 安康 永安 长乐 太平 平安 兴隆 富民 幸福 花园 柳岸 杏林 桂苑 梧桐 银杏 樱花 海棠 芙蓉 牡丹 "
    "南湖 北湖 东湖 西岭 中山 解放 建设 人民 光明 朝阳 旭日 晨光 曙光 星光 月湖 天河 银河 金沙 宝山 黄鹤"
)
_COMPOUND_SUFFIXES = ["小区", "花园", "苑", "家园", "公寓", "雅居", "新村", "华庭"]
_ROAD_SUFFIXES = ["路", "街", "大道", "巷"]
_RIVER_SUFFIXES = ["河", "港", "渠"]
_FIRM_KINDS = ["建筑工程有限公司", "物流有限公司", "餐饮管理有限公司", "商贸有限公司", "科技有限公司"]
_GROUPS = "一二三四五六七八九十" * 4
_SHOP_KINDS = ["超市", "便利店", "健身房", "美容店", "母婴店", "家电城"]


@dataclass(frozen=True)
class Grid:
    district_code: str
    district: str
    street_code: str
    street: str
    community_code: str
    community: str
    grid_code: str
    rural: bool = False
    compounds: tuple[str, ...] = ()
    roads: tuple[str, ...] = ()
    river: str = ""
    main_road: str = ""
    school: str = ""
    shop: str = ""
    firm: str = ""
    lat: float = 0.0
    lon: float = 0.0
    households: int = 0
    # The street address of each compound (``望湖路128号``), in a city whose addresses give one.
    compound_addresses: tuple[str, ...] = ()
    # Landmarks residents name (another city's): its community's park and market, its street's metro station.
    park: str = ""
    market: str = ""
    metro: str = ""


@dataclass
class City:
    grids: list[Grid]
    name: str = CITY
    by_code: dict[str, Grid] = field(default_factory=dict)
    communities: dict[str, list[Grid]] = field(default_factory=dict)
    streets: dict[str, list[Grid]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for grid in self.grids:
            self.by_code[grid.grid_code] = grid
            self.communities.setdefault(grid.community_code, []).append(grid)
            self.streets.setdefault(grid.street_code, []).append(grid)

    @property
    def short_name(self) -> str:
        """The name locals use in firm names (云州 for 云州市)."""
        return self.name[:-1] if self.name.endswith("市") and len(self.name) > 2 else self.name


@dataclass(frozen=True)
class Lexicon:
    """The words a city's names are made of: stems and the suffixes of each kind of place."""

    roots: tuple[str, ...] = tuple(_ROOTS)
    compound_suffixes: tuple[str, ...] = tuple(_COMPOUND_SUFFIXES)
    road_suffixes: tuple[str, ...] = tuple(_ROAD_SUFFIXES)
    main_road_suffixes: tuple[str, ...] = ("大道",)
    river_suffixes: tuple[str, ...] = tuple(_RIVER_SUFFIXES)
    school_kinds: tuple[str, ...] = ("小学", "中学", "幼儿园")
    shop_kinds: tuple[str, ...] = tuple(_SHOP_KINDS)
    firm_kinds: tuple[str, ...] = tuple(_FIRM_KINDS)
    short_names: float = 0.0  # share of compound and road names with one stem (嘉禾苑) instead of two


@dataclass(frozen=True)
class StreetPlan:
    """A street (街道) or town (镇, 乡) whose name and code are given, e.g. by the national division list."""

    code: str
    name: str
    people: int
    rural: bool


@dataclass(frozen=True)
class DistrictPlan:
    code: str
    name: str
    population: int
    rural: bool
    streets: tuple[StreetPlan, ...] = ()  # empty: split the population and invent the streets


class _Names:
    """Unique names from the lexicon's stems: each call gives a name not handed out before."""

    def __init__(self, rng: random.Random, roots: tuple[str, ...] | list[str] = tuple(_ROOTS)) -> None:
        self.rng = rng
        self.roots = list(roots)
        self.used: set[str] = set()

    def take(self, suffixes: list[str] | tuple[str, ...], roots: int = 2) -> str:
        tries = 0
        while True:
            stem = "".join(self.rng.sample(self.roots, roots))
            name = stem + self.rng.choice(suffixes)
            if name not in self.used:
                self.used.add(name)
                return name
            tries += 1
            if tries == 50:  # the short names of this kind are nearly all taken: use one stem more
                roots, tries = roots + 1, 0


def _split(rng: random.Random, total: int, per: int) -> list[int]:
    """Split ``total`` people into parts of about ``per`` people each (±30%)."""
    parts = []
    left = total
    while left > per * 1.3:
        part = int(per * rng.uniform(0.7, 1.3))
        parts.append(part)
        left -= part
    parts.append(left)
    return parts


def _stems(rng: random.Random, lexicon: Lexicon) -> int:
    # The default lexicon draws nothing here, so the default city stays as its seed made it.
    return 1 if lexicon.short_names and rng.random() < lexicon.short_names else 2


def build_city() -> City:
    """The fixed synthetic city (about 2,200 grids)."""
    plans = [
        DistrictPlan(f"{CITY_CODE}{d:02d}", name, population, rural)
        for d, (name, population, rural) in enumerate(DISTRICTS, start=1)
    ]
    return build(random.Random(CITY_SEED), plans, Lexicon(), (CENTRE_LAT, CENTRE_LON))


def build(
    rng: random.Random,
    districts: list[DistrictPlan],
    lexicon: Lexicon,
    centre: tuple[float, float],
    name: str = CITY,
) -> City:
    """A city of ``districts``: streets (unless given), communities, grids and what residents name there."""
    names = _Names(rng, lexicon.roots)
    grids: list[Grid] = []
    for district in districts:
        streets = district.streets or [
            StreetPlan("", "", people, district.rural)
            for people in _split(rng, district.population, PEOPLE_PER_STREET[district.rural])
        ]
        for s, plan in enumerate(streets, start=1):
            rural = plan.rural
            street_code = plan.code or f"{district.code}{s:03d}"
            street = plan.name or names.take(
                ["镇"] if rural else ["街道"], roots=1 if rng.random() < 0.5 else 2
            )
            names.used.add(street)  # a given name too: no compound or road may take it
            main_road = names.take(lexicon.main_road_suffixes)
            river = names.take(lexicon.river_suffixes, roots=1)
            people = _split(rng, plan.people, PEOPLE_PER_COMMUNITY[rural])
            for c, community_people in enumerate(people, start=1):
                community_code = f"{street_code}{c:03d}"
                community = names.take(["村"] if rural else ["社区"], roots=1 if rng.random() < 0.3 else 2)
                roads = (
                    main_road,
                    *(
                        names.take(lexicon.road_suffixes, _stems(rng, lexicon))
                        for _ in range(rng.randint(1, 3))
                    ),
                )
                school = names.take(lexicon.school_kinds)
                for g, grid_people in enumerate(_split(rng, community_people, PEOPLE_PER_GRID[rural]), 1):
                    if rural:  # a village grid is one or two of its numbered groups (村民小组)
                        compounds = tuple(f"{community[:-1]}{_GROUPS[2 * g - 2 + k]}组" for k in range(2))
                    else:
                        compounds = tuple(
                            names.take(lexicon.compound_suffixes, _stems(rng, lexicon))
                            for _ in range(rng.randint(1, 2))
                        )
                    index = len(grids)
                    grids.append(
                        Grid(
                            district_code=district.code,
                            district=district.name,
                            street_code=street_code,
                            street=street,
                            community_code=community_code,
                            community=community,
                            grid_code=f"{community_code}{g:03d}",
                            rural=rural,
                            compounds=compounds,
                            roads=tuple(rng.sample(roads, min(2, len(roads)))),
                            river=river,
                            main_road=main_road,
                            school=school,
                            shop=names.take(lexicon.shop_kinds),
                            firm=names.take(lexicon.firm_kinds),
                            lat=round(centre[0] + ((index // 48) - 23) * 0.004 + rng.uniform(0, 0.003), 6),
                            lon=round(centre[1] + ((index % 48) - 24) * 0.005 + rng.uniform(0, 0.004), 6),
                            households=max(60, int(grid_people / 2.6)),
                        )
                    )
    return City(grids, name=name)
