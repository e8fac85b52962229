"""`gridline generate`: the synthetic city, its landing files in every format, and the planted truth.

Most tests read the session's tiny landing (seed 11) the way a person checking the generator would: parse
every file, then hold the truth against what the files say.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from gridline.errors import GridlineError
from ingestion.generate import city, hotline, vocab
from ingestion.generate import volunteer as volunteer_app
from ingestion.generate.reference import CURATED
from ingestion.generate.scenario import generate
from ingestion.generate.world import make_world
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.sources.reading import detect_encoding, text_encoding
from tests.conftest import REAL_DATA, gridline_cli

LADDER = {"待派单", "已派单", "已签收", "办理中", "已办结", "已回访", "已关闭", "重办"}


def _table(path: Path) -> list[dict]:
    """Rows of a CSV (any of the field encodings) or XLSX export, as the file says them."""
    if path.suffix == ".xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
    with open(path, encoding=text_encoding(path), newline="") as handle:
        return list(csv.DictReader(handle))


def _when(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    return None


def _files(landing: Path, stream: str) -> list[Path]:
    return sorted(p for p in (landing / stream).glob("*/*") if p.is_file())


def _truth(landing: Path) -> dict:
    return json.loads((landing / "truth.json").read_text(encoding="utf-8"))


def _malformed(truth: dict, stream: str) -> set[tuple[str, int]]:
    return {(m["file"], m["line"]) for m in truth["malformed"] if m["stream"] == stream}


@pytest.fixture(scope="module")
def orders(tiny_landing) -> dict[str, list[dict]]:
    """Every readable row of every 12345 export, by order id, in export order."""
    found: dict[str, list[dict]] = defaultdict(list)
    bad = _malformed(_truth(tiny_landing), "hotline")
    for path in _files(tiny_landing, "hotline"):
        rel = str(path.relative_to(tiny_landing))
        for line, row in enumerate(_table(path), start=2):
            if (rel, line) not in bad:
                found[row["工单编号"]].append({**row, "_file": rel})
    return found


@pytest.fixture(scope="module")
def submissions(tiny_landing) -> dict[str, dict]:
    bad = _malformed(_truth(tiny_landing), "grid")
    found = {}
    for path in _files(tiny_landing, "grid"):
        rel = str(path.relative_to(tiny_landing))
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if (rel, line) not in bad:
                record = json.loads(text)
                found[record["submission_id"]] = record
    return found


def test_the_demo_city_is_fixed_and_city_sized():
    town = city.build_city()
    hierarchy = [(g.grid_code, g.community_code, g.community, g.street_code, g.street) for g in town.grids]
    again = city.build_city()
    assert hierarchy == [
        (g.grid_code, g.community_code, g.community, g.street_code, g.street) for g in again.grids
    ]
    # A city of about 1.5 M people: grids of a few hundred households, dozens of streets.
    assert 1800 <= len(town.grids) <= 2600 and 150 <= len(town.communities) <= 400 and len(town.streets) >= 30
    assert all(60 <= g.households <= 600 for g in town.grids)


def test_the_neighbouring_categories_are_in_the_taxonomy():
    assert all(a in vocab.BY_CODE and b in vocab.BY_CODE and a != b for a, b in vocab.NEIGHBOURS)


def test_the_same_seed_gives_the_same_bytes(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(first, "tiny", 3)
    generate(second, "tiny", 3)
    generate(other, "tiny", 4)
    names = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert (first / "truth.json").read_bytes() != (other / "truth.json").read_bytes()


def test_landing_layout_formats_and_encodings(tiny_landing):
    for stream in ("hotline", "grid", "volunteer"):
        days = sorted(p.name for p in (tiny_landing / stream).iterdir())
        assert 4 <= len(days) <= 8  # tiny exports monthly: the demo runs a handful of Airflow ingests
        assert all(datetime.strptime(d, "%Y-%m-%d") for d in days)
    hotline_files = _files(tiny_landing, "hotline")
    kinds = set()
    for path in hotline_files:
        if path.suffix == ".xlsx":
            kinds.add("xlsx")
        else:
            bom = path.read_bytes().startswith(b"\xef\xbb\xbf")
            kinds.add("utf-8-sig" if bom else detect_encoding(path))
            assert _table(path)[0].keys() >= set(hotline.HEADER)
    assert kinds == {"utf-8", "utf-8-sig", "gb18030", "xlsx"}
    styles = {"slash" if "/" in str(r["来电时间"]) else "dash" for p in hotline_files for r in _table(p)[:3]}
    assert styles == {"slash", "dash"}
    for path in _files(tiny_landing, "volunteer"):
        assert list(_table(path)[0]) == volunteer_app.HEADER


def test_orders_reappear_as_they_progress_and_files_are_resent(tiny_landing, orders):
    progressed = [rows for rows in orders.values() if len({r["工单状态"] for r in rows}) >= 2]
    assert len(progressed) > 100
    # Late changes: an order first exported after the month it was received in (tiny exports monthly).
    late = [
        rows
        for rows in orders.values()
        if rows[0]["_file"].split("/")[1][:7].replace("-", "")[2:] > rows[0]["工单编号"][2:6]
    ]
    assert 0 < len(late) < len(orders) * 0.1
    contents = defaultdict(list)
    for path in _files(tiny_landing, "hotline"):
        contents[path.read_bytes()].append(path)
    resent = [paths for paths in contents.values() if len(paths) > 1]
    assert resent and all(len({p.parent for p in paths}) == 2 for paths in resent)
    overlapping = [p for p in _files(tiny_landing, "hotline") if "-" in p.stem.split("_")[-1]]
    assert overlapping  # a wider export repeating orders already in the monthly files
    single = {
        r["工单编号"] for p in _files(tiny_landing, "hotline") if p not in overlapping for r in _table(p)
    }
    assert {r["工单编号"] for r in _table(overlapping[0]) if r["工单编号"]} <= single


def test_order_lifecycles_are_ordered_and_realistic(orders):
    final = {order_id: rows[-1] for order_id, rows in orders.items()}
    columns = ["来电时间", "派单时间", "签收时间", "首次联系时间", "办结时间"]
    dispatch_minutes = []
    for row in final.values():
        assert row["工单状态"] in LADDER
        times = [_when(row[c]) for c in columns]
        filled = [t for t in times if t is not None]
        assert filled == sorted(filled) and times[0] is not None
        if times[1]:
            dispatch_minutes.append((times[1] - times[0]).total_seconds() / 60)
        if row["工单状态"] == "已回访":
            assert _when(row["回访时间"]) and row["满意度"] in ("满意", "基本满意", "不满意")
    statuses = {row["工单状态"] for row in final.values()}
    assert {"已关闭", "已回访"} <= statuses
    assert any(int(r["重办次数"]) > 0 for r in final.values())  # 重办
    assert any(_when(r["吹哨时间"]) for r in final.values())  # 吹哨
    late_dispatch = sum(m > 120 for m in dispatch_minutes) / len(dispatch_minutes)
    assert 0.01 < late_dispatch < 0.2  # SLA breaches happen, as a minority
    in_text = sum(1 for r in final.values() if re.search(r"1[3-9]\d{9}", r["诉求内容"]))
    assert in_text > len(final) * 0.05  # residents leave phone numbers in the description


def test_grid_first_handlers_contact_within_thirty_minutes_mostly(orders, submissions):
    handled = [s for s in submissions.values() if s["order_id"]]
    assert len(handled) > 100
    gaps = []
    for s in handled:
        row = orders[s["order_id"]][-1]
        dispatched = _when(row["派单时间"])
        contacted = datetime.fromisoformat(s["submitted_at"]).replace(tzinfo=None)
        assert s["grid_code"] == row["网格"] or row["网格"] == ""
        gaps.append((contacted - dispatched) / timedelta(minutes=1))
    within = sum(0 < g <= 30 for g in gaps) / len(gaps)
    assert 0.6 < within < 0.97 and all(g > 0 for g in gaps)
    kinds = {s["kind"] for s in submissions.values()}
    assert kinds == {"visit", "info", "service", "issue", "dispute"}
    follow_ups = [s for s in submissions.values() if s["related_submission_id"]]
    assert follow_ups and all(s["related_submission_id"] in submissions for s in follow_ups)


def test_every_truth_case_is_in_the_landing_files(tiny_landing, orders, submissions):
    truth = _truth(tiny_landing)
    assert len(truth["classes"]) >= 8
    levels, streams, decoys, cross = set(), set(), 0, 0
    for planted in truth["classes"]:
        levels.add(planted["area_level"])
        category = vocab.BY_CODE[planted["category_code"]]
        allowed = {category.path} | {vocab.BY_CODE[c].path for c in planted["also_filed_under"]}
        for quarter, ids in planted["case_ids"].items():
            assert quarter in planted["quarters"] and len(ids) >= 4
            for case_id in ids:
                namespace, own_id = case_id.split(":", 1)
                streams.add(namespace)
                if namespace == "12345":
                    row = orders[own_id][0]
                    path, text, grid, received = (
                        row["诉求分类"],
                        row["诉求内容"],
                        row["网格"],
                        row["来电时间"],
                    )
                else:
                    record = submissions[own_id]
                    assert record["kind"] == "issue"
                    path, text, grid, received = (
                        record["category_path"],
                        record["description"],
                        record["grid_code"],
                        record["submitted_at"][:19].replace("T", " "),
                    )
                cross += path != category.path
                assert path in allowed and planted["object"] in text and planted["place"] in text
                assert grid in planted["grid_codes"]
                when = _when(received)
                assert f"{when.year}Q{(when.month - 1) // 3 + 1}" == quarter
        for ids in planted["decoy_case_ids"].values():
            for case_id in ids:
                row = orders[case_id.split(":", 1)[1]][0]
                decoys += 1
                assert row["网格"] in planted["grid_codes"] and row["诉求分类"] == category.path
                text = row["诉求内容"]
                assert not (planted["object"] in text and planted["place"] in text)
    assert levels == {"grid", "community", "street"} and streams == {"12345", "grid"}
    assert decoys > 0 and cross > 0  # decoys beside classes; a class partly filed under a neighbour category


def test_paraphrases_differ_but_name_the_same_object(tiny_landing, orders):
    planted = max(_truth(tiny_landing)["classes"], key=lambda c: sum(map(len, c["case_ids"].values())))
    texts = [
        orders[i.split(":", 1)[1]][0]["诉求内容"]
        for ids in planted["case_ids"].values()
        for i in ids
        if i[:5] == "12345"
    ]
    assert len(set(texts)) == len(texts) >= 4


def test_hotline_quarantine_is_exactly_the_planted_malformed_rows(settings, tiny_landing):
    truth = _truth(tiny_landing)
    expected = _malformed(truth, "hotline")
    assert {m["reason"] for m in truth["malformed"] if m["stream"] == "hotline"} >= {"missing 工单编号"}
    result = ingest(IngestRequest(paths=_files(tiny_landing, "hotline")), settings)
    assert result.quarantined == len(expected) > 0
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql()).select("source_file, source_line")
    found = {(str(Path(f).relative_to(tiny_landing)), line) for f, line in quarantine.fetchall()}
    assert found == expected
    events = EventLog(settings.log_dir).events_sql()
    entities = duckdb.sql(f"select count(distinct entity_id) from ({events})").fetchall()[0][0]
    assert entities == truth["counts"]["hotline_orders"]


@pytest.mark.parametrize("stream", ["grid", "volunteer"])
def test_grid_and_volunteer_files_ingest_with_their_planted_quarantine(settings, tiny_landing, stream):
    module = {"grid": "ingestion.sources.grid_jsonl", "volunteer": "ingestion.sources.volunteer"}[stream]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    truth = _truth(tiny_landing)
    result = ingest(IngestRequest(paths=_files(tiny_landing, stream)), settings)
    assert result.appended > 0
    assert result.quarantined == len(_malformed(truth, stream))


def test_generate_replaces_its_own_output_but_not_other_landing_files(tmp_path):
    with pytest.raises(GridlineError, match="unknown scale"):
        generate(tmp_path / "x", "village", 1)
    out = tmp_path / "landing"
    generate(out, "tiny", 1)
    stale = out / "hotline" / "2030-01-01" / "stale.csv"
    stale.parent.mkdir()
    stale.write_text("x")
    generate(out, "tiny", 2)  # the demo regenerates into the same folder
    assert not stale.exists() and json.loads((out / "truth.json").read_text())["seed"] == 2
    (out / "truth.json").unlink()
    with pytest.raises(GridlineError, match="not written by gridline generate"):
        generate(out, "tiny", 3)


def test_the_command_prints_a_summary_and_writes_what_another_process_writes(tmp_path):
    proc = gridline_cli(
        "generate", "--out", str(tmp_path / "out"), "--scale", "tiny", "--seed", "5", env_home=tmp_path
    )
    assert "hotline orders" in proc.stderr + proc.stdout
    generate(tmp_path / "here", "tiny", 5)  # this process has another hash seed: nothing may depend on it
    for path in (tmp_path / "here").rglob("*.*"):
        assert path.read_bytes() == (tmp_path / "out" / path.relative_to(tmp_path / "here")).read_bytes()


# --- another city: `--city random` ---------------------------------------------------------------------

RANDOM_SEED = 5


@pytest.fixture(scope="module")
def random_landing(tmp_path_factory) -> Path:
    """A tiny landing of the random city of seed 5, whose names are drawn from cn_divisions."""
    out = tmp_path_factory.mktemp("random-landing")
    generate(out, "tiny", RANDOM_SEED, "random", REAL_DATA / "cn_divisions")
    return out


def _place_names(town: city.City) -> dict[str, set[str]]:
    """Every name a resident or an export can give, by kind of place."""
    kinds = (
        "district",
        "street",
        "community",
        "main_road",
        "river",
        "school",
        "shop",
        "firm",
        "park",
        "market",
    )
    names = {kind: {getattr(g, kind) for g in town.grids} - {""} for kind in kinds}
    names["compound"] = {c for g in town.grids for c in g.compounds if not g.rural}
    names["road"] = {r for g in town.grids for r in g.roads}
    return names


@pytest.mark.parametrize("divisions", [None, REAL_DATA / "cn_divisions"], ids=["composed", "cn_divisions"])
def test_a_random_city_shares_no_names_with_the_default_one(divisions):
    default = _place_names(city.build_city())
    default_codes = {g.grid_code for g in city.build_city().grids}
    for seed in (1, 2, 3):
        world = make_world("random", seed, divisions)
        names = _place_names(world.city)
        assert world.city.name != city.CITY and len(world.city.grids) >= 500
        overlap = {kind: names[kind] & default[kind] for kind in names}
        # Invented names come from stems 云州市 never uses; a real street may share a name with an
        # invented one only by chance (和平街道 exists in many cities).
        assert all(not found for kind, found in overlap.items() if kind != "street"), overlap
        assert len(overlap["street"]) <= 2
        assert not {g.grid_code for g in world.city.grids} & default_codes
    if divisions is not None:
        with open(divisions / "streets.csv", encoding="utf-8", newline="") as handle:
            streets = {r["code"]: r["name"] for r in csv.DictReader(handle)}
        world = make_world("random", 1, divisions)
        assert all(streets[g.street_code] == g.street for g in world.city.grids)  # real codes, real names


def test_the_city_its_categories_and_its_addresses_vary_with_the_seed():
    worlds = [make_world("random", seed) for seed in range(1, 9)]
    assert len({w.city.name for w in worlds}) == len(worlds)
    assert len({w.style.kind for w in worlds}) >= 3
    # Parks and markets in every city, metro stations in some: landmarks residents name in their appeals.
    assert all(any(g.park for g in w.city.grids) and any(g.market for g in w.city.grids) for w in worlds)
    assert any(g.metro for w in worlds for g in w.city.grids)
    default_codes = {c.code for c in vocab.CATEGORIES}
    for world in worlds:
        codes = {c.code for c in world.taxonomy.categories}
        assert not codes & default_codes and len(codes) == len(world.taxonomy.categories)
        renamed = {c.path for c in world.taxonomy.categories} - {c.path for c in vocab.CATEGORIES}
        assert renamed and len(world.taxonomy.categories) <= len(vocab.CATEGORIES)
    lists = {tuple(c.path for c in w.taxonomy.categories) for w in worlds}
    assert len(lists) == len(worlds)


def test_a_random_city_is_the_same_for_the_same_seed(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(first, "tiny", 8, "random")
    generate(second, "tiny", 8, "random")
    generate(other, "tiny", 9, "random")
    names = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert "reference/areas.csv" in names and "reference/categories.csv" in names
    assert names == sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    for name in ("reference/areas.csv", "reference/categories.csv", "truth.json"):
        assert (first / name).read_bytes() != (other / name).read_bytes()


def _reference(landing: Path) -> tuple[list[dict], list[dict]]:
    def rows(name: str) -> list[dict]:
        with open(landing / "reference" / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    return rows("areas.csv"), rows("categories.csv")


@pytest.mark.parametrize("which", ["default", "random"])
def test_the_reference_is_valid_and_covers_every_area_the_exports_name(which, tiny_landing, random_landing):
    landing = tiny_landing if which == "default" else random_landing
    areas, categories = _reference(landing)
    assert list(areas[0]) == ["code", "name", "level", "parent_code", "aliases", "lat", "lon"]
    by_code = {a["code"]: a for a in areas}
    assert len(by_code) == len(areas)
    parent_level = {"district": None, "street": "district", "community": "street", "grid": "community"}
    for area in areas:
        expected = parent_level[area["level"]]
        assert (by_code[area["parent_code"]]["level"] if area["parent_code"] else None) == expected
        assert -90 < float(area["lat"]) < 90 and -180 < float(area["lon"]) < 180
    known: dict[str, set[str]] = defaultdict(set)
    for area in areas:
        known[area["level"]] |= {area["name"], *filter(None, area["aliases"].split("|"))}
    grids = {a["code"] for a in areas if a["level"] == "grid"}
    assert list(categories[0]) == ["code", "level1", "level2", "level3", "is_place_bound", "aliases"]
    assert len({c["code"] for c in categories}) == len(categories)
    assert {c["is_place_bound"] for c in categories} == {"true", "false"}
    paths = {f"{c['level1']}/{c['level2']}/{c['level3']}" for c in categories}
    prefixes = paths | {p.rsplit("/", 1)[0] for p in paths} | {""}  # operators shorten or drop a path

    named = defaultdict(set)
    for path in _files(landing, "hotline"):
        for row in _table(path):
            for column, level in (("区县", "district"), ("街道", "street"), ("社区", "community")):
                named[level].add(row[column])
            named["grid"].add(row["网格"])
            named["category"].add(row["诉求分类"] or "")  # a blank XLSX cell reads as None
    for path in _files(landing, "grid"):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(line)
                named["grid"].add(record["grid_code"])
                named["category"].add(record["category_path"] or "")
    for path in _files(landing, "volunteer"):
        for row in _table(path):
            for column, level in (
                ("所属区县", "district"),
                ("所属街道", "street"),
                ("报到社区", "community"),
            ):
                named[level].add(row[column])
    for level in ("district", "street", "community"):
        assert named[level] - {"", None} <= known[level], level
    assert named["grid"] - {"", None} <= grids
    assert named["category"] <= prefixes and len(named["category"] & paths) > 20


def _random_records(landing: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    bad = _malformed(_truth(landing), "hotline") | _malformed(_truth(landing), "grid")
    orders, submissions = {}, {}
    for path in _files(landing, "hotline"):
        rel = str(path.relative_to(landing))
        for line, row in enumerate(_table(path), start=2):
            if (rel, line) not in bad:
                orders.setdefault(row["工单编号"], row)
    for path in _files(landing, "grid"):
        rel = str(path.relative_to(landing))
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if (rel, line) not in bad:
                record = json.loads(text)
                submissions[record["submission_id"]] = record
    return orders, submissions


def test_random_city_classes_name_their_place_in_different_ways(random_landing):
    truth = _truth(random_landing)
    orders, submissions = _random_records(random_landing)
    _, categories = _reference(random_landing)
    path_of = {c["code"]: f"{c['level1']}/{c['level2']}/{c['level3']}" for c in categories}
    grids_of_class, truth_quarters = {}, {}
    modes_seen, twins, noise = defaultdict(int), 0, 0
    for planted in truth["classes"]:
        place, obj = planted["place"], planted["object"]
        forms = [f for f in (place, *planted["place_aliases"], planted["place_address"]) if f]
        allowed = {path_of[planted["category_code"]]} | {path_of[c] for c in planted["also_filed_under"]}
        grids_of_class[planted["class_id"]] = (planted["grid_codes"], place, planted["category_code"])
        truth_quarters[planted["class_id"]] = planted["quarters"]
        for quarter, ids in planted["case_ids"].items():
            assert quarter in planted["quarters"] and len(ids) >= 4
        members = {i for ids in planted["case_ids"].values() for i in ids}
        assert members == {i for ids in planted["naming"].values() for i in ids}
        for mode, ids in planted["naming"].items():
            for case_id in ids:
                namespace, own_id = case_id.split(":", 1)
                modes_seen[mode] += 1
                if namespace == "grid":
                    record = submissions[own_id]
                    assert record["category_path"] in allowed and record["grid_code"] in planted["grid_codes"]
                    assert record["lat"] is not None and record["lon"] is not None  # the phone's position
                    assert any(f in record["description"] for f in forms) or not place
                    continue
                row = orders[own_id]
                assert row["诉求分类"] in allowed and row["网格"] in (*planted["grid_codes"], "")
                address, text = row["事发地址"], row["诉求标题"] + row["诉求内容"]
                if mode == "text_only":
                    assert (
                        (place or obj) in text and obj not in address and (not place or place not in address)
                    )
                elif mode == "address_only" and place:
                    by_number = planted["place_address"] and planted["place_address"] in address
                    assert place not in text and (place in address or by_number)
                elif mode == "alias":
                    said = [f for f in planted["place_aliases"] if f in address or f in text]
                    assert said and place != ""
                elif mode == "full":
                    assert obj in text and (not place or place in text)
        if planted["same_place_as"]:
            twins += 1
            other_grids, other_place, other_category = grids_of_class[planted["same_place_as"]]
            assert place == other_place and planted["grid_codes"] == other_grids
            assert planted["category_code"] != other_category
            assert planted["quarters"] == truth_quarters[planted["same_place_as"]]
        for ids in planted["noise_case_ids"].values():
            for case_id in ids:
                noise += 1
                row = orders[case_id.split(":", 1)[1]]
                assert row["网格"] in (*planted["grid_codes"], "") and row["诉求分类"] not in allowed
    assert set(modes_seen) == {"full", "address_only", "text_only", "alias"}
    assert twins >= 1 and noise >= 2 * len(truth["classes"])
    assert truth["city"]["kind"] == "random" and truth["city"]["name"] != city.CITY


def test_the_command_makes_another_city_or_says_in_one_line_why_not(tmp_path):
    out = tmp_path / "out"
    divisions = str(REAL_DATA / "cn_divisions")
    proc = gridline_cli(
        "generate",
        "--out",
        str(out),
        "--city",
        "random",
        "--seed",
        "4",
        "--divisions",
        divisions,
        env_home=tmp_path,
    )
    name = _truth(out)["city"]["name"]
    assert name in proc.stdout + proc.stderr and (out / "reference" / "areas.csv").exists()
    here = tmp_path / "here"
    generate(
        here, "tiny", 4, "random", REAL_DATA / "cn_divisions"
    )  # another hash seed: nothing may depend on it
    for path in here.rglob("*.*"):
        assert path.read_bytes() == (out / path.relative_to(here)).read_bytes()
    empty, broken = tmp_path / "no-divisions", tmp_path / "broken-divisions"
    empty.mkdir()
    broken.mkdir()
    (broken / "provinces.csv").write_text("code,name\n11,北京市\n", encoding="utf-8")
    (broken / "cities.csv").write_text("code,name\n1101,市辖区\n", encoding="utf-8")
    for args, message in [
        (["--city", "atlantis"], "unknown city 'atlantis'"),
        (["--divisions", divisions], "use it with --city random"),
        (["--city", "random", "--divisions", str(empty)], "has no provinces.csv"),
        (["--city", "random", "--divisions", str(broken)], "cities.csv lacks the column(s) provinceCode"),
    ]:
        failed = gridline_cli("generate", "--out", str(tmp_path / "x"), *args, env_home=tmp_path, check=False)
        assert failed.returncode != 0 and "Traceback" not in failed.stderr
        assert message in failed.stderr + failed.stdout


@pytest.mark.parametrize("which", ["default", "random"])
def test_the_reference_says_which_activities_take_on_which_categories(which, tiny_landing, random_landing):
    landing = tiny_landing if which == "default" else random_landing
    _, categories = _reference(landing)
    with open(landing / "reference" / "activities.csv", encoding="utf-8", newline="") as handle:
        activities = list(csv.DictReader(handle))
    with open(CURATED / "activities.csv", encoding="utf-8", newline="") as handle:
        curated = list(csv.DictReader(handle))
    codes = [c["code"] for c in categories]
    # Every prefix names some of this city's categories, in its own code scheme.
    assert all(any(code.startswith(a["category_prefix"]) for code in codes) for a in activities)
    assert len({(a["activity"], a["category_prefix"]) for a in activities}) == len(activities)
    if which == "default":
        assert activities == curated
    else:
        assert {a["activity"] for a in activities} <= {a["activity"] for a in curated}
        assert {a["category_prefix"] for a in activities} <= set(codes)  # carried over to its own codes


def test_the_demo_citys_reference_keeps_the_aliases_curated_for_it(tiny_landing):
    areas, categories = _reference(tiny_landing)
    area_aliases = {(a["code"], alias) for a in areas for alias in a["aliases"].split("|")}
    category_aliases = {(c["code"], alias) for c in categories for alias in c["aliases"].split("|")}
    with open(CURATED / "area_aliases.csv", encoding="utf-8", newline="") as handle:
        curated = [(r["code"], r["alias"]) for r in csv.DictReader(handle)]
    assert curated and set(curated) <= area_aliases
    with open(CURATED / "category_aliases.csv", encoding="utf-8", newline="") as handle:
        curated = [(r["category_code"], r["alias"]) for r in csv.DictReader(handle)]
    assert curated and set(curated) <= category_aliases
    communities = {(g.community_code, g.community) for g in city.build_city().grids}
    assert communities == {(a["code"], a["name"]) for a in areas if a["level"] == "community"}
    # The taxonomy written is vocab's, the one list the generator draws the demo city's appeals from.
    written = {
        c["code"]: (f"{c['level1']}/{c['level2']}/{c['level3']}", c["is_place_bound"]) for c in categories
    }
    assert written == {c.code: (c.path, "true" if c.placed else "false") for c in vocab.CATEGORIES}
