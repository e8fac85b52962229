"""Scoring tickets against planted truth: pairwise precision, recall and F1, on a real DuckDB file."""

from __future__ import annotations

import json

import duckdb
import pytest

from gridline.errors import GridlineError
from gridline.evaluate import evaluate, load_truth
from tests.conftest import gridline_cli


def _warehouse(path, tickets: dict[str, list[str]], quarters: dict[str, str]) -> None:
    """A warehouse file with just what the score reads: marts.cases, marts.problem_class_ticket_cases."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.cases (case_id varchar, quarter varchar)")
    con.executemany("insert into marts.cases values (?, ?)", list(quarters.items()))
    con.execute(
        "create table marts.problem_class_ticket_cases (ticket_id varchar, quarter varchar, case_id varchar)"
    )
    con.executemany(
        "insert into marts.problem_class_ticket_cases values (?, ?, ?)",
        [(ticket, quarters[case], case) for ticket, cases in tickets.items() for case in cases],
    )
    con.close()


def test_pairwise_scores_count_merges_and_splits(tmp_path, settings):
    quarters = {c: "2025Q3" for c in "123456"}
    _warehouse(tmp_path / "w.duckdb", {"T1": ["1", "2"], "T2": ["3", "4", "5", "6"]}, quarters)
    truth = tmp_path / "truth.json"
    truth.write_text(
        json.dumps(
            {
                "classes": [
                    {"class_id": "A", "case_ids": {"2025Q3": ["1", "2", "3"]}},
                    {"class_id": "B", "case_ids": {"2025Q3": ["4", "5"]}},
                ]
            }
        )
    )
    score = evaluate(settings, truth, tmp_path / "w.duckdb")
    # found pairs: T1 1 + T2 6 = 7; true pairs: A 3 + B 1 = 4; found and true: (1,2) and (4,5)
    assert (score.found_pairs, score.true_pairs, score.matched_pairs) == (7, 4, 2)
    assert score.precision == pytest.approx(2 / 7) and score.recall == pytest.approx(0.5)
    assert score.f1 == pytest.approx(2 * (2 / 7) * 0.5 / (2 / 7 + 0.5))


def test_perfect_tickets_score_one_and_flat_truth_takes_quarters_from_cases(tmp_path, settings):
    quarters = {"a": "2025Q3", "b": "2025Q3", "c": "2025Q4", "d": "2025Q4"}
    _warehouse(tmp_path / "w.duckdb", {"T1": ["a", "b"], "T2": ["c", "d"]}, quarters)
    truth = tmp_path / "truth.json"
    # one class recurring in two quarters, listed flat: pairs only form within a quarter
    truth.write_text(json.dumps({"classes": [{"class_id": "K", "case_ids": ["a", "b", "c", "d"]}]}))
    score = evaluate(settings, truth, tmp_path / "w.duckdb")
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)
    assert score.true_pairs == 2 and score.planted_classes == 2


def test_bad_truth_files_are_clear_errors(tmp_path):
    with pytest.raises(GridlineError, match="no truth file"):
        load_truth(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(GridlineError, match="no `classes` list"):
        load_truth(tmp_path / "x.json")


def test_cli_without_published_tickets_says_so_in_one_line(tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"classes": []}))
    proc = gridline_cli("evaluate", "--truth", str(truth), env_home=tmp_path / "home", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gridline: error: nothing published yet") and proc.stderr.count("\n") == 1
