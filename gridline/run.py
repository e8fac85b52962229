"""``gridline run``: audit what arrived, build the marts into a private candidate, audit them, publish.

Write-audit-publish, in this order:

1. **Audit the new batches.** Batches the audit ledger does not know yet are validated by the batch
   suites (schema, ids, enumerations, timestamps, and volume and completeness against the trailing
   days). A batch that fails is flagged in the log and the run stops before building anything: the
   published marts stay exactly as they were, and the Data Docs say what was wrong. Flagged batches are
   left out of later builds until an operator accepts or retracts them (``gridline batches``).
2. **Build** with ``dbt build`` (models and their tests) into the private build database
   ``warehouse/build.duckdb``, which persists between runs so incremental models only add what is new.
   ``warehouse/build.json`` records the inputs of the last build that completed; without it (a build
   that failed or was killed leaves the database half-way) the next run rebuilds from an empty file,
   as does ``--full-refresh`` and a run after a retraction or acceptance. A build whose inputs the
   database already holds (the marts audit failed last time) is not repeated.
3. **Audit the marts** of the build with the marts suites: rows that differ from the publication, and
   whole-mart aggregates computed in DuckDB.
4. **Publish**: dbt docs are regenerated if the dbt project changed since they were last made (they
   describe models, not data), then the partitions of the marts that changed are written and the
   catalog ``warehouse/published.duckdb`` is switched in one atomic rename (``gridline.publish``).
   Readers never open the build database, so after a failed audit it may be ahead of the publication:
   the next run builds on from it and publishes everything that differs from the publication.

Every run writes a report to ``$GRIDLINE_HOME/runs/<run_id>.json``. Runs are serialised by a lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from expectations import case_counts
from expectations.frames import prepare_batch_frames, prepare_marts_frames
from expectations.runner import AuditResult, Checkpoint, run_suites
from gridline import batches, build_storage, publish, reference, spark_build
from gridline.config import DEFAULT_ENGINE, Settings, is_spark
from gridline.errors import GridlineError, machine_error
from gridline.snapshot import link_build_snapshot, snapshot_files, verify_batches
from gridline.warehouse import DBT_PROJECT_DIR, run_dbt
from gridline.work_connection import work_connection
from ingestion.integrity import sha256_of
from ingestion.log import EventLog, record_exclusion_list_if_missing


class AuditFailed(GridlineError):
    """The new batches or the candidate failed their checks; the published marts were left untouched."""


@dataclass
class RunReport:
    run_id: str
    started_at: str
    outcome: str = "running"
    published: str | None = None
    full_refresh: bool = False
    # the share of deleted rows in the large build tables before the build, and whether the build vacuumed
    dead_row_share: float | None = None
    vacuumed: bool = False
    dbt_docs: str | None = None
    data_docs: str | None = None
    failed_pages: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    audited_batches: dict[str, str] = field(default_factory=dict)
    held_batches: list[str] = field(default_factory=list)
    expectations: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)


def _write_report(settings: Settings, report: RunReport) -> Path | None:
    """Record the run; best effort, so a full disk never hides the failure the report would tell."""
    path = settings.runs_dir / f"{report.run_id}.json"
    try:
        settings.runs_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    except OSError:
        path.unlink(missing_ok=True)
        return None
    return path


@contextmanager
def _timed(report: RunReport, step: str, progress: Callable[[str], None]) -> Iterator[None]:
    progress(f"{step} ...")
    start = time.monotonic()  # not the wall clock, which an adjusted system clock moves mid-step
    try:
        yield
    finally:
        report.steps[step] = round(time.monotonic() - start, 2)


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


def _published_state_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "published.json"


def _build_state_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "build.json"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


_SKIP_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


def _published_state(settings: Settings, progress: Callable[[str], None] = lambda _: None) -> dict | None:
    """What the last run published (``published.json``), or None when there is nothing to trust: no
    publication, or a catalog that is not the file published (damaged: it is published again)."""
    if not settings.published_db.exists():
        return None
    state = _read_json(_published_state_path(settings))
    damage = state and _published_warehouse_problem(settings, state)
    if damage:
        progress(f"the published warehouse is damaged ({damage}): publishing it again")
        return None
    return state


def _build_state(settings: Settings) -> dict | None:
    """The inputs of the last build that completed in the build database, or None when it holds none."""
    if not publish.build_db(settings).exists():
        return None
    return _read_json(_build_state_path(settings))


def _needs_full_refresh(built_from: dict | None, inputs: dict, excluded: set[str], requested: bool) -> bool:
    """Rebuild from an empty database when incremental models cannot be trusted to catch up: the build
    database holds no completed build, after a retraction or acceptance, or when a built batch is now
    excluded (they cannot take events back out), when a batch to build is older than the newest built
    one (the staged log appends only batches after it), and when the dbt project changed since the last
    build (its incremental models refuse a changed schema). A build on Spark, or after one, is whole."""
    engine = inputs.get("engine", DEFAULT_ENGINE)
    if requested or built_from is None or engine != DEFAULT_ENGINE:
        return True
    built_batches = set(built_from.get("batches", []))
    newest = max(built_batches, default="")
    return (
        built_from.get("decisions", 0) != inputs["decisions"]
        or built_from.get("project") != inputs["project"]
        or built_from.get("engine", DEFAULT_ENGINE) != engine
        or bool(excluded & built_batches)
        or any(b < newest and b not in built_batches for b in inputs["batches"])
    )


def _build_inputs(settings: Settings, built: list[str], decisions: int) -> dict:
    """Everything a build's result depends on besides the code: the batches it reads, the operators'
    decisions, the dbt project, the reference versions in effect, the city's time zone and the engine
    (a publication of the other engine's build is published again)."""
    return {
        "engine": settings.engine,
        "batches": built,
        "decisions": decisions,
        "project": _project_fingerprint(),
        "reference": {
            kind: str(reference.effective_file(settings, kind).relative_to(settings.home))
            for kind in reference.KINDS
        },
        "timezone": settings.timezone,
    }


def _same_inputs(state: dict | None, inputs: dict) -> bool:
    # a state from before the engine was recorded is DuckDB's
    recorded = {"engine": DEFAULT_ENGINE, **(state or {})}
    return state is not None and all(recorded.get(key) == value for key, value in inputs.items())


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
    log: EventLog,
    report: RunReport,
    checkpoint: Callable[[], Checkpoint],
    progress: Callable[[str], None],
) -> None:
    """Validate the snapshot's batches the ledger does not know; if any fails, flag them and stop."""
    new = batches.unaudited_batches(settings, log)
    if not new:
        return
    with _timed(report, "audit new batches", progress):
        con = audit_connection(settings)
        try:
            excluded = batches.excluded_batches(settings, log)
            statistics = batches.ledger_path(settings).with_name("arrivals.duckdb")
            statistics.parent.mkdir(parents=True, exist_ok=True)
            prepare_batch_frames(con, log, new, excluded, settings.timezone, statistics)
            audit = run_suites(checkpoint(), con, "batch", new, memory_limit=settings.build_memory)
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
        try:
            return _locked_run(settings, report, progress, full_refresh)
        except BaseException as exc:
            # Whatever stopped the run (an audit, dbt, a full disk, a kill signal turned exception),
            # the published marts are untouched: a half-written publication goes, and a build that did
            # not complete left no build.json, so the next run rebuilds.
            publish.discard_leftovers(settings)
            if isinstance(exc, OSError | duckdb.IOException):
                report.outcome = "failed: machine"
                _write_report(settings, report)
                raise machine_error("run failed, nothing published", exc) from None
            raise


def _locked_run(
    settings: Settings, report: RunReport, progress: Callable[[str], None], full_refresh: bool
) -> RunReport:
    session: list[Checkpoint] = []

    def checkpoint() -> Checkpoint:  # GX takes seconds to start: only when there is something to check
        if not session:
            session.append(Checkpoint(settings.home / "gx"))
        return session[0]

    # The run's snapshot of the log: it audits, builds and checks exactly these batches. A batch
    # committed from here on waits for the next run, which audits it first.
    record_exclusion_list_if_missing(EventLog(settings.log_dir))  # a log from before dbt read the list
    log = EventLog(settings.log_dir).snapshot()
    verify_batches(settings, log, batches.excluded_batches(settings, log))
    _audit_new_batches(settings, log, report, checkpoint, progress)
    excluded = batches.excluded_batches(settings, log)
    report.held_batches = sorted(excluded - _retracted(settings, log))
    built = [p.name for p in log.batch_dirs() if p.name not in excluded]

    # counted before the build: a decision recorded mid-run then forces the next run to rebuild
    decisions = batches.decision_count(settings, log)
    inputs = _build_inputs(settings, built, decisions)
    published = _published_state(settings, progress)
    built_from = _adopt_whole_published_warehouse(settings, published, report, progress)
    if not full_refresh and _same_inputs(published, inputs):
        progress("nothing new since the last publication: the published marts stand")
        report.outcome = "unchanged"
        report.published = str(settings.published_db)
        report.counts = published.get("counts", {})
        _write_report(settings, report)
        return report

    build_db = publish.build_db(settings)
    if full_refresh or not _same_inputs(built_from, inputs):
        _build(settings, report, progress, log, inputs, built_from, excluded, full_refresh)

    with _timed(report, "audit marts", progress):
        case_counts.bring_up_to_date(
            build_db, log, inputs["batches"], vacuum=report.vacuumed, memory_limit=settings.build_memory
        )
        partitions = _partitions(settings, build_db)
        audit = audit_marts(settings, build_db, checkpoint(), log, partitions)
        report.expectations += audit.expectations
        index = checkpoint().finish()
        report.data_docs = str(index) if index else None
    if not audit.success:
        raise _fail(settings, report, "audit of the marts", audit)

    with _timed(report, "dbt docs", progress):
        report.dbt_docs = _dbt_docs(settings, build_db, inputs["project"])

    with _timed(report, "publish", progress):
        _publish(settings, report, inputs, partitions)
    report.outcome = "published"
    report.published = str(settings.published_db)
    _write_report(settings, report)
    return report


def _build(
    settings: Settings,
    report: RunReport,
    progress: Callable[[str], None],
    log: EventLog,
    inputs: dict,
    built_from: dict | None,
    excluded: set[str],
    requested: bool,
) -> None:
    """``dbt build`` into the build database; ``build.json`` says what it holds only once it completed."""
    report.full_refresh = _needs_full_refresh(built_from, inputs, excluded, requested)
    with _timed(report, "prepare build", progress):
        _build_state_path(settings).unlink(missing_ok=True)
        if report.full_refresh:
            publish.discard_build(settings)
            if is_spark(settings):
                spark_build.discard(settings)
        log_files = link_build_snapshot(log, inputs["batches"], _build_log(settings))
        if not is_spark(settings):
            report.dead_row_share = build_storage.dead_row_share(publish.build_db(settings))
        report.vacuumed = report.full_refresh or build_storage.due_for_vacuum(report.dead_row_share)
    with _timed(report, "dbt build", progress):
        build = run_dbt(
            settings,
            publish.build_db(settings),
            # unit tests check the project's SQL, not the data: an incremental build runs the project the
            # last build tested (a changed project is a full refresh), so only a full refresh runs them
            spark_build.dbt_build_args()
            if is_spark(settings)
            else ["build", *(["--full-refresh"] if report.full_refresh else _SKIP_UNIT_TESTS)],
            log_files=log_files,
            vacuum=report.vacuumed,
            # a night's models are small (DuckDB still spreads each over the cores), and one at a time
            # each starts without the blocks the ones before it read: its memory follows the night
            one_model_at_a_time=not report.full_refresh,
        )
    if build.returncode != 0:
        report.outcome = "failed: dbt build"
        report.failures = build.failures or [_last_line(build.output)]
        _write_report(settings, report)
        raise AuditFailed(
            f"dbt build failed, nothing published{_low_disk(settings)} ({len(report.failures)} nodes): "
            f"{'; '.join(report.failures[:3])}"
        )
    if is_spark(settings):  # the audit and publish read what Spark wrote through DuckDB views
        spark_build.create_build_views(settings, publish.build_db(settings))
    publish.seal(publish.build_db(settings))
    _write_json(_build_state_path(settings), inputs)


def _partitions(settings: Settings, database: Path) -> dict[tuple[str, str], publish.Partition]:
    con = audit_connection(settings)
    try:
        con.execute(f"attach '{database}' as build (read_only)")
        return publish.build_partitions(con, "build", memory_limit=settings.build_memory)
    finally:
        con.close()


def _publish(
    settings: Settings, report: RunReport, inputs: dict, partitions: dict[tuple[str, str], publish.Partition]
) -> None:
    publish.publish(settings, publish.build_db(settings), report.run_id, partitions)
    report.counts = {}
    for partition in sorted(partitions.values(), key=lambda p: p.mart):
        report.counts[partition.mart] = report.counts.get(partition.mart, 0) + partition.rows
    catalog = settings.published_db.stat()
    _write_json(
        _published_state_path(settings),
        {
            "run_id": report.run_id,
            **inputs,
            "counts": report.counts,
            "warehouse": {
                "sha256": sha256_of(settings.published_db),
                "bytes": catalog.st_size,
                "mtime_ns": catalog.st_mtime_ns,
            },
        },
    )


def _write_json(path: Path, content: dict) -> None:
    """Write under a temporary name and rename, so a crash leaves the old state or the new, never half."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content))
    os.replace(partial, path)


def _adopt_whole_published_warehouse(
    settings: Settings, published: dict | None, report: RunReport, progress: Callable[[str], None]
) -> dict | None:
    """The build database's state; a home published before the build database existed (its published
    file is the whole warehouse) has it copied to become the build database, once, and its marts
    published as a catalog, so the nights after it build incrementally."""
    built_from = _build_state(settings)
    if built_from is not None or published is None or publish.build_db(settings).exists():
        return built_from
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.published_db}' as old (read_only)")
        whole = not publish.is_catalog(con, "old")
    finally:
        con.close()
    if not whole:
        return None
    with _timed(report, "adopt published warehouse", progress):
        progress("the published warehouse becomes the build database; its marts are published as files")
        partial = publish.build_db(settings).with_name("build.duckdb.partial")
        shutil.copyfile(settings.published_db, partial)
        os.replace(partial, publish.build_db(settings))
        built_from = {
            key: published.get(key) for key in ("batches", "decisions", "project", "reference", "timezone")
        }
        _write_json(_build_state_path(settings), built_from)
        _publish(settings, report, built_from, _partitions(settings, publish.build_db(settings)))
    return built_from


# Below this much free space a failed build is most likely the full disk, which dbt's own messages
# do not always say.
LOW_DISK_BYTES = 64 << 20


def _low_disk(settings: Settings) -> str:
    free = shutil.disk_usage(settings.warehouse_dir).free
    return f" (only {free / 1e6:.1f} MB free on the disk of $GRIDLINE_HOME)" if free < LOW_DISK_BYTES else ""


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "dbt exited without output"


def _published_warehouse_problem(settings: Settings, state: dict) -> str | None:
    """Why the published file is not the one the last run published, or None (re-hashed only when its
    size or mtime moved)."""
    recorded = state.get("warehouse")
    if not recorded:
        return None
    stat = settings.published_db.stat()
    if (stat.st_size, stat.st_mtime_ns) == (recorded["bytes"], recorded["mtime_ns"]):
        return None
    if stat.st_size == recorded["bytes"] and sha256_of(settings.published_db) == recorded["sha256"]:
        return None
    return "its content changed since it was published"


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


def _dbt_docs(settings: Settings, candidate: Path, fingerprint: str) -> str | None:
    """Regenerate the static dbt docs when the project (``fingerprint``) changed since they were last
    generated."""
    page, stamp = settings.docs_dir / "dbt.html", settings.docs_dir / "dbt.fingerprint"
    if page.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return str(page)
    if is_spark(settings):  # another Spark session for a page that describes models, not data: a DuckDB
        return str(page) if page.exists() else None  # run of the same project makes it
    # The build's own log pattern: dbt parses again every file that reads an environment variable whose
    # value changed since its last invocation, and the next night's build would then parse them back.
    docs = run_dbt(
        settings,
        candidate,
        ["docs", "generate", "--static", "--no-compile"],
        log_files=snapshot_files(_build_log(settings)),
    )
    if docs.returncode != 0:
        return str(page) if page.exists() else None
    settings.docs_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.home / "dbt" / "target" / "static_index.html", page)
    stamp.write_text(fingerprint)
    return str(page)


def _build_log(settings: Settings) -> Path:
    """The folder of links to the batch files the build reads (gridline/snapshot.py)."""
    return settings.warehouse_dir / "build_log"


def _retracted(settings: Settings, log: EventLog) -> set[str]:
    return {b for b, d in batches.decisions(settings, log).items() if d["retracted"]}


def audit_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The audits' DuckDB. A megacity's first run audits 57 M new events at once; without the ceiling
    that passed 11 GB and still grew."""
    return work_connection(settings, "audit")


def audit_marts(
    settings: Settings,
    database: Path,
    checkpoint: Checkpoint,
    log: EventLog | None = None,
    partitions: dict[tuple[str, str], publish.Partition] | None = None,
) -> AuditResult:
    """Validate the marts suites on a built warehouse (the build database, a replay, a publication),
    against the log snapshot it was built from (default: the whole log). ``partitions`` are the
    database's (computed when not given): rows are compared with the publication's only in partitions
    whose fingerprints differ."""
    log = log or EventLog(settings.log_dir)
    con = audit_connection(settings)
    try:
        publish.attach_published_marts(con, database, "candidate")
        con.execute("use candidate")
        if partitions is None:
            partitions = publish.build_partitions(con, "candidate", memory_limit=settings.build_memory)
        published = _attach_published(con, settings, database)
        changed = _changed_parts(partitions, publish.published_partitions(settings) if published else {})
        excluded = batches.excluded_batches(settings, log)
        kept = {p.name for p in log.batch_dirs() if p.name not in excluded}
        counts = f"candidate.{case_counts.SCHEMA}"
        if case_counts.folded(con, counts) != kept:
            counts = None  # none kept for exactly these batches (a replay, a publication): recounted
        prepare_marts_frames(con, log, excluded, "candidate", published, changed, counts)
        return run_suites(checkpoint, con, "marts", memory_limit=settings.build_memory)
    finally:
        con.close()


def _changed_parts(
    built: dict[tuple[str, str], publish.Partition], published: dict[tuple[str, str], publish.Partition]
) -> dict[str, list[str]] | None:
    """Per mart, the partitions whose rows differ from the publication's; None when nothing comparable
    is published (then every row is audited)."""
    if not published:
        return None
    changed: dict[str, list[str]] = {}
    for (mart, part), partition in built.items():
        same = published.get((mart, part))
        if same is None or same.fingerprint != partition.fingerprint:
            changed.setdefault(mart, []).append(part)
    return changed


def _attach_published(con: duckdb.DuckDBPyConnection, settings: Settings, database: Path) -> str | None:
    """Attach the published marts to compare a build with, unless they are the database audited or
    cannot be read (then every row is audited); returns their name in ``con``."""
    published = settings.published_db
    if not published.exists() or published.resolve() == database.resolve():
        return None
    try:
        publish.attach_published_marts(con, published, "published")
    except duckdb.Error:
        return None
    return "published"
