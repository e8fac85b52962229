"""Rebuild the truth files for the shared real sets: ``tests/truth/cn_gov_messages.json`` and
``tests/truth/boston311.json`` (generic membership truth, see ``gridline/evaluate.py``).

    .venv/bin/python scripts/build_truth.py [--data ../shared/data/real] [--out tests/truth]

The rules (also in docs/evaluation.md, where the reasons are argued):

Message board (``cn_gov_messages/board_messages_2019H1.xlsx``) — hot problems
    A hot problem is one problem at one named place, raised by several messages. Each problem below has
    a PLACE pattern and a PROBLEM pattern (regular expressions, case-insensitive) applied to title + text
    (whitespace removed); a message belongs when both match. The members were then read one by one and
    the few that match both patterns but raise another problem at the same place are excluded by id, each
    with its reason (``EXCLUDED``). Every problem keeps ≥ 4 messages. Messages about no listed problem
    are background: they belong to no class.

Boston 311 (``boston311/boston311_2015H1.csv``) — recurring requests
    A group is ≥ 3 requests of one TYPE at one normalised Location (upper case, runs of spaces collapsed,
    trimmed) opened in one quarter of Boston's local calendar (OPEN_DT is Boston wall-clock time, so its
    own quarter is the local one). Requests without a Location are left out: the export gives them City
    Hall's point (42.3594, -71.0587) as a placeholder, which stands for "not geocoded", not for a place.
    Requests that do carry an address keep it even when their point is the placeholder (the address is
    known, only the geocoding failed), and City Hall Plaza's own requests are real requests at a real
    place. Each case also gets ``pair_keys`` (TYPE + address, TYPE + each street named by the address) so
    that a ticket pairing two requests of one type on one street counts as precise.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
from python_calamine import CalamineWorkbook

REPO = Path(__file__).resolve().parents[1]
BOARD_SOURCE = "cn_gov_messages"
BOSTON_SOURCE = "boston311"


@dataclass(frozen=True)
class HotProblem:
    id: str
    summary: str
    place: str  # regex: the place, however the messages write it
    problem: str  # regex: the problem at that place


HOT_PROBLEMS = (
    HotProblem(
        "yueliangdao-road-110kv-line",
        "月亮岛路: an overhead 110 kV power line planned along the road (金星北片 residents object)",
        r"月亮岛路|金星北",
        r"高压|110kv|11万伏",
    ),
    HotProblem(
        "qingqing-jiayuan-homes-into-shops",
        "青青家园 (青山新村社区): homes turned into restaurants, their flues and units in the fire passage",
        r"青青家园|青山新村",
        r"住改商|烟道|油烟|底商|空调.{0,4}外机",
    ),
    HotProblem(
        "xingru-jincheng-false-advertising",
        "兴汝金城二期: the developer's false advertising and a handover below the promised quality",
        r"兴汝金城",
        r"虚假宣传|宣传.{0,10}(不符|差距)",
    ),
    HotProblem(
        "metro3-songya-station-exits",
        "地铁3号线松雅(湖)站: no exit towards 松雅湖 and the residents to its north-west",
        r"3号线松雅|松雅西地省站|松雅湖站",
        r"出入口|出口|地下通道|通道",
    ),
    HotProblem(
        "huihuang-guojicheng-restaurants",
        "辉煌国际城二期: restaurants opened in the shops under the residential towers",
        r"辉煌国际城",
        r"饭店|餐饮|商铺|场地证明",
    ),
    HotProblem(
        "chachang-village-demolition",
        "茶场村 (西湖街道): when the village's group 5 will be demolished and resettled, and its plan",
        r"茶场村",
        r"拆迁|征地|规划",
    ),
    HotProblem(
        "bus-805-via-mulian-road",
        "805路: residents of 木莲中路 ask the bus to be rerouted along the road",
        r"805路",
        r"木莲中路",
    ),
    HotProblem(
        "zhongmaocheng-shop-refunds",
        "中茂城 (星沙): buyers of its shops and booths cannot get their money back",
        r"中茂城",
        r"拖欠|欠款|退款|退还|不退",
    ),
    HotProblem(
        "kaile-guojicheng-roads",
        "凯乐国际城: its roads (太平路, 庆和里路): parking, lights and traffic, reported again and again",
        r"凯乐国际城",
        r"太平路|庆和里",
    ),
    HotProblem(
        "jiangshan-dijing-new-homes-unsafe",
        "江山帝景 哈佛四期: new homes handed over dirty and unsafe",
        r"江山帝景",
        r"新房|(哈[佛弗]四期|哈[佛弗]4期).{0,20}(安全隐患|脏乱差)|安全隐患.{0,40}交房",
    ),
    HotProblem(
        "xin-zhidu-jiayuan-illegal-building",
        "新A1区之都佳苑 (东塘街道; once 新芙之都): the developer changed the approved plan, built illegally",
        r"新A1区之都|新芙之都",
        r"违建|违法|规划|审批图纸",
    ),
)

# Messages that match a problem's two patterns but, read, raise another problem at the same place.
EXCLUDED: dict[str, dict[str, str]] = {
    "bus-805-via-mulian-road": {
        "191111": "a plan for the whole city's bus network; 805 via 木莲中路 is one of a dozen items",
        "239190": "the same city-wide bus network plan, sent again",
    },
}


def _board_messages(path: Path) -> list[tuple[str, str]]:
    """(message id, title + text without whitespace) for every message of the workbook."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=True)
    header = [str(cell).strip() for cell in rows[0]]
    at = {name: header.index(name) for name in ("留言编号", "留言主题", "留言详情")}
    messages = []
    for row in rows[1:]:
        raw_id = row[at["留言编号"]]
        message_id = str(int(raw_id)) if isinstance(raw_id, float) else str(raw_id).strip()
        text = f"{row[at['留言主题']]}{row[at['留言详情']]}"
        messages.append((message_id, re.sub(r"\s+", "", text)))
    return messages


def board_truth(path: Path) -> dict:
    messages = _board_messages(path)
    classes = []
    for problem in HOT_PROBLEMS:
        place, issue = re.compile(problem.place, re.I), re.compile(problem.problem, re.I)
        excluded = EXCLUDED.get(problem.id, {})
        members = sorted(
            message_id
            for message_id, text in messages
            if place.search(text) and issue.search(text) and message_id not in excluded
        )
        if len(members) < 4:
            raise SystemExit(f"{problem.id}: only {len(members)} messages match; a hot problem needs 4")
        classes.append(
            {
                "id": problem.id,
                "summary": problem.summary,
                "rule": {"place": problem.place, "problem": problem.problem, "excluded": excluded},
                "case_ids": [f"{BOARD_SOURCE}:{m}" for m in members],
            }
        )
    shared = _shared_members(classes)
    if shared:
        raise SystemExit(f"messages in two hot problems: {shared}")
    return {
        "source": "cn_gov_messages/board_messages_2019H1.xlsx",
        "rules": "scripts/build_truth.py (HOT_PROBLEMS, EXCLUDED); docs/evaluation.md",
        "classes": classes,
    }


def _shared_members(classes: list[dict]) -> list[str]:
    seen: dict[str, str] = {}
    shared = []
    for planted in classes:
        for case_id in planted["case_ids"]:
            if case_id in seen:
                shared.append(f"{case_id} ({seen[case_id]}, {planted['id']})")
            seen[case_id] = planted["id"]
    return shared


# Boston addresses: "145-151 Ipswich St  Boston  MA  02215" or "INTERSECTION of A St & B Ave  Roxbury  MA".
_HOUSE_NUMBER = r"^[0-9][0-9A-Z-]*\s+"
_TOWN_TAIL = r"\s{2,}.*$"  # the export separates street, town, state and zip by two spaces


def boston_truth(path: Path) -> dict:
    con = duckdb.connect()
    con.execute(
        f"""
        create table requests as
        select 'boston311:' || CASE_ENQUIRY_ID as case_id,
               TYPE as request_type,
               upper(trim(regexp_replace(Location, '\\s+', ' ', 'g'))) as address,
               -- the street part: house numbers and the town/state/zip tail removed
               upper(regexp_replace(
                   regexp_replace(trim(Location), '{_TOWN_TAIL}', ''), '{_HOUSE_NUMBER}', ''
               )) as street_part,
               strptime(OPEN_DT, '%m/%d/%Y %I:%M:%S %p') as opened_local
        from read_csv('{path}', all_varchar = true, header = true)
        where Location is not null and trim(Location) <> ''
        """
    )
    groups = con.sql(
        """
        select request_type, address, year(opened_local) || 'Q' || quarter(opened_local) as quarter,
               list(case_id order by case_id) as case_ids
        from requests
        group by all
        having count(*) >= 3
        order by quarter, request_type, address
        """
    ).fetchall()
    classes = [
        {"id": f"{quarter} {request_type} @ {address}", "case_ids": case_ids}
        for request_type, address, quarter, case_ids in groups
    ]
    # Streets: an intersection names two; a plain address one.
    keyed = con.sql(
        """
        with streets as (
            select case_id, request_type, address,
                   unnest(string_split(regexp_replace(street_part, '^INTERSECTION OF ', ''), ' & ')) as street
            from requests
        ), keys as (
            select case_id, request_type || ' @ ' || address as key from requests
            union
            select case_id, request_type || ' on ' || trim(street) from streets
        ), shared as (select key from keys group by key having count(distinct case_id) >= 2)
        select keys.case_id, list(distinct keys.key order by keys.key)
        from keys join shared using (key) group by keys.case_id order by keys.case_id
        """
    ).fetchall()
    # Keys are long strings repeated many times: number them to keep the file small.
    numbers: dict[str, int] = {}
    pair_keys = {case_id: [numbers.setdefault(key, len(numbers)) for key in keys] for case_id, keys in keyed}
    return {
        "source": "boston311/boston311_2015H1.csv",
        "rules": "scripts/build_truth.py (boston_truth); docs/evaluation.md",
        "classes": classes,
        "pair_keys": pair_keys,
    }


def _dump(truth: dict) -> str:
    """JSON with one line per class and per case's pair keys: small, and a rebuild diffs line by line."""

    def line(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    parts = []
    for key, value in truth.items():
        if isinstance(value, list):
            inner = ",\n".join(f"  {line(item)}" for item in value)
            parts.append(f"{line(key)}: [\n{inner}\n ]")
        elif isinstance(value, dict) and key == "pair_keys":
            inner = ",\n".join(f"  {line(case_id)}: {line(keys)}" for case_id, keys in value.items())
            parts.append(f"{line(key)}: {{\n{inner}\n }}")
        else:
            parts.append(f"{line(key)}: {line(value)}")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "truth")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    built = {
        "cn_gov_messages.json": board_truth(args.data / "cn_gov_messages" / "board_messages_2019H1.xlsx"),
        "boston311.json": boston_truth(args.data / "boston311" / "boston311_2015H1.csv"),
    }
    for name, truth in built.items():
        (args.out / name).write_text(_dump(truth), encoding="utf-8")
        sizes = [len(c["case_ids"]) for c in truth["classes"]]
        print(f"{name}: {len(sizes):,} classes, {sum(sizes):,} cases (sizes {min(sizes)}..{max(sizes)})")


if __name__ == "__main__":
    main()
