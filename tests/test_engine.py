"""Which engine dbt builds on: one setting, GRIDLINE_ENGINE, DuckDB unless told (docs/scale-out.md)."""

from __future__ import annotations

import pytest

from gridline.config import build_engine, load_settings
from gridline.errors import GridlineError
from gridline.warehouse import dbt_env


def test_duckdb_unless_told(monkeypatch):
    monkeypatch.delenv("GRIDLINE_ENGINE", raising=False)
    assert build_engine() == "duckdb"
    monkeypatch.setenv("GRIDLINE_ENGINE", " ")
    assert build_engine() == "duckdb"


@pytest.mark.parametrize("engine", ["spark", "spark_cluster"])
def test_a_spark_output_of_the_profile_is_an_engine(monkeypatch, engine):
    monkeypatch.setenv("GRIDLINE_ENGINE", engine)
    assert build_engine() == engine


def test_an_unknown_engine_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv("GRIDLINE_ENGINE", "postgres")
    with pytest.raises(GridlineError, match="GRIDLINE_ENGINE='postgres'"):
        build_engine()


def test_dbt_is_told_the_engine_and_where_a_local_spark_keeps_its_tables(home, monkeypatch):
    monkeypatch.setenv("GRIDLINE_ENGINE", "spark")
    settings = load_settings()
    env = dbt_env(settings, settings.warehouse_dir / "build.duckdb", "unused")
    assert env["GRIDLINE_ENGINE"] == "spark"
    assert env["GRIDLINE_SPARK_DIR"] == str(home.resolve() / "warehouse" / "spark")


def test_an_engine_chosen_on_the_command_line_wins_over_the_setting(monkeypatch):
    monkeypatch.setenv("GRIDLINE_ENGINE", "spark")
    assert build_engine("duckdb") == "duckdb"
    with pytest.raises(GridlineError, match="--engine='postgres'"):
        build_engine("postgres")
