"""Cities gridline has never seen, onboarded from their own exports with no reference data: the whole
real export ingests and publishes on the first `gridline run`, places come from what the export names,
quarters follow the city's zone.

Real data: data/real/boston311 (johnsliao/bostonservicemap @ f19ec62, cartoDB_data/*.csv) and
data/real/cn_gov_messages/board_messages_2019H1.xlsx (Tangweiyu/SmartGovernment @ 4430cc0, data/附件3.xlsx).
"""

from __future__ import annotations

import duckdb

from tests.conftest import REAL_DATA, gridline_cli

BOSTON = REAL_DATA / "boston311" / "boston311_2015H1.csv"
BOARD = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"


def _first_run(home, mapping: str, export, timezone: str) -> duckdb.DuckDBPyConnection:
    gridline_cli("ingest", "--mapping", mapping, str(export), env_home=home, GRIDLINE_TIMEZONE=timezone)
    gridline_cli("run", env_home=home, GRIDLINE_TIMEZONE=timezone)
    return duckdb.connect(str(home / "warehouse" / "published.duckdb"), read_only=True)


def test_boston_publishes_on_its_first_run_placed_by_ward_or_cell_in_boston_quarters(tmp_path):
    with _first_run(tmp_path / "home", "boston311", BOSTON, "America/New_York") as con:
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
