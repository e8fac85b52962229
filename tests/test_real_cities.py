"""Cities gridline has never seen, onboarded from their own exports with no reference data: the whole
real export ingests and publishes on the first `gridline run`, places come from what the export names,
quarters follow the city's zone.

Real data: data/real/boston311 (johnsliao/bostonservicemap @ f19ec62, cartoDB_data/*.csv) and
data/real/cn_gov_messages/board_messages_2019H1.xlsx (Tangweiyu/SmartGovernment @ 4430cc0, data/附件3.xlsx).
"""

from __future__ import annotations

import duckdb

from tests.conftest import REAL_DATA, REPO, gridline_cli

BOSTON = REAL_DATA / "boston311" / "boston311_2015H1.csv"
BOARD = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"


def _first_run(home, mapping: str, export, timezone: str = "") -> duckdb.DuckDBPyConnection:
    """Ingest and run; an empty ``timezone`` leaves the city's zone unset, as a new user would."""
    gridline_cli("ingest", "--mapping", mapping, str(export), env_home=home, GRIDLINE_TIMEZONE=timezone)
    gridline_cli("run", env_home=home, GRIDLINE_TIMEZONE=timezone)
    assert (home / "warehouse" / "published.duckdb").exists(), "the first run published nothing"
    # the build database holds the marts the run published and the conformed cases behind them
    return duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True)


def test_boston_publishes_on_its_first_run_placed_by_ward_or_cell_in_boston_quarters(tmp_path):
    # no zone given: the home adopts the one Boston's export is written in
    with _first_run(tmp_path / "home", "boston311", BOSTON) as con:
        total, located, placed_located, at_city_hall = con.sql(
            """select count(*),
                      count(*) filter (where address is not null or community_name is not null),
                      count(*) filter (where (address is not null or community_name is not null)
                                         and not is_unplaced),
                      count(*) filter (where grid_code = (
                          select grid_code from intermediate.int_cases__conformed
                          where abs(latitude - 42.3594) < 0.0001 and abs(longitude + 71.0587) < 0.0001
                          limit 1))
               from intermediate.int_cases__conformed"""
        ).fetchall()[0]
        # Opened 03/31/2015 12:51 PM Boston time: the first quarter in Boston (the second in Shanghai).
        quarter = con.sql(
            "select quarter from marts.cases where case_id = 'boston311:101001345898'"
        ).fetchall()
        kept_cells = con.sql("select count(*) from marts.cases where grid_code like '500m:%'").fetchall()[0][
            0
        ]
    assert total == 58_119
    # every request that says where it is (an address or a ward) is placed; the rest (no address, no
    # ward, City Hall's placeholder point) cannot be
    assert placed_located / located >= 0.99 and located / total > 0.85
    assert at_city_hall == 0  # the placeholder point is no place
    assert quarter == [("2015Q1",)]
    assert kept_cells > 0.8 * total  # grid cells are kept as the cases' grid codes


def test_a_message_board_with_no_area_columns_publishes_on_its_first_run(tmp_path):
    with _first_run(tmp_path / "home", "cn_gov_messages", BOARD, "Asia/Shanghai") as con:
        cases, residents = con.sql(
            "select count(*), count(distinct resident_key) from marts.cases"
        ).fetchall()[0]
        response = con.sql(
            "select response_rate from marts.service_levels"
            " where period_type = 'quarter' and area_level = 'city'"
        ).fetchall()
    assert cases == 2_109
    assert residents > 100  # counted from the poster's (pseudonymised) name: the board has no phone
    assert response and all(rate is None for (rate,) in response)  # no contact times: unknown, not 0


def test_a_home_adopts_the_zone_of_its_first_export_unless_told_otherwise(tmp_path, monkeypatch):
    from gridline.config import load_settings
    from ingestion.ingest import IngestRequest, ingest

    monkeypatch.setenv("GRIDLINE_PII_KEY", "test-key-not-a-secret")
    monkeypatch.delenv("GRIDLINE_TIMEZONE", raising=False)
    sample = tmp_path / "boston.csv"
    with open(BOSTON, encoding="utf-8") as source:
        sample.write_text("".join(next(source) for _ in range(21)), encoding="utf-8")

    monkeypatch.setenv("GRIDLINE_HOME", str(tmp_path / "boston"))
    assert load_settings().timezone == "Asia/Shanghai"  # nothing read yet: the default
    ingest(IngestRequest(paths=[sample], mapping="boston311"), load_settings())
    assert load_settings().timezone == "America/New_York"
    # a later export written in another zone does not move the quarters already cut
    paris = tmp_path / "boston_in_paris.yml"
    shipped = REPO / "ingestion" / "mappings" / "boston311.yml"
    paris.write_text(shipped.read_text(encoding="utf-8").replace("America/New_York", "Europe/Paris"))
    ingest(IngestRequest(paths=[sample], mapping=str(paris)), load_settings())
    assert load_settings().timezone == "America/New_York"
    monkeypatch.setenv("GRIDLINE_TIMEZONE", "Europe/London")
    assert load_settings().timezone == "Europe/London"  # the setting always wins

    monkeypatch.setenv("GRIDLINE_HOME", str(tmp_path / "told"))
    ingest(IngestRequest(paths=[sample], mapping="boston311"), load_settings())
    monkeypatch.delenv("GRIDLINE_TIMEZONE")
    assert load_settings().timezone == "Asia/Shanghai"  # a home told its zone adopts none
