"""``gridline run``: audit what arrived, build the marts into a private candidate, audit them, publish.

Write-audit-publish, in this order:

1. **Audit the new batches.** Batches the audit ledger does not know yet are validated by the batch
   suites (schema, ids, enumerations, timestamps, and volume and completeness against the trailing
   days). A batch that fails is flagged in the log and the run stops before building anything: the
   published marts stay exactly as they were, and the Data Docs say what was wrong. Flagged batches are
   left out of later builds until an operator accepts or retracts them (``gridline batches``).
2. **Build** with ``dbt build`` (models and their tests) into ``warehouse/candidate.duckdb``, which
   starts as a copy of the published warehouse so incremental models only add what is new
   (``--full-refresh`` starts from an empty file, as does a run after a retraction or acceptance).
3. **Audit the marts** in the candidate with the marts suites.
4. **Publish**: dbt docs are regenerated if the dbt project changed since they were last made (they
   describe models, not data), then the sealed candidate is renamed over
   ``warehouse/published.duckdb`` in one atomic step.

Every run writes a report to ``$GRIDLINE_HOME/runs/<run_id>.json``. Runs are serialised by a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from expectations.frames import prepare_batch_frames, prepare_marts_frames
from expectations.runner import AuditResult, Checkpoint, run_suites
from gridline import batches, publish
from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.warehouse import DBT_PROJECT_DIR, run_dbt
from ingestion.log import EventLog


class AuditFailed(GridlineError):
    """The new batches or the candidate failed their checks; the published marts were left untouched."""


@dataclass
class RunReport:
    run_id: str
    started_at: str
    outcome: str = "running"
    published: str | None = None
    full_refresh: bool = False
    dbt_docs: str | None = None
    data_docs: str | None = None
    failed_pages: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    audited_batches: dict[str, str] = field(default_factory=dict)
    held_batches: list[str] = field(default_factory=list)
    expectations: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)


def _write_report(settings: Settings, report: RunReport) -> Path:
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    path = settings.runs_dir / f"{report.run_id}.json"
    path.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    return path


@contextmanager
def _timed(report: RunReport, step: str, progress: Callable[[str], None]) -> Iterator[None]:
    progress(f"{step} ...")
    start = datetime.now(UTC)
    try:
        yield
    finally:
        report.steps[step] = round((datetime.now(UTC) - start).total_seconds(), 2)


@contextmanager
def _run_lock(settings: Settings) -> Iterator[None]:
    """One run at a time: two runs would share the candidate file and the audit ledger."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.warehouse_dir / ".run.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GridlineError(
                "another `gridline run` is in progress; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mart_counts(database: Path) -> dict[str, int]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        return {t: con.sql(f'select count(*) from marts."{t}"').fetchall()[0][0] for (t,) in tables}
    finally:
        con.close()


def _published_state_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "published.json"


def _needs_full_refresh(settings: Settings, requested: bool) -> bool:
    """Rebuild from scratch when incremental models cannot be trusted to catch up: after a retraction or
    acceptance (they cannot take events back out), and when the dbt project changed since the last
    publication (its incremental models refuse a changed schema)."""
    state_path = _published_state_path(settings)
    if requested or not settings.published_db.exists() or not state_path.exists():
        return True
    published = json.loads(state_path.read_text())
    return (
        batches.decision_count(settings) != published.get("decisions", 0)
        or published.get("project") != _project_fingerprint()
    )


def _fail(settings: Settings, report: RunReport, stage: str, audit: AuditResult) -> AuditFailed:
    report.outcome = f"failed: {stage}"
    report.failures = [f.describe() for f in audit.failures]
    report.failed_pages = sorted({str(o.page) for o in audit.outcomes if not o.success and o.page})
    _write_report(settings, report)
    pointer = report.failed_pages[0] if report.failed_pages else report.data_docs
    return AuditFailed(
        f"{stage} failed, nothing published ({len(audit.failures)} expectations): "
        f"{'; '.join(report.failures[:3])} — see {pointer}"
    )


def _audit_new_batches(
    settings: Settings,
    report: RunReport,
    checkpoint: Callable[[], Checkpoint],
    progress: Callable[[str], None],
) -> None:
    """Validate the batches the ledger does not know; if any fails, flag the failed ones and stop."""
    new = batches.unaudited_batches(settings)
    if not new:
        return
    with _timed(report, "audit new batches", progress):
        con = duckdb.connect()
        try:
            prepare_batch_frames(
                con, EventLog(settings.log_dir), new, batches.excluded_batches(settings), settings.timezone
            )
            audit = run_suites(checkpoint(), con, "batch", new)
        finally:
            con.close()
    report.expectations += audit.expectations
    failed = sorted({f.subject for f in audit.failures})
    if failed:
        index = checkpoint().finish()  # renders the pages the ledger and the error point to
        report.data_docs = str(index) if index else None
    pages = {o.subject: str(o.page) for o in audit.outcomes if not o.success and o.page}
    batches.record_outcomes(
        settings,
        [
            {
                "batch_id": b,
                "outcome": "failed" if b in failed else "passed",
                "run_id": report.run_id,
                "failures": [f.describe() for f in audit.failures if f.subject == b],
                "data_docs": pages.get(b),
            }
            for b in new
        ],
    )
    report.audited_batches = {b: "failed" if b in failed else "passed" for b in new}
    if failed:
        batches.flag(settings, failed, report.run_id)
        raise _fail(settings, report, "audit of new batches", audit)


def build_audit_publish(
    settings: Settings, progress: Callable[[str], None] = lambda _: None, full_refresh: bool = False
) -> RunReport:
    now = datetime.now(UTC)
    report = RunReport(run_id=f"{now:%Y%m%dT%H%M%S%fZ}", started_at=now.isoformat())
    if not EventLog(settings.log_dir).batch_dirs():
        raise GridlineError(f"the event log at {settings.log_dir} is empty: run `gridline ingest` first")

    with _run_lock(settings):
        session: list[Checkpoint] = []

        def checkpoint() -> Checkpoint:  # GX takes seconds to start: only when there is something to check
            if not session:
                session.append(Checkpoint(settings.home / "gx"))
            return session[0]

        _audit_new_batches(settings, report, checkpoint, progress)
        report.held_batches = sorted(batches.excluded_batches(settings) - _retracted(settings))

        # counted before the build: a decision recorded mid-run then forces the next run to rebuild
        decisions = batches.decision_count(settings)
        report.full_refresh = _needs_full_refresh(settings, full_refresh)
        candidate = publish.prepare_candidate(settings, from_published=not report.full_refresh)
        with _timed(report, "dbt build", progress):
            build = run_dbt(
                settings, candidate, ["build", *(["--full-refresh"] if report.full_refresh else [])]
            )
        if build.returncode != 0:
            report.outcome = "failed: dbt build"
            report.failures = build.failures or [build.output.strip().splitlines()[-1]]
            _write_report(settings, report)
            raise AuditFailed(
                f"dbt build failed, nothing published ({len(report.failures)} nodes): "
                f"{'; '.join(report.failures[:3])}"
            )

        with _timed(report, "audit marts", progress):
            audit = audit_marts(settings, candidate, checkpoint())
            report.expectations += audit.expectations
            index = checkpoint().finish()
            report.data_docs = str(index) if index else None
        if not audit.success:
            raise _fail(settings, report, "audit of the marts", audit)

        with _timed(report, "dbt docs", progress):
            report.dbt_docs = _dbt_docs(settings, candidate)

        with _timed(report, "publish", progress):
            report.counts = _mart_counts(candidate)
            publish.publish(candidate, settings.published_db)
            _published_state_path(settings).write_text(
                json.dumps(
                    {"run_id": report.run_id, "decisions": decisions, "project": _project_fingerprint()}
                )
            )
        report.outcome = "published"
        report.published = str(settings.published_db)
        _write_report(settings, report)
        return report


def _project_fingerprint() -> str:
    """A digest of the dbt project's files: the docs describe the models, so they change only with it."""
    digest = hashlib.sha256()
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "seeds", "macros", "tests", "snapshots"):
        sources += sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    for path in sources:
        if path.exists():
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _dbt_docs(settings: Settings, candidate: Path) -> str | None:
    """Regenerate the static dbt docs when the project changed since they were last generated."""
    page, stamp = settings.docs_dir / "dbt.html", settings.docs_dir / "dbt.fingerprint"
    fingerprint = _project_fingerprint()
    if page.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return str(page)
    docs = run_dbt(settings, candidate, ["docs", "generate", "--static", "--no-compile"])
    if docs.returncode != 0:
        return str(page) if page.exists() else None
    settings.docs_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.home / "dbt" / "target" / "static_index.html", page)
    stamp.write_text(fingerprint)
    return str(page)


def _retracted(settings: Settings) -> set[str]:
    return {b for b, d in batches.decisions(settings).items() if d["retracted"]}


def audit_marts(settings: Settings, database: Path, checkpoint: Checkpoint) -> AuditResult:
    """Validate the marts suites on a built warehouse file (the candidate, or any copy of one)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{database}' as candidate (read_only)")
        con.execute("use candidate")
        prepare_marts_frames(con, EventLog(settings.log_dir), batches.excluded_batches(settings))
        return run_suites(checkpoint, con, "marts")
    finally:
        con.close()
