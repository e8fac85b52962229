"""``gridline evaluate``: how well tickets recover the classes of problems a truth file lists.

**Truth.** A JSON file with ``classes``, each with an ``id`` (or the generator's ``class_id``) and its
``case_ids``: case ids as in ``marts.cases.case_id`` (``<source>:<source id>``), either as one list (a case's
quarter then comes from ``marts.cases``) or by quarter (``{"2025Q3": [...]}``, the generator's
``truth.json``). Optionally ``pair_keys``: ``{case_id: [key, ...]}``; two cases sharing a key belong
together even when no class holds both (Boston: same request type at the same address or on the same
street), which is what *pair precision* accepts.

**Tickets.** gridline's are ``marts.problem_class_ticket_cases``: a ticket is one ``ticket_id`` over all
its quarters (the id names one recurring problem at one place), a *quarterly ticket* is a ticket in one
quarter. The analyst's baseline (``gridline.tfidf_baseline``) is scored on the same cases in the same run;
its components are formed per quarter, so each of its tickets is quarterly.

**Metrics.** With C a truth class and T a ticket (members counted as cases present in ``marts.cases``):

- *problems recovered* (hot-problem recall): the share of classes C whose best ticket — the T holding most
  of C (ties: the smaller T) — holds **at least half of C** (|T∩C| ≥ 0.5·|C|) with **purity at least
  one half** (|T∩C| ≥ 0.5·|T|). Recovered that way, a ticket recovers at most one class.
- *purity*: over the recovered classes, Σ|T∩C| / Σ|T| of their best tickets: the share of what the
  reviewer reads in those tickets that belongs to the problem.
- *case-weighted recall*: Σ_C max_T |T∩C| / Σ_C |C|: the share of the classes' cases that sit in their
  class's best ticket (a class of 10 split 6 + 4 counts 6).
- *pairwise precision, recall, F1* (per quarter, the usual clustering score): two cases of one quarter form
  a *true pair* when one class holds both, a *found pair* when one quarterly ticket does; precision =
  true found pairs / found pairs, recall = true found pairs / true pairs, F1 their harmonic mean. Merging
  two problems costs precision, splitting one costs recall; a background case pulled into a ticket costs
  precision. A class with one case in a quarter has no pair there.
- *pair precision*: like pairwise precision, but a found pair is also right when its two cases share a
  ``pair_keys`` key (without pair keys it equals pairwise precision).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import build_db, read_only_connection

RECOVERED_SHARE = 0.5  # of the class, held by its best ticket
RECOVERED_PURITY = 0.5  # of the best ticket, belonging to the class

GRIDLINE_TICKETS = "marts.problem_class_ticket_cases"


@dataclass(frozen=True)
class Truth:
    memberships: list[tuple[str, str | None, str]]  # (class id, quarter or None, case id)
    pair_keys: list[tuple[str, str]] = field(default_factory=list)  # (case id, key)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    found_pairs: int
    true_pairs: int
    matched_pairs: int
    pair_precision: float
    case_weighted_recall: float
    problems_recovered: int
    problems: int
    purity: float | None
    tickets: int  # quarterly tickets
    planted_classes: int  # classes per quarter with members
    truth_cases_missing: int  # truth case ids marts.cases does not know

    @property
    def problem_recall(self) -> float:
        return self.problems_recovered / self.problems if self.problems else 0.0

    def lines(self) -> list[str]:
        return Comparison(self, None).lines()


@dataclass(frozen=True)
class Comparison:
    gridline: Score
    baseline: Score | None
    baseline_addresses: str | None = None  # where the baseline read the cases' addresses

    def lines(self) -> list[str]:
        scores = [self.gridline] + ([self.baseline] if self.baseline else [])
        rows: list[tuple[str, list[str]]] = [
            (
                "problems recovered",
                [f"{s.problems_recovered:,}/{s.problems:,} = {s.problem_recall:.3f}" for s in scores],
            ),
            ("purity of recovered", ["—" if s.purity is None else f"{s.purity:.3f}" for s in scores]),
            ("case-weighted recall", [f"{s.case_weighted_recall:.3f}" for s in scores]),
            ("pair precision", [f"{s.pair_precision:.3f}" for s in scores]),
            ("pairwise precision", [f"{s.precision:.3f}" for s in scores]),
            ("pairwise recall", [f"{s.recall:.3f}" for s in scores]),
            ("pairwise F1", [f"{s.f1:.3f}" for s in scores]),
            ("quarterly tickets", [f"{s.tickets:,}" for s in scores]),
        ]
        header = ["gridline"] + (["TF-IDF baseline"] if self.baseline else [])
        width = max(len(cell) for _, cells in rows for cell in cells + header) + 2
        lines = [f"{'':<22}" + "".join(f"{name:>{width}}" for name in header)]
        lines += [f"{label:<22}" + "".join(f"{cell:>{width}}" for cell in cells) for label, cells in rows]
        g = self.gridline
        lines.append(
            f"truth: {g.problems:,} classes ({g.planted_classes:,} per quarter), {g.true_pairs:,} true pairs"
            + (
                f"; {g.truth_cases_missing:,} truth case ids are not in marts.cases"
                if g.truth_cases_missing
                else ""
            )
        )
        if self.baseline_addresses:
            lines.append(f"baseline's addresses: {self.baseline_addresses}")
        return lines


def load_truth(path: Path) -> Truth:
    """The memberships (and pair keys) of a generic or generator truth file."""
    try:
        truth = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GridlineError(f"no truth file at {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GridlineError(f"{path} is not a JSON truth file: {exc}") from None
    classes = truth.get("classes") if isinstance(truth, dict) else None
    if not isinstance(classes, list):
        raise GridlineError(f"{path} has no `classes` list: is it a truth file?")
    memberships: list[tuple[str, str | None, str]] = []
    for index, planted in enumerate(classes):
        if not isinstance(planted, dict):
            raise GridlineError(f"{path}: class {index} is not an object with `case_ids`")
        class_id = str(planted.get("id", planted.get("class_id", index)))
        members = planted.get("case_ids", planted.get("members", []))
        if isinstance(members, dict):
            memberships += [(class_id, q, str(case_id)) for q, ids in members.items() for case_id in ids]
        elif isinstance(members, list):
            memberships += [(class_id, None, str(case_id)) for case_id in members]
        else:
            raise GridlineError(f"{path}: class {class_id}: `case_ids` must be a list or a by-quarter object")
    keys = truth.get("pair_keys") or {}
    if not isinstance(keys, dict):
        raise GridlineError(f"{path}: `pair_keys` must map case ids to lists of keys")
    pair_keys = [(str(case_id), str(key)) for case_id, case_keys in keys.items() for key in case_keys]
    return Truth(memberships, pair_keys)


def _load_truth_tables(con: duckdb.DuckDBPyConnection, truth: Truth) -> int:
    """Temp tables ``planted`` (class_id, quarter, case_id) and ``keyed``; returns the unknown case ids."""
    con.execute(
        "create or replace temp table truth_rows (class_id varchar, quarter varchar, case_id varchar)"
    )
    if truth.memberships:
        con.executemany("insert into truth_rows values (?, ?, ?)", truth.memberships)
    con.execute(
        """
        create or replace temp table planted as
        select distinct truth_rows.class_id, coalesce(truth_rows.quarter, cases.quarter) as quarter,
               truth_rows.case_id
        from truth_rows join marts.cases as cases on truth_rows.case_id = cases.case_id
        """
    )
    con.execute("create or replace temp table keyed (case_id varchar, key varchar)")
    if truth.pair_keys:
        con.executemany("insert into keyed values (?, ?)", truth.pair_keys)
        # A class is a key too: a pair in one class (in one quarter) is always right.
        con.execute("insert into keyed select case_id, 'class ' || class_id || ' ' || quarter from planted")
    unknown = "select count(distinct case_id) from truth_rows anti join marts.cases using (case_id)"
    return con.execute(unknown).fetchone()[0]


def score(con: duckdb.DuckDBPyConnection, truth: Truth, tickets: str = GRIDLINE_TICKETS) -> Score:
    """The module docstring's metrics for the tickets in table ``tickets`` (ticket_id, quarter, case_id)."""
    missing = _load_truth_tables(con, truth)
    con.execute(
        f"create or replace temp table found as select distinct ticket_id, quarter, case_id from {tickets}"
    )
    found_pairs, true_pairs, matched, quarterly_tickets, quarterly_classes = con.execute(
        """
        with found_sets as (select ticket_id, quarter, count(*) as n from found group by all),
             true_sets as (select class_id, quarter, count(*) as n from planted group by all),
             overlap as (select f.ticket_id, p.class_id, f.quarter, count(*) as n
                         from found as f join planted as p using (case_id, quarter) group by all)
        select (select coalesce(sum(n * (n - 1) // 2), 0) from found_sets),
               (select coalesce(sum(n * (n - 1) // 2), 0) from true_sets),
               (select coalesce(sum(n * (n - 1) // 2), 0) from overlap),
               (select count(*) from found_sets),
               (select count(*) from true_sets)
        """
    ).fetchone()
    # Without pair keys the right pairs are the class pairs; with them, pairs sharing a key (enumerated:
    # a pair may share several keys, and a key group is never larger than the truth data's own).
    keyed_matched = matched
    if truth.pair_keys:
        keyed_matched = con.execute(
            """
            with keyed_found as (select f.ticket_id, f.quarter, f.case_id, k.key
                                 from found as f join keyed as k using (case_id))
            select count(*) from (
                select distinct a.quarter, a.case_id, b.case_id
                from keyed_found as a join keyed_found as b
                  on a.ticket_id = b.ticket_id and a.quarter = b.quarter and a.key = b.key
                 and a.case_id < b.case_id)
            """
        ).fetchone()[0]
    # Whole classes against whole tickets (a ticket_id over all its quarters).
    rows = con.execute(
        """
        with class_sizes as (select class_id, count(distinct case_id) as class_n from planted group by all),
             ticket_sizes as (select ticket_id, count(distinct case_id) as ticket_n from found group by all),
             overlap as (select p.class_id, f.ticket_id, count(distinct case_id) as n
                         from planted as p join found as f using (case_id) group by all),
             best as (select class_id, ticket_id, n from overlap join ticket_sizes using (ticket_id)
                      qualify row_number() over (
                          partition by class_id order by n desc, ticket_n, ticket_id) = 1)
        select class_n, coalesce(n, 0), ticket_n
        from class_sizes left join best using (class_id) left join ticket_sizes using (ticket_id)
        """
    ).fetchall()
    recovered = [
        (held, ticket_n)
        for class_n, held, ticket_n in rows
        if held and held >= RECOVERED_SHARE * class_n and held >= RECOVERED_PURITY * ticket_n
    ]
    class_cases = sum(class_n for class_n, _, _ in rows)
    precision = matched / found_pairs if found_pairs else 0.0
    recall = matched / true_pairs if true_pairs else 0.0
    return Score(
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        found_pairs=int(found_pairs),
        true_pairs=int(true_pairs),
        matched_pairs=int(matched),
        pair_precision=keyed_matched / found_pairs if found_pairs else 0.0,
        case_weighted_recall=sum(held for _, held, _ in rows) / class_cases if class_cases else 0.0,
        problems_recovered=len(recovered),
        problems=len(rows),
        purity=sum(h for h, _ in recovered) / sum(t for _, t in recovered) if recovered else None,
        tickets=int(quarterly_tickets),
        planted_classes=int(quarterly_classes),
        truth_cases_missing=int(missing),
    )


def score_baseline(con: duckdb.DuckDBPyConnection, truth: Truth, addresses: dict[str, str]) -> Score:
    """The analyst's TF-IDF baseline, formed on every case of ``marts.cases`` (with its address from
    ``addresses``, see ``case_addresses``) and scored like gridline."""
    from gridline.tfidf_baseline import baseline_tickets

    rows = con.execute(
        """
        select case_id, quarter, concat_ws(' ', title, description) as text
        from marts.cases
        where quarter is not null
        """
    ).fetchall()
    cases = [
        (case_id, quarter, " ".join(part for part in (text, addresses.get(case_id)) if part))
        for case_id, quarter, text in rows
    ]
    con.execute(
        "create or replace temp table baseline_tickets (ticket_id varchar, quarter varchar, case_id varchar)"
    )
    tickets = baseline_tickets(cases)
    if tickets:
        con.executemany("insert into baseline_tickets values (?, ?, ?)", tickets)
    return score(con, truth, "baseline_tickets")


CONFORMED_ADDRESSES = "select case_id, address from intermediate.int_cases__conformed where address <> ''"


def case_addresses(
    con: duckdb.DuckDBPyConnection, settings: Settings, database: Path | None
) -> tuple[dict[str, str], str]:
    """Every case's address for the baseline (an analyst reads the export's address column), and where it
    was read. The marts do not carry it, so the published warehouse has none: it is read from the build
    database beside it (``warehouse/build.duckdb``, which keeps the intermediate models), or from the
    warehouse file given when that is itself a build. None when neither has it, or the build database is
    held by a run writing it."""
    if _has_conformed_address(con):
        return dict(con.execute(CONFORMED_ADDRESSES).fetchall()), "the warehouse given"
    build = build_db(settings)
    if database is not None or not build.exists():
        return {}, "none (the warehouse keeps no intermediate models)"
    try:
        with duckdb.connect(str(build), read_only=True) as build_con:
            if not _has_conformed_address(build_con):
                return {}, f"none ({build.name} has no conformed cases)"
            return dict(build_con.execute(CONFORMED_ADDRESSES).fetchall()), build.name
    except duckdb.Error as exc:  # a run holds the build database: score without addresses, and say so
        return {}, f"none ({build.name} could not be read: {str(exc).splitlines()[0][:120]})"


def _has_conformed_address(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connected warehouse keeps the conformed cases' address (a build database does)."""
    found = con.execute(
        """
        select count(*) from information_schema.columns
        where table_schema = 'intermediate' and table_name = 'int_cases__conformed'
          and column_name = 'address'
        """
    ).fetchone()[0]
    return found > 0


def evaluate(settings: Settings, truth_path: Path, database: Path | None = None) -> Score:
    """gridline's published tickets (or another built warehouse file's) scored against a truth file."""
    return compare(settings, truth_path, database, baseline=False).gridline


def compare(
    settings: Settings, truth_path: Path, database: Path | None = None, *, baseline: bool = True
) -> Comparison:
    """gridline's tickets and, unless ``baseline`` is false, the TF-IDF baseline's, against one truth."""
    truth = load_truth(truth_path)
    con = read_only_connection(settings, database)
    try:
        gridline_score = score(con, truth)
        if not baseline:
            return Comparison(gridline_score, None)
        addresses, read_from = case_addresses(con, settings, database)
        return Comparison(gridline_score, score_baseline(con, truth, addresses), read_from)
    except duckdb.CatalogException as exc:
        raise GridlineError(
            f"the warehouse has no tickets to score ({exc.args[0].splitlines()[0]})"
        ) from None
    finally:
        con.close()
