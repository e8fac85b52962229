"""Reference data as versioned input: `gridline reference import`, its validation, and a city that runs
first on what its exports name and later on its official lists.

Real data: data/real/cn_divisions (modood/Administrative-divisions-of-China @ dc3a1d7, dist/*.csv) and
data/real/cn_gov_messages/taxonomy.xlsx (694035434/Natural-language-processing-and-text-mining @ b55669f).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import duckdb
import pyarrow.parquet as pq
import pytest

from gridline.reference import ReferenceError, effective_file, import_reference, versions
from tests.conftest import REAL_DATA, gridline_cli
from tests.demo_reference import import_demo_reference

DIVISIONS = REAL_DATA / "cn_divisions"
TAXONOMY = REAL_DATA / "cn_gov_messages" / "taxonomy.xlsx"
AREAS_HEADER = "code,name,level,parent_code,aliases,lat,lon\n"


def _rows(path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_official_lists_import_as_they_come_and_each_import_is_a_new_version(settings):
    districts = import_reference(settings, "areas", DIVISIONS / "areas.csv", within="6204")
    streets = import_reference(settings, "areas", DIVISIONS / "streets.csv", within="6204")
    assert districts.rows_read == 5 and streets.total == 5 + streets.rows_read and streets.rows_read > 50
    areas = _rows(effective_file(settings, "areas"))
    by_code = {a["code"]: a for a in areas}
    assert all(
        a["level"] == "street" and by_code[a["parent_code"]]["level"] == "district"
        for a in areas
        if a["parent_code"]
    )
    # the older version stays, for replays of the time before the streets were loaded
    (first, _), (second, _) = versions(settings, "areas")
    assert len(_rows(effective_file(settings, "areas", first))) == 5
    assert effective_file(settings, "areas", datetime(2000, 1, 1, tzinfo=UTC)).name == "empty.parquet"
    assert second > first

    taxonomy = import_reference(settings, "categories", TAXONOMY)
    categories = _rows(taxonomy.version)
    assert taxonomy.rows_read == 517 and len({c["code"] for c in categories}) == 517
    assert categories[0]["code"] == "01.01.01" and all(c["is_place_bound"] is None for c in categories)


def test_an_activities_list_adds_pairs_to_the_previous_version(settings, tmp_path):
    """Several activities take on one category and one activity several: a pair is a row's identity."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("activity,category_prefix\n环境整治,02\n文明劝导,02\n", encoding="utf-8")
    second.write_text("activity,category_prefix\n 环境整治 ,01.02\n文明劝导,02\n", encoding="utf-8")
    import_reference(settings, "activities", first)
    merged = import_reference(settings, "activities", second)
    assert merged.rows_read == 2 and merged.total == 3
    pairs = {(r["activity"], r["category_prefix"]) for r in _rows(merged.version)}
    assert pairs == {("环境整治", "02"), ("文明劝导", "02"), ("环境整治", "01.02")}


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("areas", AREAS_HEADER + "1,A区,province,,,,\n", "row 2: level 'province' is not one of"),
        ("areas", AREAS_HEADER + "1,A区,district,,,,\n1,B区,district,,,,\n", "code 1 appears twice"),
        (
            "areas",
            AREAS_HEADER + "1,A区,district,,,,\n2,B街道,street,,,x,\n",
            "row 3: lat 'x' is not a number",
        ),
        ("areas", AREAS_HEADER + "1,A区,district,,,,\n2,B社区,community,1,,,\n", "has parent 1, a district"),
        ("areas", AREAS_HEADER + ",A区,district,,,,\n", "row 2: an area needs a code and a name"),
        ("areas", "id,title\n1,x\n", "not an areas list"),
        ("categories", "code,level1,level2,level3,is_place_bound\n1,a,b,c,maybe\n", "is_place_bound 'maybe'"),
        ("categories", "code,level1,level2\n1,a,b\n", "needs the column(s) level3"),
        ("categories", "code,level1,level2,level3\n", "no rows under the header"),
        ("activities", "activity\n环境整治\n", "needs the column(s) category_prefix"),
        ("activities", "activity,category_prefix\n环境整治,\n", "row 2: an activity needs a name and a"),
        ("activities", "activity,category_prefix\n环境整治,02\n环境整治,02\n", "环境整治/02 appears twice"),
    ],
)
def test_a_bad_reference_file_gets_one_clear_line_and_no_version(settings, tmp_path, kind, text, message):
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReferenceError, match="list.csv: ") as caught:
        import_reference(settings, kind, path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert versions(settings, kind) == []
    proc = gridline_cli("reference", "import", kind, str(path), env_home=settings.home, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().startswith("gridline: error: ")
    assert "Traceback" not in proc.stderr


def _marts(database) -> dict[str, list]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            t
            for (t,) in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {t: sorted(con.sql(f"select * from marts.{t}").fetchall(), key=repr) for t in tables}


def _matching_sessions(database) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        query = "select coalesce(sum(matching_sessions), 0) from marts.problem_class_tickets"
        return con.sql(query).fetchall()[0][0]


def test_a_city_runs_on_its_exports_then_its_official_lists_without_losing_the_past(home, tiny_landing):
    files = sorted(str(p) for p in (tiny_landing / "hotline").glob("*/*"))
    gridline_cli("ingest", *files, env_home=home)
    sessions = sorted(str(p) for p in (tiny_landing / "volunteer").glob("*/*") if p.is_file())
    gridline_cli("ingest", "--stream", "volunteer", *sessions, env_home=home)
    gridline_cli("run", env_home=home)  # the first run of a new source publishes: nothing to hold it against
    published = home / "warehouse" / "published.duckdb"
    before = _marts(published)
    with duckdb.connect(str(published), read_only=True) as con:
        placed, derived = con.sql(
            """select avg((community_code is not null)::int), avg((community_code like 'x%')::int)
               from marts.cases"""
        ).fetchall()[0]
    assert placed >= 0.99 and derived == placed  # every community comes from what the exports name
    assert _matching_sessions(published) == 0  # no activities list yet: no session matches a ticket

    time.sleep(0.01)
    as_of = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    import_demo_reference(tiny_landing, home)
    gridline_cli("run", env_home=home)
    with duckdb.connect(str(published), read_only=True) as con:
        placed, derived = con.sql(
            """select avg((community_code is not null)::int), avg((community_code like 'x%')::int)
               from marts.cases"""
        ).fetchall()[0]
    assert placed >= 0.99 and derived == 0  # reconciled: the official codes, by name and alias
    assert _matching_sessions(published) > 0  # the city's activities list matches sessions to tickets

    gridline_cli("run", "--as-of", as_of, env_home=home)
    (replayed,) = (home / "replays").glob("*.duckdb")
    assert _marts(replayed) == before  # a replay before the load reproduces the earlier marts
