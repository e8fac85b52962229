"""A city's category list: the default taxonomy of ``vocab``, or a seeded renaming and subset of it.

Real cities file 12345 appeals under their own lists: the same problems under other level names, other
code schemes and without some categories. A random city draws such a list from the default one. Every
category keeps its ``origin`` (the default code), so the generator's own habits (which department handles
it, which grid services and disputes fall under it) still find it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from ingestion.generate import vocab

# Other names real lists use for the same level-1 and level-2 groups and level-3 categories.
LEVEL1_NAMES = {
    "城乡建设": ["城市管理", "住房城乡建设", "城建管理"],
    "环境保护": ["生态环境", "环境保护与治理"],
    "交通运输": ["交通出行", "交通管理"],
    "教育文体": ["教育体育", "教育文化"],
    "劳动和社会保障": ["人力资源和社会保障", "就业社保"],
    "商贸旅游": ["市场监管", "经济管理"],
    "卫生计生": ["卫生健康", "医疗卫生"],
    "社会治理": ["平安建设", "基层治理"],
}
LEVEL2_NAMES = {
    "物业管理": ["物业服务管理", "住宅小区管理"],
    "市政设施": ["市政公用设施", "市政管理"],
    "违法建设": ["违章建筑", "违建查处"],
    "供水供电供气": ["水电气", "公用事业"],
    "噪声污染": ["噪音扰民", "噪声"],
    "环境卫生": ["市容环卫", "环卫"],
    "停车管理": ["静态交通", "停车"],
    "矛盾纠纷": ["纠纷调解", "矛盾调处"],
}
LEVEL3_NAMES = {
    "物业服务": ["物业服务质量"],
    "电梯故障": ["电梯安全", "电梯维修"],
    "路灯不亮": ["路灯故障", "路灯维修"],
    "道路破损": ["路面破损", "道路维修"],
    "井盖缺失": ["井盖破损", "窨井盖问题"],
    "排水不畅": ["下水道堵塞", "排水管网"],
    "违章搭建": ["私搭乱建", "违法建筑"],
    "占用公共空间": ["占用公共部位", "侵占公共区域"],
    "施工噪音": ["建筑施工噪声", "施工扰民"],
    "商业噪音": ["社会生活噪声", "经营噪音"],
    "油烟扰民": ["餐饮油烟", "油烟污染"],
    "垃圾清运": ["垃圾收运", "生活垃圾清运"],
    "乱停车": ["违规停车", "违停"],
    "消防通道堵塞": ["消防通道占用", "堵塞消防通道"],
    "占道经营": ["流动摊贩", "违规占道"],
    "犬只扰民": ["养犬管理", "文明养犬"],
}
# Objects at landmarks, which another city's residents also name (by default category code).
LANDMARK_OBJECTS = {
    "01.02.01": "{park}路灯",
    "02.01.02": "{park}广场舞",
    "02.03.01": "{market}垃圾站",
    "02.03.03": "{park}公厕 {metro}公厕",
    "03.01.01": "{metro}出口 {market}门口",
    "04.02.01": "{park}健身器材",
    "06.01.01": "{market}门口 {metro}出口",
    "06.01.03": "{market}熟食摊",
}
# Categories the generator's grid services, disputes and neighbour pairs use: a city never drops them.
_KEPT = {c for pair in vocab.NEIGHBOURS for c in pair} | {
    "05.02.01",
    "05.02.02",
    "05.03.01",
    "05.03.02",
    "01.03.02",
    "08.01.01",
    "08.01.02",
}


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[vocab.Category, ...]
    neighbours: tuple[tuple[str, str], ...]  # pairs operators confuse, by this list's codes
    by_code: dict[str, vocab.Category] = field(default_factory=dict)
    by_origin_path: dict[str, vocab.Category] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_code.update({c.code: c for c in self.categories})
        default_paths = {c.code: c.path for c in vocab.CATEGORIES}
        self.by_origin_path.update({default_paths[c.origin or c.code]: c for c in self.categories})

    def path_of(self, default_path: str) -> str:
        """This list's path for a category of the default list (grid services and disputes name those)."""
        return self.by_origin_path[default_path].path


def default_taxonomy() -> Taxonomy:
    return Taxonomy(tuple(vocab.CATEGORIES), tuple(vocab.NEIGHBOURS))


def _code_scheme(rng: random.Random):
    """How this city writes a category code from its three positions (1-based)."""
    schemes = [
        lambda a, b, c: f"{a:02d}{b:02d}{c:02d}",
        lambda a, b, c: f"{a}{b:02d}{c:03d}",
        lambda a, b, c: f"{chr(64 + a)}{b:02d}{c:02d}",
        lambda a, b, c: f"{a:02d}-{b:02d}-{c:02d}",
    ]
    return rng.choice(schemes)


def _rename(rng: random.Random, name: str, names: dict[str, list[str]], rate: float) -> str:
    return rng.choice(names[name]) if name in names and rng.random() < rate else name


def random_taxonomy(rng: random.Random) -> Taxonomy:
    """A renamed, reordered and reduced copy of the default list, with a code scheme of its own."""
    scheme = _code_scheme(rng)
    kept = [c for c in vocab.CATEGORIES if c.code in _KEPT or rng.random() > 0.15]
    level1_order = list(dict.fromkeys(c.path.split("/")[0] for c in kept))
    rng.shuffle(level1_order)
    level1_names = {n: _rename(rng, n, LEVEL1_NAMES, 0.7) for n in level1_order}
    level2_names = {n: _rename(rng, n, LEVEL2_NAMES, 0.5) for n in LEVEL2_NAMES}
    categories = []
    codes = {}
    for a, level1 in enumerate(level1_order, start=1):
        groups = list(dict.fromkeys(c.path.split("/")[1] for c in kept if c.path.startswith(level1 + "/")))
        for b, level2 in enumerate(groups, start=1):
            members = [c for c in kept if c.path.startswith(f"{level1}/{level2}/")]
            for n, category in enumerate(members, start=1):
                level3 = _rename(rng, category.level3, LEVEL3_NAMES, 0.6)
                path = f"{level1_names[level1]}/{level2_names.get(level2, level2)}/{level3}"
                code = scheme(a, b, n)
                codes[category.code] = code
                objects = category.objects + tuple(LANDMARK_OBJECTS.get(category.code, "").split())
                categories.append(
                    replace(
                        category, code=code, path=path, level3=level3, origin=category.code, objects=objects
                    )
                )
    neighbours = tuple((codes[a], codes[b]) for a, b in vocab.NEIGHBOURS)
    return Taxonomy(tuple(categories), neighbours)
