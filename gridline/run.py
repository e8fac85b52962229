"""``gridline run``: build the marts from the log into a private candidate, audit it, then publish.

Write-audit-publish: dbt builds (models and their tests) into ``warehouse/candidate.duckdb``; the Great
Expectations checkpoint validates the candidate; only when both pass is the candidate renamed over
``warehouse/published.duckdb``. A failed audit leaves the published marts as they were and says why.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from expectations.runner import run_checkpoint
from gridline import publish
from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.warehouse import run_dbt
from ingestion.log import EventLog


class AuditFailed(GridlineError):
    """The candidate failed its checks; the published marts were left untouched."""


@dataclass
class RunReport:
    run_id: str
    started_at: str
    outcome: str = "running"
    published: str | None = None
    dbt_docs: str | None = None
    data_docs: str | None = None
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)


def _write_report(settings: Settings, report: RunReport) -> Path:
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    path = settings.runs_dir / f"{report.run_id}.json"
    path.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    return path


def _timed(report: RunReport, step: str, progress: Callable[[str], None]):
    class _Timer:
        def __enter__(self):
            progress(f"{step} ...")
            self.start = datetime.now(UTC)

        def __exit__(self, *exc):
            report.steps[step] = round((datetime.now(UTC) - self.start).total_seconds(), 2)

    return _Timer()


def _mart_counts(database: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        return {t: con.sql(f"select count(*) from marts.{t}").fetchall()[0][0] for (t,) in tables}
    finally:
        con.close()


def build_audit_publish(settings: Settings, progress: Callable[[str], None] = lambda _: None) -> RunReport:
    now = datetime.now(UTC)
    report = RunReport(run_id=f"{now:%Y%m%dT%H%M%SZ}", started_at=now.isoformat())
    if not EventLog(settings.log_dir).batch_dirs():
        raise GridlineError(f"the event log at {settings.log_dir} is empty: run `gridline ingest` first")
    candidate = publish.fresh_candidate(settings)

    with _timed(report, "dbt build", progress):
        build = run_dbt(settings, candidate, ["build"])
    if build.returncode != 0:
        report.outcome = "failed: dbt build"
        report.failures = build.failures or [build.output.strip().splitlines()[-1]]
        _write_report(settings, report)
        raise AuditFailed(
            f"dbt build failed ({len(report.failures)} nodes): {'; '.join(report.failures[:3])}"
        )

    with _timed(report, "dbt docs", progress):
        docs = run_dbt(settings, candidate, ["docs", "generate", "--static"])
    if docs.returncode == 0:
        target = settings.home / "dbt" / "target" / "static_index.html"
        settings.docs_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, settings.docs_dir / "dbt.html")
        report.dbt_docs = str(settings.docs_dir / "dbt.html")

    with _timed(report, "great expectations", progress):
        audit = run_checkpoint(candidate, settings.home / "gx")
    report.data_docs = str(audit.docs_index) if audit.docs_index else None
    if not audit.success:
        report.outcome = "failed: audit"
        report.failures = [f"{f.suite}: {f.expectation}({f.column or ''}) {f.detail}" for f in audit.failures]
        _write_report(settings, report)
        raise AuditFailed(
            f"audit failed, nothing published ({len(audit.failures)} expectations): "
            f"{'; '.join(report.failures[:3])} — see {report.data_docs}"
        )

    with _timed(report, "publish", progress):
        report.counts = _mart_counts(candidate)
        publish.publish(candidate, settings.published_db)
    report.outcome = "published"
    report.published = str(settings.published_db)
    _write_report(settings, report)
    return report
