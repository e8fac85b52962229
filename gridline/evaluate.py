"""``gridline evaluate``: how well the published tickets find the generator's planted classes of problems.

The score is over case memberships, counted as pairs (pairwise co-membership, the usual clustering score):
two cases of the same quarter form a *true pair* when the truth puts them in the same planted class, and a
*found pair* when the published marts put them in the same ticket. Then

- precision = found pairs that are true / found pairs   (tickets hold only cases of one real problem),
- recall    = true pairs that are found / true pairs    (each real problem's cases sit together),
- F1        = their harmonic mean.

Pairs reward keeping a class whole and punish both merging two problems and splitting one, and a case
outside every class (background noise) costs precision only when a ticket pulls it in. A class with a single
case in a quarter has no pair there and does not count. The truth file (``truth.json`` beside generated
landing files) lists ``classes``, each with ``case_ids`` either by quarter (``{"2025Q3": [...]}``) or as one
list (quarters then come from ``marts.cases``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import read_only_connection


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    found_pairs: int
    true_pairs: int
    matched_pairs: int
    tickets: int
    planted_classes: int

    def lines(self) -> list[str]:
        return [
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}",
            f"pairs: {self.matched_pairs:,} of {self.found_pairs:,} found are true, "
            f"{self.matched_pairs:,} of {self.true_pairs:,} true are found",
            f"tickets (quarterly, with members): {self.tickets:,}; planted classes (quarterly): "
            f"{self.planted_classes:,}",
        ]


def load_truth(path: Path) -> list[tuple[str, str | None, str]]:
    """(class_id, quarter or None, case_id) for every planted membership."""
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GridlineError(f"no truth file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GridlineError(f"{path} is not a JSON truth file: {exc}") from None
    classes = truth.get("classes") if isinstance(truth, dict) else None
    if not isinstance(classes, list):
        raise GridlineError(f"{path} has no `classes` list: is it a gridline truth.json?")
    rows: list[tuple[str, str | None, str]] = []
    for index, planted in enumerate(classes):
        class_id = str(planted.get("class_id", index))
        members = planted.get("case_ids", planted.get("members", []))
        if isinstance(members, dict):
            rows += [(class_id, quarter, case_id) for quarter, ids in members.items() for case_id in ids]
        else:
            rows += [(class_id, None, case_id) for case_id in members]
    return rows


def score(con: duckdb.DuckDBPyConnection, truth: list[tuple[str, str | None, str]]) -> Score:
    """Pairwise precision, recall and F1 of ``marts.problem_class_ticket_cases`` against ``truth``."""
    con.execute(
        "create or replace temp table truth_rows (class_id varchar, quarter varchar, case_id varchar)"
    )
    if truth:
        con.executemany("insert into truth_rows values (?, ?, ?)", truth)
    con.execute(
        """
        create or replace temp table planted as
        select truth_rows.class_id, coalesce(truth_rows.quarter, cases.quarter) as quarter, truth_rows.case_id
        from truth_rows left join marts.cases as cases on truth_rows.case_id = cases.case_id
        where coalesce(truth_rows.quarter, cases.quarter) is not null
        """
    )
    found_pairs, true_pairs, matched, tickets, classes = con.sql(
        """
        with found as (select ticket_id, quarter, count(*) as n
                       from marts.problem_class_ticket_cases group by ticket_id, quarter),
             true_sets as (select class_id, quarter, count(distinct case_id) as n
                           from planted group by class_id, quarter),
             overlap as (select t.ticket_id, p.class_id, t.quarter, count(distinct t.case_id) as n
                         from marts.problem_class_ticket_cases as t
                         join planted as p on t.case_id = p.case_id and t.quarter = p.quarter
                         group by t.ticket_id, p.class_id, t.quarter)
        select (select coalesce(sum(n * (n - 1) / 2), 0) from found),
               (select coalesce(sum(n * (n - 1) / 2), 0) from true_sets),
               (select coalesce(sum(n * (n - 1) / 2), 0) from overlap),
               (select count(*) from found),
               (select count(*) from true_sets)
        """
    ).fetchall()[0]
    precision = matched / found_pairs if found_pairs else 0.0
    recall = matched / true_pairs if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, int(found_pairs), int(true_pairs), int(matched), tickets, classes)


def evaluate(settings: Settings, truth_path: Path, database: Path | None = None) -> Score:
    """Score the published marts (or another built warehouse file) against a truth file."""
    truth = load_truth(truth_path)
    con = read_only_connection(settings, database)
    try:
        return score(con, truth)
    except duckdb.CatalogException as exc:
        raise GridlineError(
            f"the warehouse has no tickets to score ({exc.args[0].splitlines()[0]})"
        ) from None
    finally:
        con.close()
