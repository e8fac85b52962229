"""Validate frames against the expectation suites with Great Expectations, and render the Data Docs.

Suites live in ``expectations/suites/*.json`` in Great Expectations' own suite format. Each says in its
``meta`` what it guards: ``gridline_scope`` is ``batch`` (validated once per newly arrived batch, its
``gridline_query`` taking the batch id as ``$batch_id``) or ``marts`` (validated on every candidate);
``gridline_query`` is the SQL whose result is validated.

Why frames and not GX's SQL data source: GX on DuckDB through SQLAlchemy (duckdb_engine) fails every
expectation with ``list index out of range`` (it mis-reads result rows), so a check would fail for the
tool's reason, not the data's. The rows are therefore pulled from DuckDB into pandas — GX's best-tested
path — and the frames stay small by construction: the new batches only, the marts' changed rows, and
aggregates that DuckDB computes set-based (trailing statistics, rate ranges, row-count conservation).
A frame holds only the columns its suite's expectations read: a first run audits every case, and a
megacity year's 5.9 M cases with all their columns took 19.6 GB in pandas.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from expectations.offline_docs import make_offline
from gridline.block_cache import release_cached_blocks

SUITES_DIR = Path(__file__).resolve().parent / "suites"
DATASOURCE = "warehouse"


@dataclass
class FailedExpectation:
    suite: str
    expectation: str
    column: str | None
    detail: str
    subject: str = ""  # the batch id for batch suites

    def describe(self) -> str:
        where = f"[{self.subject}] " if self.subject else ""
        return f"{where}{self.suite}: {self.expectation}({self.column or ''}) {self.detail}".strip()


@dataclass
class SuiteOutcome:
    suite: str
    subject: str
    success: bool
    expectations: int
    failures: list[FailedExpectation] = field(default_factory=list)
    page: Path | None = None


@dataclass
class AuditResult:
    success: bool = True
    suites: int = 0
    expectations: int = 0
    failures: list[FailedExpectation] = field(default_factory=list)
    outcomes: list[SuiteOutcome] = field(default_factory=list)
    docs_index: Path | None = None

    def add(self, outcome: SuiteOutcome) -> None:
        self.outcomes.append(outcome)
        self.suites += 1
        self.expectations += outcome.expectations
        self.failures += outcome.failures
        self.success = self.success and outcome.success


# The arguments by which an expectation names the columns it reads, and the expectations that read the
# number of rows and no column.
_COLUMN_ARGUMENTS = ("column", "column_A", "column_B", "column_list")
_ROW_COUNT_EXPECTATIONS = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


def columns_read(spec: dict) -> list[str] | None:
    """The columns a suite's expectations read, in order of first mention; None when one of them reads
    the table as a whole (its set of columns) or none names a column, so the frame keeps every column."""
    columns: list[str] = []
    for item in spec["expectations"]:
        named: list[str] = []
        for argument in _COLUMN_ARGUMENTS:
            value = item["kwargs"].get(argument)
            if value is not None:
                named += value if isinstance(value, list) else [value]
        if not named and item["type"] not in _ROW_COUNT_EXPECTATIONS:
            return None
        columns += [column for column in named if column not in columns]
    return columns or None


def suite_query(spec: dict) -> str:
    """The suite's query, narrowed to the columns its expectations read."""
    query = spec["meta"]["gridline_query"]
    columns = columns_read(spec)
    if columns is None:
        return query
    quoted = ", ".join('"' + column.replace('"', '""') + '"' for column in columns)
    return f"select {quoted} from ({query}) as suite_rows"


def load_suites(scope: str | None = None) -> list[dict]:
    suites = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SUITES_DIR.glob("*.json"))]
    return [s for s in suites if scope is None or s["meta"].get("gridline_scope") == scope]


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _import_great_expectations():
    """``great_expectations``, imported as if pyspark were not installed (unless it is loaded already).

    GX imports pyspark's modules whenever pyspark is installed, and dbt-spark installs it: that cost
    0.7 s of every audited run, and pyspark's warnings about the pandas version reached the run's output.
    The audit validates pandas frames only, so GX's own fallback for a missing pyspark is what it needs.
    A ``None`` in ``sys.modules`` makes an import fail as if the module were absent; it is taken out
    again at once, so a Spark build later in the same process imports pyspark as usual.
    """
    if "pyspark" in sys.modules:
        import great_expectations

        return great_expectations
    sys.modules["pyspark"] = None  # type: ignore[assignment]
    try:
        import great_expectations
    finally:
        if sys.modules.get("pyspark", 0) is None:
            del sys.modules["pyspark"]
    return great_expectations


def _describe_failure(suite: str, subject: str, result) -> FailedExpectation:
    config = result.expectation_config
    stats = result.result or {}
    detail = ""
    if "unexpected_count" in stats:
        detail = f"{stats['unexpected_count']} unexpected"
        sample = stats.get("partial_unexpected_list") or []
        if sample:
            detail += f", e.g. {sample[:3]}"
    elif "observed_value" in stats:
        detail = f"observed {stats['observed_value']}"
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail = f"error: {result.exception_info.get('exception_message')}"
    column = config.kwargs.get("column") or ",".join(
        config.kwargs.get("column_list")
        or [config.kwargs.get("column_A") or "", config.kwargs.get("column_B") or ""]
    ).strip(",")
    return FailedExpectation(suite, config.type, column or None, detail, subject)


# How many validation results GX's store keeps: about two weeks of a city's nights. Each audit's Data Docs
# read the store's whole listing (GX parses every stored key's run time) and load every result the index
# lists, so a store that kept every night made each night's audit slower by every night before it: the
# index took 0.9 s over 144 stored results and 2.8 s over 2,880, about half a city's year of nights.
KEPT_RESULTS = 200


def archive_old_results(project_dir: Path, keep: int = KEPT_RESULTS) -> int:
    """Move all but the newest ``keep`` validation results of the GX project under ``project_dir`` out of
    its store, into ``archive/validations`` beside it (same relative paths); returns how many moved.

    Nothing is deleted: an archived result is evidence of an audit, its rendered page stays where the run
    reports link to it, and the audit's verdict is in the batch ledger either way. GX's file store keeps
    a result at ``<suite>/<run name>/<run time>/<batch>.json``; run times sort as text.
    """
    store = project_dir / "gx" / "uncommitted" / "validations"
    if not store.is_dir():
        return 0
    results = sorted(store.glob("*/*/*/*.json"), key=lambda path: path.parent.name, reverse=True)
    archive = project_dir / "archive" / "validations"
    for result in results[keep:]:
        target = archive / result.relative_to(store)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(result, target)
        for folder in (result.parent, result.parent.parent):  # the run's folders, once empty
            with contextlib.suppress(OSError):
                folder.rmdir()
    return max(len(results) - keep, 0)


class Checkpoint:
    """One audit session: a file-backed GX project under ``project_dir`` whose Data Docs accumulate.

    Suites are validated one frame at a time (``validate``); ``finish`` renders the pages of this
    session's results and the index, then rewrites them to work offline.
    """

    def __init__(self, project_dir: Path):
        _quiet_gx()
        gx = _import_great_expectations()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        project_dir.mkdir(parents=True, exist_ok=True)
        archive_old_results(project_dir)
        self.context = gx.get_context(mode="file", project_root_dir=str(project_dir))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.datasource = self.context.data_sources.add_or_update_pandas(DATASOURCE)
        self._identifiers: list = []
        self._suites: dict[str, object] = {}
        self._pages: list[tuple[SuiteOutcome, object]] = []

    def _validation_definition(self, spec: dict):
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        name = spec["name"]
        suite = ExpectationSuite(name=name, meta=spec.get("meta", {}))
        for item in spec["expectations"]:
            suite.add_expectation_configuration(
                ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"], meta=item.get("meta"))
            )
        suite = self.context.suites.add_or_update(suite)
        asset = (
            self.datasource.get_asset(name)
            if name in self.datasource.get_asset_names()
            else self.datasource.add_dataframe_asset(name)
        )
        batch_definition = (
            asset.batch_definitions[0]
            if asset.batch_definitions
            else asset.add_batch_definition_whole_dataframe(name)
        )
        return self.context.validation_definitions.add_or_update(
            self._gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )

    def validate(self, spec: dict, frame, subject: str = "") -> SuiteOutcome:
        """Validate one frame against one suite; ``subject`` (a batch id) names the run in the Data Docs."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        definition = self._validation_definition(spec)
        run_id = RunIdentifier(run_name=subject or "marts", run_time=datetime.now(UTC))
        results = definition.run(
            batch_parameters={"dataframe": frame}, run_id=run_id, result_format="SUMMARY"
        )
        outcome = SuiteOutcome(spec["name"], subject, bool(results.success), len(results.results))
        outcome.failures = [
            _describe_failure(spec["name"], subject, r) for r in results.results if not r.success
        ]
        identifier = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(spec["name"]), run_id, f"{DATASOURCE}-{spec['name']}"
        )
        self._identifiers.append(identifier)
        if spec["name"] not in self._suites:  # the suite's own page, which the validation page links to
            self._suites[spec["name"]] = ExpectationSuiteIdentifier(spec["name"])
        self._pages.append((outcome, identifier))
        return outcome

    def finish(self) -> Path | None:
        """Render this session's validation pages and the index, styled to work without a network."""
        if self._identifiers:
            self.context.build_data_docs(resource_identifiers=[*self._identifiers, *self._suites.values()])
        sites = self.context.get_docs_sites_urls()
        if not sites or not sites[0].get("site_url"):
            return None
        index = Path(sites[0]["site_url"].removeprefix("file://"))
        for outcome, identifier in self._pages:
            urls = self.context.get_docs_sites_urls(resource_identifier=identifier)
            if urls and urls[0].get("site_url"):
                outcome.page = Path(urls[0]["site_url"].removeprefix("file://"))
        make_offline(index.parent)
        return index


def run_suites(
    checkpoint: Checkpoint,
    con: duckdb.DuckDBPyConnection,
    scope: str,
    subjects: list[str] | None = None,
    memory_limit: str | None = None,
) -> AuditResult:
    """Validate every suite of ``scope``: batch suites once per subject batch, marts suites once.

    A batch suite whose query returns no rows for a batch (e.g. a stream the batch does not carry) is
    skipped for that batch rather than validated on nothing. Given ``memory_limit`` (the one ``con`` was
    opened with), the table blocks each query read are dropped before the next (gridline/block_cache.py):
    the suites read whole marts, and their blocks would otherwise stay for the rest of the audit.
    """
    result = AuditResult()
    for spec in load_suites(scope):
        query = suite_query(spec)
        for subject in subjects if scope == "batch" else [""]:
            frame = con.execute(query, {"batch_id": subject} if "$batch_id" in query else None).df()
            if memory_limit:
                release_cached_blocks(con, memory_limit)
            if scope == "batch" and frame.empty:
                continue
            result.add(checkpoint.validate(spec, frame, subject))
    return result
