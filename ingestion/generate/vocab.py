"""What residents and grid workers write: the category taxonomy with its objects and problems, and phrasing.

Each category lists the *objects* an appeal names (templates over a grid's buildings, gates and roads, e.g.
``{b}栋电梯``) and its *problems*, each a group of synonymous phrasings (``经常停运`` / ``三天两头停``). A
specific problem is one object instance plus one problem group: a planted class repeats that pair with a
different phrasing each time, a background appeal draws a fresh pair.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ingestion.generate.city import Grid


@dataclass(frozen=True)
class Category:
    code: str
    path: str
    level3: str
    objects: tuple[str, ...]
    problems: tuple[tuple[str, ...], ...]
    placed: bool = True  # does the appeal name a place where a problem can recur?
    weight: float = 1.0  # relative frequency among appeals
    origin: str = ""  # the default list's code when this is another city's renaming of it


def _cat(code, path, objects, problems, placed=True, weight=1.0) -> Category:
    return Category(
        code,
        path,
        path.rsplit("/", 1)[-1],
        tuple(objects.split()),
        tuple(tuple(p.split()) for p in problems),
        placed,
        weight,
    )


# The demo city's taxonomy, its one home: the generator writes <out>/reference/categories.csv from it.
CATEGORIES = [
    _cat(
        "01.01.01",
        "城乡建设/物业管理/物业服务",
        "{b}栋楼道 小区绿化带 {b}栋电梯厅 {gate}岗亭周边",
        ["长期没人打扫 卫生没人管 保洁半个月不来一次", "杂物堆积物业不管 脏乱差无人处理 报修多次物业不理"],
        weight=6,
    ),
    _cat(
        "01.01.02",
        "城乡建设/物业管理/物业收费",
        "物业费 停车管理费 公摊水电费",
        ["乱涨价 比去年多收了不少 无故上调收费", "收费标准不透明 收支明细不公示 账目不公开"],
        weight=3,
    ),
    _cat(
        "01.01.03",
        "城乡建设/物业管理/电梯故障",
        "{b}栋电梯 {b}号楼{u}单元电梯",
        ["经常停运 三天两头停 动不动就坏", "困人 把人困在里面 关人", "运行时异响 有异常响声 晃得厉害"],
        weight=3,
    ),
    _cat(
        "01.02.01",
        "城乡建设/市政设施/路灯不亮",
        "{gate}路灯 {road}路灯 {b}栋旁路灯",
        ["晚上不亮 一直不亮 坏了很久不亮", "忽明忽暗 一闪一闪的"],
        weight=3,
    ),
    _cat(
        "01.02.02",
        "城乡建设/市政设施/道路破损",
        "{road}路面 {gate}出口路面 小区主干道",
        ["坑洼不平 破损严重 坑坑洼洼", "塌陷 出现下陷"],
        weight=2.5,
    ),
    _cat(
        "01.02.03",
        "城乡建设/市政设施/井盖缺失",
        "{road}井盖 {gate}井盖 {b}栋旁污水井盖",
        ["缺失 不见了 被偷了", "破损松动 踩上去晃动 碎了一角"],
        weight=1,
    ),
    _cat(
        "01.02.04",
        "城乡建设/市政设施/排水不畅",
        "{road}下水道 {b}栋化粪池 {gate}雨水口",
        ["堵塞外溢 堵了往外冒水 污水横流", "下雨积水严重 一下雨就积水 积水过膝"],
        weight=2.5,
    ),
    _cat(
        "01.03.01",
        "城乡建设/违法建设/违章搭建",
        "{b}栋楼顶 {b}栋一楼院子 {gate}附近",
        ["有人私自搭建彩钢棚 违建阳光房 私搭乱建"],
        weight=2,
    ),
    _cat(
        "01.03.02",
        "城乡建设/违法建设/占用公共空间",
        "{b}栋楼道 {b}栋消防楼梯 小区公共绿地",
        ["堆放杂物 被私人占用堆东西 堆满了旧家具"],
        weight=2,
    ),
    _cat(
        "01.04.01",
        "城乡建设/供水供电供气/停水",
        "{b}栋 {b}号楼 小区{gate}一带",
        ["无故停水 停水没有通知 经常停水", "水压太低 水压不够楼上没水"],
        weight=2,
    ),
    _cat(
        "01.04.02",
        "城乡建设/供水供电供气/停电",
        "{b}栋 小区{gate}一带 {road}沿街商铺",
        ["频繁停电 经常跳闸停电 隔三差五停电"],
        weight=1.5,
    ),
    _cat(
        "01.04.03",
        "城乡建设/供水供电供气/燃气安全",
        "{b}栋燃气管道 {road}燃气管",
        ["有燃气味 闻到煤气味 疑似漏气"],
        weight=0.7,
    ),
    _cat(
        "02.01.01",
        "环境保护/噪声污染/施工噪音",
        "{road}工地 小区旁边工地 {road}地铁施工",
        ["夜间施工噪音扰民 晚上十点后还在施工 半夜打桩"],
        weight=4,
    ),
    _cat(
        "02.01.02",
        "环境保护/噪声污染/商业噪音",
        "{gate}广场舞 {road}KTV {road}酒吧 {gate}商铺音响",
        ["噪音太大 声音太吵 音响开得震天响"],
        weight=3,
    ),
    _cat(
        "02.02.01",
        "环境保护/大气污染/油烟扰民",
        "{road}烧烤店 {b}栋楼下餐馆 {gate}小吃店",
        ["油烟直排 油烟呛人 排烟对着居民窗户"],
        weight=2,
    ),
    _cat(
        "02.02.02",
        "环境保护/大气污染/扬尘污染",
        "{road}工地 {road}渣土车",
        ["扬尘严重 灰尘漫天 没有覆盖遮挡"],
        weight=1,
    ),
    _cat(
        "02.03.01",
        "环境保护/环境卫生/垃圾清运",
        "{gate}垃圾站 {b}栋垃圾桶 {road}垃圾点",
        ["垃圾堆积未清运 垃圾几天没人收 满了没人清", "臭气熏天 发臭"],
        weight=4,
    ),
    _cat(
        "02.03.02",
        "环境保护/环境卫生/垃圾分类",
        "{gate}分类投放点 {b}栋分类垃圾桶",
        ["分类桶混装 分类形同虚设 投放点无人督导"],
        weight=1,
    ),
    _cat(
        "02.03.03",
        "环境保护/环境卫生/公厕管理",
        "{road}公厕 {gate}公共厕所",
        ["脏乱差 卫生太差 臭味大没人打扫", "锁门不开放 白天也关着"],
        weight=0.8,
    ),
    _cat(
        "02.04.01",
        "环境保护/水污染/河道污染",
        "{river} {river}排污口",
        ["水体发黑发臭 河水又黑又臭 臭味很重", "有污水直排 排污口往河里排污水"],
        weight=0.6,
    ),
    _cat(
        "03.01.01",
        "交通运输/停车管理/乱停车",
        "{gate} {road}人行道 {b}栋门口",
        ["车辆乱停乱放 车停得乱七八糟 私家车占道停放"],
        weight=4,
    ),
    _cat(
        "03.01.02",
        "交通运输/停车管理/停车位不足",
        "小区 {road}周边",
        ["停车位严重不足 停车难 晚上没地方停车"],
        weight=1.5,
    ),
    _cat(
        "03.02.01",
        "交通运输/公共交通/公交线路",
        "{road}公交站 {n}路公交",
        ["班次太少 等车时间太长 半小时等不来一班"],
        weight=1,
    ),
    _cat(
        "03.02.02",
        "交通运输/公共交通/出租车服务",
        "{road}出租车",
        ["拒载 绕路多收费 不打表"],
        placed=False,
        weight=0.8,
    ),
    _cat(
        "03.03.01",
        "交通运输/交通设施/信号灯故障",
        "{road}路口红绿灯 {road}路口信号灯",
        ["坏了不亮 一直不亮 一直闪黄灯", "绿灯时间太短 时间设置不合理 行人来不及过马路"],
        weight=0.8,
    ),
    _cat(
        "03.03.02",
        "交通运输/交通设施/非机动车道占用",
        "{road}非机动车道",
        ["被汽车占用 停满了车 被机动车长期占用"],
        weight=1,
    ),
    _cat(
        "04.01.01",
        "教育文体/学校教育/入学咨询",
        "{school}",
        ["入学划片政策咨询 学位是否够 报名材料怎么准备"],
        placed=False,
        weight=1.5,
    ),
    _cat(
        "04.01.02",
        "教育文体/学校教育/校外培训",
        "{road}培训机构",
        ["预收费后跑路 退费难 违规办学"],
        placed=False,
        weight=0.8,
    ),
    _cat(
        "04.02.01",
        "教育文体/文体设施/健身器材损坏",
        "小区健身区 {gate}健身器材 {road}健身路径",
        ["器材损坏 健身器材坏了 器材断裂有安全隐患"],
        weight=1,
    ),
    _cat(
        "05.01.01",
        "劳动和社会保障/劳动关系/拖欠工资",
        "{firm} {road}工地",
        ["拖欠工资 欠薪不发 几个月没发工资"],
        placed=False,
        weight=2,
    ),
    _cat(
        "05.01.02", "劳动和社会保障/劳动关系/劳动合同", "{firm}", ["不签劳动合同 违法解除合同"], placed=False
    ),
    _cat(
        "05.02.01",
        "劳动和社会保障/社会保险/养老保险",
        "养老保险",
        ["缴费年限咨询 断缴怎么补 转移接续问题"],
        placed=False,
        weight=1.5,
    ),
    _cat(
        "05.02.02",
        "劳动和社会保障/社会保险/医疗保险",
        "医保",
        ["异地就医报销 报销比例咨询 医保卡激活"],
        placed=False,
        weight=1.5,
    ),
    _cat(
        "05.03.01",
        "劳动和社会保障/社会救助/低保申请",
        "低保",
        ["申请进度慢 申请被拒有异议 审核条件咨询"],
        placed=False,
    ),
    _cat(
        "05.03.02",
        "劳动和社会保障/社会救助/养老服务",
        "社区养老服务站 {b}栋独居老人",
        ["服务不到位 没人管 长期无人照看"],
        weight=1,
    ),
    _cat(
        "06.01.01",
        "商贸旅游/市场监管/占道经营",
        "{gate} {road} {school}门口",
        ["流动摊贩占道经营 小摊贩摆摊堵路 早市占道"],
        weight=2.5,
    ),
    _cat(
        "06.01.02",
        "商贸旅游/市场监管/消费纠纷",
        "{shop}",
        ["预付卡不退款 商品质量问题不退换 价格欺诈"],
        placed=False,
        weight=2,
    ),
    _cat(
        "06.01.03",
        "商贸旅游/市场监管/食品安全",
        "{road}小餐馆 {shop}",
        ["卫生条件差 后厨脏乱 卫生脏乱差", "售卖过期食品 卖过期变质食品"],
        weight=1,
    ),
    _cat(
        "07.01.01",
        "卫生计生/医疗服务/医院服务",
        "区人民医院 市中医院",
        ["挂号难 服务态度差 排队时间太长"],
        placed=False,
        weight=1,
    ),
    _cat(
        "07.01.02",
        "卫生计生/公共卫生/病媒防治",
        "{b}栋地下室 {gate}垃圾站 小区绿化带",
        ["老鼠成群 老鼠很多 老鼠到处窜"],
        weight=1,
    ),
    _cat(
        "08.01.01",
        "社会治理/矛盾纠纷/邻里纠纷",
        "{b}栋{u}单元楼上楼下 {b}栋邻居",
        ["漏水协商不成 楼上漏水到楼下谈不拢 因漏水闹矛盾", "噪音纠纷 楼上太吵引发矛盾"],
        weight=2,
    ),
    _cat("08.01.02", "社会治理/矛盾纠纷/家庭纠纷", "{b}栋住户", ["家庭矛盾 赡养纠纷 婚姻纠纷"], placed=False),
    _cat(
        "08.02.01",
        "社会治理/公共安全/消防通道堵塞",
        "{b}栋消防通道 {gate}消防通道",
        ["被车辆堵塞 被私家车堵死 停满了车", "被杂物堵塞 堆满杂物 杂物长期占着"],
        weight=1.5,
    ),
    _cat(
        "08.02.02",
        "社会治理/公共安全/高空抛物",
        "{b}栋",
        ["有人高空抛物 楼上往下扔垃圾 高空坠物"],
        weight=0.8,
    ),
    _cat(
        "08.03.01",
        "社会治理/宠物管理/犬只扰民",
        "{b}栋 小区{gate}",
        ["遛狗不牵绳 遛狗不拴绳 大狗不牵绳吓人", "狗叫扰民 狗整夜叫 狗叫声吵得睡不着"],
        weight=1.5,
    ),
]
BY_CODE = {c.code: c for c in CATEGORIES}
# Pairs operators confuse: one problem may be filed under either category of a pair.
NEIGHBOURS = [
    ("03.01.01", "08.02.01"),  # cars parked in the fire lane: 乱停车 or 消防通道堵塞
    ("02.03.01", "02.03.02"),  # rubbish point: 垃圾清运 or 垃圾分类
    ("06.01.01", "01.03.02"),  # stalls: 占道经营 or 占用公共空间
    ("01.01.01", "01.01.03"),  # the lift: 物业服务 or 电梯故障
    ("02.01.01", "02.02.02"),  # the building site: 施工噪音 or 扬尘污染
]
GATES = ["东门", "西门", "南门", "北门", "正门", "后门"]
LANDMARKS = ("park", "market", "metro")
# Placeholders of things a community or street shares, so a class there can span its grids.
SHARED = ("{road}", "{river}", "{park}", "{market}", "{metro}")

OPENERS = ["市民来电反映：", "来电人反映，", "居民反映", "市民称", "群众来电：", "来电人称，", "", ""]
SINCE = [
    "最近一周",
    "已经持续半个月",
    "这几天",
    "从上个月开始",
    "近期",
    "有一段时间了",
    "今天早上",
    "每天晚上",
]
DETAILS = [
    "影响老人孩子出行",
    "居民意见很大",
    "存在安全隐患",
    "多次反映未解决",
    "晚上尤其严重",
    "已找过物业没有用",
    "周边住户都受影响",
    "下雨天更严重",
]
ASKS = [
    "希望尽快处理。",
    "请相关部门核实解决。",
    "要求尽快维修。",
    "诉求人要求给个说法。",
    "希望能彻底解决。",
    "请尽快派人查看。",
]
WORKER_ACTIONS = ["已现场处置", "已上报街道", "已通知物业", "已拍照上报", "正在协调处理", "已联系相关单位"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玉兰志文斌鹏辉"


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


@dataclass(frozen=True)
class Problem:
    """One specific problem: where (a compound or road of a grid) and what (an object and a problem group)."""

    category: Category
    place: str
    obj: str
    group: int

    @property
    def key(self) -> tuple[str, str]:
        """What makes two appeals 'the same problem' in the truth: category, place and object."""
        return (self.category.code, self.place + self.obj)


def draw_object(
    rng: random.Random, category: Category, grid: Grid, wide: bool = False, road: str | None = None
) -> tuple[str, str]:
    """(place, object) for an appeal in ``grid``; ``wide`` picks objects on roads shared by a community."""
    templates = category.objects
    if any("{" + k + "}" in t for t in templates for k in LANDMARKS):
        # Only the landmarks this grid has: not every community has a park, nor every city a metro.
        templates = tuple(
            t for t in templates if all(getattr(grid, k) for k in LANDMARKS if "{" + k + "}" in t)
        )
    if wide:
        road_like = [t for t in templates if any(k in t for k in SHARED)]
        templates = tuple(road_like) or templates
    template = rng.choice(templates)
    obj = template.format(
        b=rng.randint(1, 36),
        u=rng.randint(1, 4),
        n=rng.randint(1, 600),
        gate=rng.choice(GATES),
        road=road or rng.choice(grid.roads),
        river=grid.river,
        school=grid.school,
        shop=grid.shop,
        firm=grid.firm,
        park=grid.park,
        market=grid.market,
        metro=grid.metro,
    )
    # Objects on roads, rivers and landmarks are named by themselves; the others sit in a compound.
    wide_object = any(k in template for k in (*SHARED, "{school}", "{shop}", "{firm}"))
    place = "" if wide_object or not category.placed else rng.choice(grid.compounds)
    return place, obj


def resident_text(rng: random.Random, problem: Problem) -> str:
    """A resident's description of ``problem``: a fresh paraphrase each time."""
    phrasing = rng.choice(problem.category.problems[problem.group])
    where = problem.place + problem.obj
    since, detail, ask = rng.choice(SINCE), rng.choice(DETAILS), rng.choice(ASKS)
    shape = rng.randrange(5)
    if shape == 0:
        text = f"{rng.choice(OPENERS)}{where}{phrasing}，{detail}，{ask}"
    elif shape == 1:
        text = f"{rng.choice(OPENERS)}{since}{where}{phrasing}，{ask}"
    elif shape == 2:
        text = f"{since}，{problem.place or '这里'}的{problem.obj}{phrasing}，{detail}。{ask}"
    elif shape == 3 and problem.place:
        text = f"{rng.choice(OPENERS)}{problem.obj}{phrasing}（{problem.place}），{since}都这样，{ask}"
    elif shape == 4:
        text = f"关于{where}{phrasing}的问题：{detail}，{since}反映过，{ask}"
    else:
        text = f"{rng.choice(OPENERS)}{where}{phrasing}，{since}一直没人管，{ask}"
    return text


def resident_title(rng: random.Random, problem: Problem, names_place: bool = False) -> str:
    phrasing = problem.category.problems[problem.group][0]
    if names_place and problem.place:  # the caller gave no address: the title says where
        return rng.choice(
            [f"{problem.place}{problem.obj}{phrasing}", f"反映{problem.place}{problem.obj}问题"]
        )
    return rng.choice(
        [f"{problem.obj}{phrasing}", f"{problem.category.level3}问题", f"反映{problem.obj}问题"]
    )


def worker_text(rng: random.Random, problem: Problem) -> str:
    """A grid worker's report of ``problem`` found on a round."""
    phrasing = rng.choice(problem.category.problems[problem.group])
    where = problem.place + problem.obj
    return rng.choice(
        [
            f"巡查发现{where}{phrasing}，{rng.choice(WORKER_ACTIONS)}。",
            f"网格巡查：{where}{phrasing}，{rng.choice(DETAILS)}，{rng.choice(WORKER_ACTIONS)}。",
            f"居民向网格员反映{where}{phrasing}，{rng.choice(WORKER_ACTIONS)}。",
        ]
    )


def contact_note(rng: random.Random, name: str, number: str) -> str:
    """The personal data residents leave in free text."""
    return rng.choice(
        [
            f"联系人{name}，电话{number}。",
            f"来电人{name[0]}先生留电话{number}。",
            f"请回电{number}（{name}）。",
            f"我是{name}，手机{number}，",
        ]
    )
