"""Run the expectation suites against a candidate warehouse and render the Data Docs.

Suites live in ``expectations/suites/*.json`` in Great Expectations' own suite format; each names in its
``meta.gridline_query`` the SQL whose result it validates. The rows are pulled from DuckDB into pandas
and validated there: GX's SQL data source fails every expectation on DuckDB (an upstream bug in how it
reads result rows through duckdb_engine), while pandas batches are its best-tested path, and the frames
we validate are the marts and the new batches — sizes pandas handles in memory.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SUITES_DIR = Path(__file__).resolve().parent / "suites"


@dataclass
class FailedExpectation:
    suite: str
    expectation: str
    column: str | None
    detail: str


@dataclass
class AuditResult:
    success: bool
    suites: int
    expectations: int
    failures: list[FailedExpectation] = field(default_factory=list)
    docs_index: Path | None = None


def load_suites(names: list[str] | None = None) -> list[dict]:
    suites = [json.loads(p.read_text()) for p in sorted(SUITES_DIR.glob("*.json"))]
    return [s for s in suites if names is None or s["name"] in names]


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _describe_failure(suite: str, result) -> FailedExpectation:
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
    return FailedExpectation(suite, config.type, config.kwargs.get("column"), detail)


def run_checkpoint(database: Path, project_dir: Path, sql_setup: list[str] | None = None) -> AuditResult:
    """Validate every suite's query result in ``database``; Data Docs go under ``project_dir``."""
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    project_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    datasource = context.data_sources.add_or_update_pandas("warehouse")

    result = AuditResult(success=True, suites=0, expectations=0)
    con = duckdb.connect(str(database), read_only=True)
    try:
        for statement in sql_setup or []:
            con.execute(statement)
        for spec in load_suites():
            frame = con.sql(spec["meta"]["gridline_query"]).df()
            suite = ExpectationSuite(name=spec["name"], meta=spec.get("meta", {}))
            for item in spec["expectations"]:
                suite.add_expectation_configuration(
                    ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"], meta=item.get("meta"))
                )
            suite = context.suites.add_or_update(suite)
            asset = (
                datasource.add_dataframe_asset(spec["name"])
                if spec["name"] not in datasource.get_asset_names()
                else datasource.get_asset(spec["name"])
            )
            batch_definition = (
                asset.add_batch_definition_whole_dataframe(spec["name"])
                if not asset.batch_definitions
                else asset.batch_definitions[0]
            )
            validation = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=spec["name"], data=batch_definition, suite=suite)
            )
            checkpoint = context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=spec["name"],
                    validation_definitions=[validation],
                    actions=[gx.checkpoint.UpdateDataDocsAction(name="docs")],
                )
            )
            outcome = checkpoint.run(batch_parameters={"dataframe": frame})
            result.suites += 1
            for run_result in outcome.run_results.values():
                for expectation_result in run_result.results:
                    result.expectations += 1
                    if not expectation_result.success:
                        result.success = False
                        result.failures.append(_describe_failure(spec["name"], expectation_result))
    finally:
        con.close()
    sites = context.get_docs_sites_urls()
    if sites and sites[0].get("site_url"):
        result.docs_index = Path(sites[0]["site_url"].removeprefix("file://"))
    return result
