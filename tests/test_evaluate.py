"""Scoring tickets against truth (generic membership truth and the generator's), on real DuckDB files,
and the analyst's TF-IDF baseline on rows of the real message board."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from gridline.errors import GridlineError
from gridline.evaluate import evaluate, load_truth
from gridline.tfidf_baseline import baseline_tickets, is_chinese
from tests.conftest import REAL_DATA, gridline_cli


def _warehouse(
    path, tickets: dict[str, list[str]], quarters: dict[str, str], texts: dict[str, str] | None = None
) -> None:
    """A warehouse file with just what the scores read: marts.cases, marts.problem_class_ticket_cases."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        "create table marts.cases (case_id varchar, quarter varchar, title varchar, description varchar)"
    )
    texts = texts or {}
    con.executemany(
        "insert into marts.cases values (?, ?, ?, null)", [(c, q, texts.get(c)) for c, q in quarters.items()]
    )
    con.execute(
        "create table marts.problem_class_ticket_cases (ticket_id varchar, quarter varchar, case_id varchar)"
    )
    rows = [(ticket, quarters[case], case) for ticket, cases in tickets.items() for case in cases]
    if rows:
        con.executemany("insert into marts.problem_class_ticket_cases values (?, ?, ?)", rows)
    con.close()


def _truth(tmp_path, document: dict):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


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
    (tmp_path / "y.json").write_text('{"classes": [{"id": "A", "case_ids": "a,b"}]}')
    with pytest.raises(GridlineError, match="class A: `case_ids` must be a list"):
        load_truth(tmp_path / "y.json")


def test_cli_without_published_tickets_says_so_in_one_line(tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"classes": []}))
    proc = gridline_cli("evaluate", "--truth", str(truth), env_home=tmp_path / "home", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("gridline: error: nothing published yet") and proc.stderr.count("\n") == 1


def test_generic_truth_problems_recovered_purity_and_case_weighted_recall(tmp_path, settings):
    # A: 4 cases over two quarters; ticket T1 (one ticket_id, both quarters) holds 3 of them and 1 other.
    # B: 4 cases split 2 + 2 over T2 and T3: its best ticket (T2, the tie broken by id) holds exactly
    # half of it and nothing else, so B is recovered at the 0.5 share.
    # C: 3 cases; T4 holds 1 of them among 3 others: neither half of C nor pure.
    quarters = {"a1": "2019Q1", "a2": "2019Q2", "a3": "2019Q2", "a4": "2019Q2", "x1": "2019Q2"}
    quarters |= {f"b{i}": "2019Q2" for i in range(1, 5)} | {f"c{i}": "2019Q2" for i in range(1, 4)}
    quarters |= {f"y{i}": "2019Q2" for i in range(1, 4)}
    tickets = {
        "T1": ["a1", "a2", "a3", "x1"],
        "T2": ["b1", "b2"],
        "T3": ["b3", "b4"],
        "T4": ["c1", "y1", "y2", "y3"],
    }
    _warehouse(tmp_path / "w.duckdb", tickets, quarters)
    truth = _truth(
        tmp_path,
        {
            "classes": [
                {"id": "A", "case_ids": ["a1", "a2", "a3", "a4"]},
                {"id": "B", "case_ids": ["b1", "b2", "b3", "b4"]},
                {"id": "C", "case_ids": ["c1", "c2", "c3", "not-ingested"]},
            ]
        },
    )
    score = evaluate(settings, truth, tmp_path / "w.duckdb")
    assert (score.problems_recovered, score.problems) == (2, 3)
    # recovered: A by T1 (3 of its 4 cases are A's), B by T2 (2 of 2)
    assert score.purity == pytest.approx((3 + 2) / (4 + 2))
    assert score.case_weighted_recall == pytest.approx((3 + 2 + 1) / (4 + 4 + 3))
    assert score.truth_cases_missing == 1
    # pairs are per quarter: A has 3 true pairs in 2019Q2 and none in 2019Q1; T1 finds (a2, a3) there
    assert score.true_pairs == 3 + 6 + 3 and score.matched_pairs == 1 + 1 + 1


def test_pair_keys_make_a_pair_outside_every_class_right_for_pair_precision_only(tmp_path, settings):
    quarters = {c: "2015Q1" for c in ["p1", "p2", "p3", "s1", "s2", "z"]}
    # T1: the class's three requests; T2: two requests of the type on the same street, and an unrelated one
    _warehouse(tmp_path / "w.duckdb", {"T1": ["p1", "p2", "p3"], "T2": ["s1", "s2", "z"]}, quarters)
    keys = {"p1": [1, 2], "p2": [1, 2], "p3": [1, 2], "s1": [2, 3], "s2": [2], "z": [9]}
    truth = _truth(tmp_path, {"classes": [{"id": "P", "case_ids": ["p1", "p2", "p3"]}], "pair_keys": keys})
    score = evaluate(settings, truth, tmp_path / "w.duckdb")
    assert score.found_pairs == 3 + 3
    assert score.precision == pytest.approx(3 / 6)  # only the class's own pairs
    assert score.pair_precision == pytest.approx(4 / 6)  # plus (s1, s2): same type, same street
    assert (score.recall, score.case_weighted_recall, score.problems_recovered) == (1.0, 1.0, 1)


def _board_messages() -> dict[str, str]:
    """Real message board rows: id -> title + text."""
    path = REAL_DATA / "cn_gov_messages" / "board_messages_2019H1.xlsx"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=True)
    return {f"cn_gov_messages:{int(r[0])}": f"{r[2]} {r[4]}" for r in rows[1:]}


def test_baseline_links_the_real_false_advertising_messages_and_not_unrelated_ones():
    board = _board_messages()
    # four real messages about 兴汝金城二期's false advertising (three share most of their text) ...
    same = [
        "cn_gov_messages:210513",
        "cn_gov_messages:242917",
        "cn_gov_messages:244815",
        "cn_gov_messages:253636",
    ]
    # ... and messages on other problems: a photo studio's taxes, a village's demolition, a bus route
    other = ["cn_gov_messages:188006", "cn_gov_messages:189093", "cn_gov_messages:207597"]
    assert all(is_chinese(board[c]) for c in same + other)
    tickets = baseline_tickets([(c, "2019Q1", board[c]) for c in same + other])
    by_ticket: dict[str, set[str]] = {}
    for ticket_id, quarter, case_id in tickets:
        assert quarter == "2019Q1"
        by_ticket.setdefault(ticket_id, set()).add(case_id)
    assert list(by_ticket.values()) == [set(same)]
    # per quarter: the same messages split over two quarters leave no component of three
    split = [(c, "2019Q1" if i % 2 else "2019Q2", board[c]) for i, c in enumerate(same)]
    assert baseline_tickets(split) == []


def test_baseline_uses_word_ngrams_for_english():
    requests = [
        ("b1", "2015Q1", "Street Light Outages 145 Ipswich St"),
        ("b2", "2015Q1", "Street Light Outages 151 Ipswich St"),
        ("b3", "2015Q1", "Street Light Outages Ipswich St"),
        ("b4", "2015Q1", "Graffiti Removal 33 Beacon St"),
        ("b5", "2015Q1", "Pothole Repair (Internal) INTERSECTION of Adams St & Dorchester Ave"),
    ]
    assert not any(is_chinese(text) for _, _, text in requests)
    members = {case_id for _, _, case_id in baseline_tickets(requests)}
    assert members == {"b1", "b2", "b3"}


def test_cli_prints_gridline_beside_the_baseline(tmp_path):
    board = _board_messages()
    same = [
        "cn_gov_messages:210513",
        "cn_gov_messages:242917",
        "cn_gov_messages:244815",
        "cn_gov_messages:253636",
    ]
    other = ["cn_gov_messages:188006", "cn_gov_messages:189093"]
    quarters = {c: "2019Q1" for c in same + other}
    # gridline's ticket here holds only two of the four
    _warehouse(tmp_path / "w.duckdb", {"T1": same[:2]}, quarters, {c: board[c] for c in quarters})
    truth = _truth(tmp_path, {"classes": [{"id": "xingru", "case_ids": same}]})
    printed = gridline_cli(
        "evaluate", "--truth", str(truth), "--database", str(tmp_path / "w.duckdb"), env_home=tmp_path / "h"
    ).stdout
    lines = printed.splitlines()
    assert re.split(r"\s{2,}", lines[0].strip()) == ["gridline", "TF-IDF baseline"]
    assert re.split(r"\s{2,}", lines[1].strip()) == ["problems recovered", "1/1 = 1.000", "1/1 = 1.000"]
    assert re.split(r"\s{2,}", lines[3].strip()) == ["case-weighted recall", "0.500", "1.000"]
    without = gridline_cli(
        "evaluate",
        "--truth",
        str(truth),
        "--database",
        str(tmp_path / "w.duckdb"),
        "--no-baseline",
        env_home=tmp_path / "h",
    ).stdout
    assert "baseline" not in without and "pairwise F1" in without


def test_the_baseline_reads_addresses_from_the_build_database_beside_the_published_one(tmp_path):
    # Three requests at one address with no other text, two elsewhere: only the address links them.
    addresses = {c: "12 Elm St" for c in ("b1", "b2", "b3")} | {"x1": "400 Harbor Rd", "x2": "9 Oak Ave"}
    warehouse = tmp_path / "h" / "warehouse"
    warehouse.mkdir(parents=True)
    _warehouse(warehouse / "published.duckdb", {}, {c: "2015Q1" for c in addresses})
    build = duckdb.connect(str(warehouse / "build.duckdb"))
    build.execute("create schema intermediate")
    build.execute("create table intermediate.int_cases__conformed (case_id varchar, address varchar)")
    build.executemany("insert into intermediate.int_cases__conformed values (?, ?)", list(addresses.items()))
    build.close()
    truth = _truth(tmp_path, {"classes": [{"id": "elm", "case_ids": ["b1", "b2", "b3"]}]})

    def printed(*database: str) -> list[str]:
        args = ("evaluate", "--truth", str(truth), *database)
        return gridline_cli(*args, env_home=tmp_path / "h").stdout.splitlines()

    published = printed()
    assert re.split(r"\s{2,}", published[3].strip()) == ["case-weighted recall", "0.000", "1.000"]
    assert published[-1] == "baseline's addresses: build.duckdb"
    # another warehouse file that keeps no intermediate models: the baseline has the texts alone
    given = printed("--database", str(warehouse / "published.duckdb"))
    assert re.split(r"\s{2,}", given[3].strip()) == ["case-weighted recall", "0.000", "0.000"]
    assert given[-1].startswith("baseline's addresses: none")
