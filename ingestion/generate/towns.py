"""Other cities than 云州市: districts and streets drawn from the national division list, or composed.

A random city is a function of its seed. With a copy of the national division list (``cn_divisions``:
``cities.csv``, ``areas.csv``, ``streets.csv``) it is a real prefecture-level city's districts and
streets, codes included, so that loading that list later reconciles with what the exports named;
without one it composes district and street names itself. Communities, grids, compounds, roads, schools,
shops and firms are always invented, from stems the default city never uses, so names do not overlap
with 云州市 beyond chance. The lexicon (which suffixes compounds and roads take) varies with the seed.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from gridline.errors import GridlineError
from ingestion.generate.address import AddressStyle, house_number, random_style
from ingestion.generate.city import (
    PEOPLE_PER_STREET,
    City,
    DistrictPlan,
    Grid,
    Lexicon,
    StreetPlan,
    build,
)

# Two-character stems for invented names; the default city's stems are removed below.
_STEMS = str.split(
    "嘉禾 丰泽 瑞祥 泰和 康乐 怡景 御景 君悦 香榭 雅荷 盛和 福临 瑞丰 同德 广济 崇文 尚德 育英 启明 昌盛 "
    "宏图 鸿运 隆昌 祥和 永丰 宝华 德润 恒通 益民 惠民 新安 安居 乐业 宜家 悦来 通达 聚贤 集贤 文昌 文华 "
    "书香 翰林 墨池 砚山 观澜 听涛 望湖 揽月 凌云 青云 白云 彩云 紫云 祥云 碧云 翠湖 翠屏 翠竹 绿洲 绿野 "
    "芳草 兰桂 蕙兰 丁香 紫薇 合欢 木棉 凤栖 鹿鸣 鹤林 鹭洲 燕园 莺歌 锦华 锦程 锦里 华章 华林 华苑 金茂 "
    "金鼎 金穗 金谷 金湾 银湾 玉泉 玉带 玉屏 石门 石桥 石泉 铜山 龙湖 龙腾 龙岗 虎山 狮山 象山 马鞍 鹅岭 "
    "莲花 菊园 梅园 桃李 杨柳 松林 柏林 槐荫 桑园 枣园 茶园 茶山 竹溪 兰溪 柳林 杉木 樟树 榕树 楠木 椰林 "
    "东方 南山 北辰 中和 东兴 西华 南苑 北苑 东盛 南屏 北塘 上林 下沙 前洲 后湖 新城 新港 新塘 古井 高桥 "
    "高坪 平湖 平川 长岭 长滩 长兴 清河 清泉 清源 源泉 汇通 汇丰 荣华 荣昌 富康 富源 裕华 裕丰 丰收 丰乐 "
    "双桥 三元 四方 五里 六合 七星 八一 九龙 十里 百花 千禧 万福 万寿 万隆 红星 红光 朝晖 晓园 映月 望月 "
    "云台 云峰 云溪 雪松 霞光 彩虹 春晖 夏荷 秋枫 冬青 和顺 和美 和谐 吉祥 如意 康宁 安澜 宁远 远航 博雅"
)
STEMS = tuple(s for s in dict.fromkeys(_STEMS) if s not in set(Lexicon().roots))
COMPOUND_SUFFIXES = str.split(
    "小区 花园 苑 家园 公寓 雅居 新村 华庭 府 公馆 名都 城 湾 里 坊 山庄 嘉园 佳苑 水岸 一品 新城 广场"
)
_ROAD_SUFFIXES = str.split("路 街 大街 巷 东路 西路 南路 北路 中路 一路 二路")
_MAIN_ROAD_SUFFIXES = str.split("大道 大街 中路 公路")
_RIVER_SUFFIXES = str.split("河 港 渠 溪 江 浦 塘")
_SCHOOL_KINDS = str.split("小学 中学 幼儿园 实验学校 第一小学 初级中学")
_SHOP_KINDS = str.split("超市 便利店 健身房 美容店 母婴店 家电城 药房 水果店 烟酒行 五金店")
_FIRM_KINDS = str.split(
    "建筑工程有限公司 物流有限公司 餐饮管理有限公司 商贸有限公司 科技有限公司 实业有限公司 建材有限公司 "
    "物业服务有限公司 劳务有限公司"
)
PEOPLE_BOUNDS = (900_000, 2_000_000)


def _lexicon(rng: random.Random) -> Lexicon:
    def some(pool: list[str], low: int) -> tuple[str, ...]:
        return tuple(rng.sample(pool, rng.randint(low, len(pool))))

    return Lexicon(
        roots=tuple(rng.sample(STEMS, int(len(STEMS) * 0.8))),
        compound_suffixes=some(COMPOUND_SUFFIXES, 6),
        road_suffixes=some(_ROAD_SUFFIXES, 3),
        main_road_suffixes=some(_MAIN_ROAD_SUFFIXES, 1),
        river_suffixes=some(_RIVER_SUFFIXES, 2),
        school_kinds=some(_SCHOOL_KINDS, 3),
        shop_kinds=some(_SHOP_KINDS, 5),
        firm_kinds=some(_FIRM_KINDS, 4),
        short_names=rng.uniform(0.2, 0.5),
    )


def _street_people(rng: random.Random, rural: bool) -> int:
    return int(PEOPLE_PER_STREET[rural] * rng.uniform(0.7, 1.3))


def _composed_districts(rng: random.Random, lexicon: Lexicon) -> tuple[str, list[DistrictPlan]]:
    """A city name and districts whose names and codes are invented (codes in a range no province uses)."""
    stems = rng.sample(lexicon.roots, 12)
    name = stems.pop() + "市"
    code = f"9{rng.randint(100, 999)}"
    target = rng.randint(*PEOPLE_BOUNDS)
    plans: list[DistrictPlan] = []
    people = 0
    while people < target:
        rural = len(plans) >= 3 and rng.random() < 0.3
        stem = stems.pop()
        population = int(rng.uniform(120_000, 330_000) * (0.6 if rural else 1))
        plans.append(
            DistrictPlan(f"{code}{len(plans) + 1:02d}", stem + ("县" if rural else "区"), population, rural)
        )
        people += population
    return name, plans


def _read(path: Path, columns: set[str]) -> list[dict[str, str]]:
    """Rows of one file of the division list, which must have ``columns``."""
    if not path.is_file():
        raise GridlineError(f"the division list has no {path.name} in {path.parent}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = columns - set(reader.fieldnames or ())
            if missing:
                raise GridlineError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
            return list(reader)
    except (UnicodeDecodeError, OSError, csv.Error) as error:
        raise GridlineError(f"cannot read {path} as a UTF-8 CSV file: {error}") from error


def _real_districts(rng: random.Random, divisions: Path) -> tuple[str, list[DistrictPlan]]:
    """A real city's name and a sample of its districts, each with a sample of its real streets."""
    provinces = {r["code"]: r["name"] for r in _read(divisions / "provinces.csv", {"code", "name"})}
    cities = {r["code"]: r for r in _read(divisions / "cities.csv", {"code", "name", "provinceCode"})}
    districts = defaultdict(list)
    for row in _read(divisions / "areas.csv", {"code", "name", "cityCode"}):
        districts[row["cityCode"]].append(row)
    streets = defaultdict(list)
    for row in _read(divisions / "streets.csv", {"code", "name", "areaCode"}):
        streets[row["areaCode"]].append(row)
    # Cities with at least four districts of four streets or more and forty streets in all: a city of a
    # million people or more.
    candidates = sorted(
        code
        for code, rows in districts.items()
        if code in cities
        and sum(len(streets[r["code"]]) >= 4 for r in rows) >= 4
        and sum(len(streets[r["code"]]) for r in rows) >= 40
    )
    if not candidates:
        raise GridlineError(f"no city in {divisions} has four districts with streets")
    code = rng.choice(candidates)
    name = cities[code]["name"]
    if name in ("市辖区", "县") or name.endswith("直辖县级行政区划"):  # placeholders, not a city's name
        name = provinces.get(cities[code]["provinceCode"], name)
    usable = [r for r in districts[code] if len(streets[r["code"]]) >= 4]
    chosen = sorted(rng.sample(usable, min(len(usable), rng.randint(4, 8))), key=lambda r: r["code"])
    plans = []
    for row in chosen:
        own = streets[row["code"]]
        picked = sorted(rng.sample(own, min(len(own), rng.randint(4, 10))), key=lambda r: r["code"])
        street_plans = []
        for street in picked:
            rural = street["name"].endswith(("镇", "乡"))  # towns and townships hold villages
            street_plans.append(StreetPlan(street["code"], street["name"], _street_people(rng, rural), rural))
        rural_district = sum(s.rural for s in street_plans) * 2 > len(street_plans)
        plans.append(
            DistrictPlan(
                row["code"],
                row["name"],
                sum(s.people for s in street_plans),
                rural_district,
                tuple(street_plans),
            )
        )
    return name, plans


def _with_landmarks(rng: random.Random, town: City, lexicon: Lexicon) -> list[Grid]:
    """Parks and markets for most urban communities, a market for each town, metro stations in a city
    that has a metro (on most urban streets, numbered lines)."""
    used = {n for g in town.grids for n in (*g.compounds, *g.roads, g.river, g.school, g.shop, g.firm)}

    def unique(make: Callable[[], str]) -> str:
        while (name := make()) in used:
            pass
        used.add(name)
        return name

    def stem() -> str:
        return "".join(rng.sample(lexicon.roots, rng.choice((1, 1, 2))))

    lines = rng.randint(2, 6) if rng.random() < 0.6 else 0
    by_street: dict[str, tuple[str, str]] = {}
    for code, grids in town.streets.items():
        rural = grids[0].rural
        metro = ""
        if lines and not rural and rng.random() < 0.6:
            metro = unique(lambda: f"地铁{rng.randint(1, lines)}号线{stem()}站")
        market = ""
        if rural:  # named for its town; two towns of one name (城关镇) are told apart by their county
            market = f"{grids[0].street[:-1]}集贸市场"
            market = f"{grids[0].district[:-1]}{market}" if market in used else market
            used.add(market)
        by_street[code] = (metro, market)
    landmarks: dict[str, tuple[str, str, str]] = {}
    for code, grids in town.communities.items():
        metro, market = by_street[grids[0].street_code]
        park = ""
        if not grids[0].rural:
            if rng.random() < 0.7:
                park = unique(lambda: stem() + rng.choice(["公园", "游园", "湿地公园", "体育公园"]))
            if rng.random() < 0.6:
                market = unique(lambda: stem() + rng.choice(["农贸市场", "菜市场", "生鲜市场"]))
        landmarks[code] = (park, market, metro)
    return [
        replace(g, park=p, market=m, metro=s) for g in town.grids for p, m, s in [landmarks[g.community_code]]
    ]


def random_city(seed: int, divisions: Path | None = None) -> tuple[City, AddressStyle, random.Random]:
    """The city of ``seed``: its places, its address habit, and the random stream it continues with."""
    rng = random.Random(f"gridline city {seed}")
    lexicon = _lexicon(rng)
    if divisions is None:
        name, plans = _composed_districts(rng, lexicon)
    else:
        name, plans = _real_districts(rng, Path(divisions))
    centre = (round(rng.uniform(23.0, 40.0), 4), round(rng.uniform(104.0, 121.0), 4))
    town = build(rng, plans, lexicon, centre, name)
    style, form = random_style(rng, name)
    grids = _with_landmarks(rng, town, lexicon)
    grids = [
        replace(
            g, compound_addresses=tuple(house_number(rng, rng.choice(g.roads), form) for _ in g.compounds)
        )
        for g in grids
    ]
    return City(grids, name=name), style, rng
