"""The marts fingerprint drills and DAG tests compare builds by: equal for a copy, unequal for a change."""

from __future__ import annotations

import os
import shutil

import duckdb

from tests.fingerprints import marts_fingerprint


def test_a_copy_fingerprints_equal_and_one_changed_row_changes_only_its_mart(published_home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(published_home / "warehouse", copy / "warehouse")
    original = marts_fingerprint(published_home)
    assert original and original == marts_fingerprint(copy)
    assert all(rows > 0 for rows, _ in original.values())

    # one row of one published partition file changed in place
    part = sorted((copy / "warehouse" / "marts" / "cases").glob("*.parquet"))[0]
    edited = tmp_path / "edited.parquet"
    duckdb.sql(
        f"""copy (select * replace (
                case when case_id = min(case_id) over () then coalesce(description, '') || '?'
                     else description end as description)
            from read_parquet('{part}')) to '{edited}'"""
    )
    os.replace(edited, part)
    changed = marts_fingerprint(copy)
    assert {name for name in original if changed[name] != original[name]} == {"cases"}
    assert changed["cases"][0] == original["cases"][0]


def test_nothing_published_has_an_empty_fingerprint(tmp_path):
    assert marts_fingerprint(tmp_path / "home") == {}
