"""Real Chinese records through the 12345 adapter, and the conformance reference data against them.

Real data (see data/real/README.md): the 问政留言 message-board releases of the 2020 TipDM Cup in
``cn_gov_messages/`` (694035434/Natural-language-processing-and-text-mining @ b55669f), turned here into
12345-format workbooks; the NYC Service volunteer opportunities in ``nyc_volunteer/`` (shahchayan9/
CareConnect @ e144714). The curated lists tested are the demo city's ``area_aliases`` and
``category_aliases``, kept with the generator (``ingestion/generate/demo_city``).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from gridline.errors import GridlineError
from ingestion.generate import city, vocab
from ingestion.generate.reference import CURATED
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from tests.conftest import REAL_DATA

MESSAGES = REAL_DATA / "cn_gov_messages"
# 问政 message columns -> 12345 export headers.
MESSAGE_TO_12345 = {
    "留言编号": "工单编号",
    "留言时间": "来电时间",
    "留言主题": "诉求标题",
    "留言详情": "诉求内容",
    "一级分类": "诉求分类",
    "答复时间": "办结时间",
    "答复意见": "办理结果",
}


def _sheet(path) -> list[dict]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=True)
    header = [str(h).strip() for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def write_as_12345(messages: list[dict], path) -> list[str]:
    """A 12345-format workbook of the messages (every cell as text, as exports carry it)."""
    import xlsxwriter

    header = [zh for src, zh in MESSAGE_TO_12345.items() if src in messages[0]] + ["诉求渠道", "重办次数"]
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("工单")
    for c, name in enumerate(header):
        sheet.write_string(0, c, name)
    for r, message in enumerate(messages, start=1):
        by_header = {zh: _text(message.get(src)) for src, zh in MESSAGE_TO_12345.items()}
        by_header.update({"诉求渠道": "网站", "重办次数": "0"})  # a message board never reopens
        for c, name in enumerate(header):
            sheet.write_string(r, c, by_header[name])
    workbook.close()
    return header


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def test_labelled_messages_ingest_as_12345_orders_with_slash_timestamps(settings, tmp_path):
    messages = _sheet(MESSAGES / "labelled_messages.xlsx")
    assert len(messages) == 495
    assert all(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}", m["留言时间"]) for m in messages)
    path = tmp_path / "labelled.xlsx"
    write_as_12345(messages, path)
    result = ingest(IngestRequest(paths=[path]), settings)  # detected as 12345 from the headers
    events = _events(settings)
    received = events.filter("event_type = 'case.received'")
    assert result.rows_read == 495 and result.quarantined == 0
    # 留言编号 37042 appears twice with the same time and title but two labels (劳动和社会保障, 城乡建设):
    # one order, whose case.received is its first sighting.
    assert received.count("*").fetchall()[0][0] == len({_text(m["留言编号"]) for m in messages}) == 494
    # Every `YYYY/M/D H:MM:SS` time is read as Asia/Shanghai wall-clock time.
    first = messages[0]
    expected = datetime.strptime(first["留言时间"], "%Y/%m/%d %H:%M:%S").replace(
        tzinfo=ZoneInfo("Asia/Shanghai")
    )
    at = (
        received.filter(f"entity_id = '12345:{_text(first['留言编号'])}'")
        .select("occurred_at")
        .fetchall()[0][0]
    )
    assert at == expected
    # The state is on the snapshots; an order's category is the one of its first sighting.
    first_states = events.filter("event_type = 'case.updated'").aggregate(
        "entity_id, arg_min(payload, source_line) as payload"
    )
    categories = dict(first_states.aggregate("payload->>'category_path', count(*)").fetchall())
    unique: dict = {}
    for m in messages:
        unique.setdefault(_text(m["留言编号"]), m)
    assert categories == _count_by(list(unique.values()), "一级分类") and len(categories) == 7
    # Free text keeps its words but never a phone number in clear.
    descriptions = " ".join(r[0] or "" for r in first_states.select("payload->>'description'").fetchall())
    assert "书记" in descriptions or "小区" in descriptions
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", descriptions)


def test_replied_and_hot_topic_messages_ingest_with_their_replies(settings, tmp_path):
    replied = _sheet(MESSAGES / "replied_messages.xlsx")
    hot = _sheet(MESSAGES / "hot_topic_messages.xlsx")
    replied_path, hot_path = tmp_path / "replied.xlsx", tmp_path / "hot.xlsx"
    write_as_12345(replied, replied_path)
    write_as_12345(hot, hot_path)
    result = ingest(IngestRequest(paths=[replied_path, hot_path], format="12345"), settings)
    events = _events(settings)
    counts = dict(events.aggregate("event_type, count(*)").fetchall())
    assert result.rows_read == len(replied) + len(hot) == 150
    assert result.quarantined == 0 and counts["case.received"] == 150
    assert counts["case.resolved"] == len(replied) == 120  # 答复时间 marks the reply
    resolved = events.filter("event_type = 'case.resolved'").select("payload->>'resolution'").fetchall()
    assert all(r[0] for r in resolved)


def test_volunteer_opportunities_are_not_mistaken_for_sessions(settings):
    path = REAL_DATA / "nyc_volunteer" / "nyc-service-volunteer-opportunities.csv"
    with pytest.raises(GridlineError, match="cannot tell its format"):
        ingest(IngestRequest(paths=[path]), settings)
    with pytest.raises(GridlineError, match="not a volunteer log"):
        ingest(IngestRequest(paths=[path], format="volunteer"), settings)
    assert not EventLog(settings.log_dir).batch_dirs()


def _count_by(rows: list[dict], key: str) -> dict:
    counts: dict = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return counts


def _curated(name: str) -> list[dict]:
    with open(CURATED / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _short_names() -> list[dict]:
    """The demo city's own short names for its categories (the other aliases are a real taxonomy's names)."""
    return [a for a in _curated("category_aliases") if a["origin"] == "short name"]


def _cross_taxonomy_aliases() -> list[dict]:
    return [a for a in _curated("category_aliases") if a["origin"] != "short name"]


def test_area_aliases_each_name_one_existing_place():
    grids, aliases = city.build_city().grids, _curated("area_aliases")
    places = {
        level: {getattr(g, f"{level}_code"): getattr(g, level) for g in grids}
        for level in ("district", "street", "community")
    }
    assert aliases and {a["level"] for a in aliases} <= set(places)
    assert len({(a["level"], a["alias"]) for a in aliases}) == len(aliases)
    for alias in aliases:
        level = places[alias["level"]]
        assert level.get(alias["code"]) == alias["name"], alias  # the code exists and still has that name
        assert alias["alias"] not in level.values(), alias  # an alias never shadows a real name
        assert alias["kind"] in ("traditional", "full_name", "typo")
    assert {a["level"] for a in aliases} == {"district", "street", "community"}


def test_category_aliases_name_existing_categories_without_clashes():
    aliases = _curated("category_aliases")
    own_names = {c.level3: c.code for c in vocab.CATEGORIES}
    assert _short_names() and _cross_taxonomy_aliases()
    assert len({a["alias"] for a in aliases}) == len(aliases)  # an alias names one category
    for alias in aliases:
        assert alias["category_code"] in vocab.BY_CODE, alias
        assert own_names.get(alias["alias"], alias["category_code"]) == alias["category_code"], alias


def _normalise(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))


def test_the_real_taxonomy_matches_our_categories_where_they_overlap():
    """Every third-level name of the real taxonomy is matched or flagged; none is dropped."""
    taxonomy = _sheet(MESSAGES / "taxonomy.xlsx")
    names = {_normalise(c.level3): c.code for c in vocab.CATEGORIES}
    for alias in _short_names():
        names.setdefault(_normalise(alias["alias"]), alias["category_code"])
    exact = set(names)
    for alias in _cross_taxonomy_aliases():
        names.setdefault(_normalise(alias["alias"]), alias["category_code"])
    conformed = [
        {
            **row,
            "category_code": names.get(_normalise(row["三级分类"])),
            "unmatched": _normalise(row["三级分类"]) not in names,
        }
        for row in taxonomy
    ]
    assert len(conformed) == len(taxonomy) == 517  # flagged, never dropped
    matched = [r for r in conformed if not r["unmatched"]]
    by_exact_name = {r["三级分类"] for r in matched if _normalise(r["三级分类"]) in exact}
    assert by_exact_name == {"物业服务", "食品安全"}
    assert {r["三级分类"] for r in matched} == by_exact_name | {a["alias"] for a in _cross_taxonomy_aliases()}
    assert not any(r["三级分类"] == "其他" for r in matched)  # a catch-all is never matched
    covered = {r["category_code"] for r in matched}
    report = {
        "taxonomy_rows": len(conformed),
        "matched_rows": len(matched),
        "match_rate": round(len(matched) / len(conformed), 3),
        "our_categories_with_a_counterpart": f"{len(covered)}/{len(vocab.CATEGORIES)}",
        "unmatched_rows": len(conformed) - len(matched),
    }
    print(json.dumps(report, ensure_ascii=False))
    assert report["matched_rows"] == 22 and len(covered) == 17
