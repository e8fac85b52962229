"""The ``gridline`` command line: the same functions the Airflow DAGs call, for people and scripts."""

from __future__ import annotations

import dataclasses
import errno
import os
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console

from gridline.config import (
    DEFAULT_ENGINE,
    INGEST_TIMEOUT_ENV,
    build_engine,
    create_local_key,
    ingest_timeout,
    load_settings,
)
from gridline.errors import GridlineError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="gridline: resident appeals, grid work and volunteer service into class-of-problem tickets.",
)
console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command()
def init(
    local_key: Annotated[
        bool, typer.Option(help="Create a random pseudonymisation key under $GRIDLINE_HOME.")
    ] = False,
) -> None:
    """Prepare $GRIDLINE_HOME (and, for a local trial, its pseudonymisation key)."""
    settings = load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    if local_key:
        created = create_local_key(settings)
        state = "created" if created else "already present"
        console.print(f"pseudonymisation key {state}: {settings.key_file} (owner-only)")
    console.print(f"gridline home: {settings.home}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder for the landing files and truth.json.")],
    scale: Annotated[str, typer.Option(help="tiny, small, city or megacity.")] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    city: Annotated[
        str, typer.Option(help="default (the demo city) or random (another city per seed).")
    ] = "default",
    divisions: Annotated[
        Path | None,
        typer.Option(help="A cn_divisions folder: a random city takes a real city's districts and streets."),
    ] = None,
) -> None:
    """Write realistic synthetic landing files and the city's reference, with the planted ground truth."""
    from ingestion.generate.scenario import generate as generate_city

    summary = generate_city(out, scale, seed, city, divisions)
    console.print(
        f"generated {summary['city']}: {summary['orders']:,} hotline orders, "
        f"{summary['grid_submissions']:,} grid submissions and {summary['volunteer_sessions']:,} volunteer "
        f"sessions (~{summary['events_estimate']:,} events), "
        f"{summary['classes']} planted classes: {summary['files']:,} files, {summary['bytes'] / 1e6:,.1f} MB "
        f"in {out} (truth in truth.json, reference in reference/)"
    )


def _end_if_still_running(command: str, limit: timedelta, then: str) -> None:
    """End this process, with one line, if ``command`` (an ingest or a pull, which write to the log) is
    still running after ``limit``: it is hung, and may hold the log's writer lock. Ending the process
    releases the lock; the next writer sweeps the staging folder, and nothing of the batch is in the log
    unless its commit had finished. ``then`` says what the next run of the command does."""

    def end() -> None:
        console.print(
            f"gridline: error: {command} still running after {limit}, ended as hung; {then} "
            f"({INGEST_TIMEOUT_ENV}: seconds)",
            markup=False,
        )
        os._exit(1)  # at once: a hung DuckDB call would never return to an orderly exit

    watchdog = threading.Timer(limit.total_seconds(), end)
    watchdog.daemon = True  # a finished command exits without waiting for it
    watchdog.start()


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Landing files (or folders of them) to read, as one batch.")
    ],
    stream: Annotated[str | None, typer.Option(help="hotline, grid or volunteer.")] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="Source format; detected when omitted.")
    ] = None,
    mapping: Annotated[str | None, typer.Option(help="Mapping name or YAML file (format `mapping`).")] = None,
    source: Annotated[
        str | None, typer.Option(help="Open311: the source name that namespaces ids, e.g. chicago311.")
    ] = None,
) -> None:
    """Append the events in landing files to the event log."""
    from ingestion.ingest import IngestRequest
    from ingestion.ingest import ingest as ingest_files

    settings = load_settings()
    _end_if_still_running(
        "ingest",
        ingest_timeout(),
        "the log's writer lock is released and the next ingest sweeps what this one staged",
    )
    console.print(f"reading {len(paths)} path(s) ...")
    request = IngestRequest(paths=paths, stream=stream, format=format, mapping=mapping, source=source)
    result = ingest_files(request, settings, progress=lambda step: console.print(f"  {step}"))
    where = f"batch {result.batch_id}" if result.batch_id else "no new batch"
    console.print(
        f"read {result.rows_read:,} rows: {result.rows_new:,} new, {result.rows_known:,} already known, "
        f"{result.quarantined:,} quarantined; appended {result.appended:,} events, skipped "
        f"{result.already_known:,} already known ({where}; log at {settings.log_dir})"
    )


@app.command("pull-open311")
def pull_open311(
    url: Annotated[str, typer.Option(help="The endpoint's requests.json URL.")],
    source: Annotated[str, typer.Option(help="Source name that namespaces ids, e.g. chicago311.")],
    since: Annotated[
        str | None,
        typer.Option(help="Window start (ISO 8601, UTC if no offset); default: where the last pull ended."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Window end (ISO 8601); default: now.")] = None,
    page_size: Annotated[int, typer.Option(help="Requests per page.")] = 500,
) -> None:
    """Pull the Open311 requests updated in a window into the event log, resuming a broken pull."""
    from ingestion.open311_pull import PullOptions, pull

    def utc(value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise GridlineError(f"not an ISO 8601 time: {value!r}") from None
        return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant

    settings = load_settings()
    _end_if_still_running(
        "pull",
        ingest_timeout(),
        "the pages fetched so far are kept, and the next pull of this window resumes there",
    )
    result = pull(settings, url, source, utc(since), utc(until), options=PullOptions(page_size=page_size))
    where = f"batch {result.batch_id}" if result.batch_id else "no new batch"
    console.print(
        f"pulled {result.rows_read:,} requests: appended {result.appended:,} events, "
        f"skipped {result.already_known:,} already known, quarantined {result.quarantined:,} ({where})"
    )


@app.command()
def run(
    full_refresh: Annotated[
        bool,
        typer.Option("--full-refresh", help="Rebuild every model from the whole log, not incrementally."),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Replay: build the marts from the events recorded up to this ISO 8601 time into "
            "$GRIDLINE_HOME/replays/, leaving the published marts alone.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Build on duckdb or spark (a Spark output of the dbt profile); default GRIDLINE_ENGINE, "
            "else duckdb. A Spark build is always whole (docs/scale-out.md).",
        ),
    ] = None,
) -> None:
    """Audit new batches, build, audit and publish the marts from the event log."""
    from gridline.run import build_audit_publish

    settings = load_settings()
    if engine is not None:
        settings = dataclasses.replace(settings, engine=build_engine(engine))
    if as_of is not None:
        from gridline.replay import replay

        # a replay is one DuckDB file to compare with a publication: built on DuckDB whatever the engine
        replayed = replay(dataclasses.replace(settings, engine=DEFAULT_ENGINE), as_of)
        counts = ", ".join(f"{name} {n:,}" for name, n in replayed.counts.items())
        console.print(f"replayed as of {replayed.as_of} into {replayed.database}: {counts}")
        return
    report = build_audit_publish(
        settings, progress=lambda step: console.print(f"  {step}"), full_refresh=full_refresh
    )
    counts = ", ".join(f"{name} {n:,}" for name, n in report.counts.items())
    if report.outcome == "unchanged":
        console.print(f"up to date, nothing new to build: {report.published}: {counts}")
        return
    console.print(f"published {report.published}: {counts}")
    if report.held_batches:
        console.print(
            f"held back (flagged by the audit, see `gridline batches list`): {', '.join(report.held_batches)}"
        )
    console.print(f"dbt docs: {report.dbt_docs}")
    console.print(f"data docs: {report.data_docs}")


batches_app = typer.Typer(no_args_is_help=True, help="The log's batches: audit outcomes, retract, accept.")
app.add_typer(batches_app, name="batches")


@batches_app.command("list")
def batches_list() -> None:
    """List the log's batches with their audit outcome (tab-separated on stdout)."""
    from gridline.batches import list_batches

    print("batch_id\trecorded_at\tstreams\tstatus\tdetail")
    for b in list_batches(load_settings()):
        streams = ",".join(f"{s}:{n}" for s, n in sorted(b.streams.items()))
        print(f"{b.batch_id}\t{b.recorded_at}\t{streams}\t{b.status}\t{b.detail}")


@batches_app.command("retract")
def batches_retract(
    batch: Annotated[str, typer.Argument(help="The batch id, as `gridline batches list` shows it.")],
    reason: Annotated[str, typer.Option(help="Why, for whoever reads the log later.")],
) -> None:
    """Retract a batch: its events stay in the log but are left out from the next run on."""
    from gridline.batches import retract

    settings = load_settings()
    recorded = retract(settings, batch, reason)
    console.print(
        f"retracted {batch} (recorded in batch {recorded}); run `gridline run` to publish without it"
    )


@batches_app.command("accept")
def batches_accept(
    batch: Annotated[str, typer.Argument(help="The flagged batch id.")],
    note: Annotated[str, typer.Option(help="Why it is fine despite the audit's findings.")] = "",
) -> None:
    """Accept a batch the audit flagged: the next run builds with it."""
    from gridline.batches import accept

    settings = load_settings()
    recorded = accept(settings, batch, note)
    console.print(f"accepted {batch} (recorded in batch {recorded}); run `gridline run` to publish with it")


log_app = typer.Typer(no_args_is_help=True, help="The event log itself: check its batch files.")
app.add_typer(log_app, name="log")


@log_app.command("verify")
def log_verify() -> None:
    """Re-hash every committed batch file against its manifest; name each damaged batch."""
    from gridline.snapshot import verify_log

    checked, problems = verify_log(load_settings())
    for problem in problems[1:]:
        console.print(f"gridline: {problem}", markup=False)
    if problems:
        raise GridlineError(f"{len(problems)} of {checked} batches damaged: {problems[0]}")
    console.print(f"all {checked} batches match their manifests")


reference_app = typer.Typer(
    no_args_is_help=True, help="The city's reference data: areas, categories, activities."
)
app.add_typer(reference_app, name="reference")


@reference_app.command("import")
def reference_import(
    kind: Annotated[str, typer.Argument(help="areas, categories or activities.")],
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: the generic form or an official list.")],
    within: Annotated[
        str | None, typer.Option(help="Areas: keep only codes starting with this (e.g. a city's 4 digits).")
    ] = None,
) -> None:
    """Add a reference file's rows as a new version (replays before it use the one before)."""
    from gridline.reference import import_reference

    result = import_reference(load_settings(), kind, file, within)
    console.print(
        f"{kind}: read {result.rows_read:,} rows; version {result.version.stem} holds {result.total:,}"
    )


@app.command()
def sql(query: Annotated[str, typer.Argument(help="One read-only query on marts.* and log.events.")]) -> None:
    """Answer a read-only query on the published marts and the event log, as CSV."""
    from gridline.query import run_query

    run_query(load_settings(), query)


@app.command()
def evaluate(
    truth: Annotated[
        Path,
        typer.Option(
            help="A truth file: the generator's truth.json, or generic classes of source case ids "
            '({"classes": [{"id": ..., "case_ids": [...]}]}, see docs/evaluation.md).'
        ),
    ],
    database: Annotated[
        Path | None, typer.Option(help="A built warehouse file to score instead of the published one.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also score the analyst's TF-IDF baseline on the same cases, side by side.")
    ] = True,
) -> None:
    """Score the published tickets against truth, beside the analyst's TF-IDF baseline."""
    from gridline.evaluate import compare

    for line in compare(load_settings(), truth, database, baseline=baseline).lines():
        print(line)


@app.command()
def report(
    quarter: Annotated[str, typer.Option(help="The review quarter, e.g. 2025Q3.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the HTML file (default $GRIDLINE_HOME/reports).")
    ] = None,
) -> None:
    """Write the quarterly review for coordination staff: one HTML file that opens offline."""
    from gridline.report import build_report

    path = build_report(load_settings(), quarter, out)
    console.print(f"quarterly review {quarter.upper()}: {path}")


def main() -> None:
    try:
        app()
    except GridlineError as exc:
        console.print(f"gridline: error: {exc}", markup=False)
        sys.exit(1)
    except OSError as exc:  # the machine: disk full, permissions, a file gone mid-read
        what = "no space left on the device" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        console.print(f"gridline: error: {what}{where}", markup=False)
        sys.exit(1)
    except duckdb.Error as exc:  # DuckDB's own I/O and corruption errors, outside a reader's checks
        lines = str(exc).strip().splitlines()
        console.print(f"gridline: error: {lines[0] if lines else type(exc).__name__}", markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        console.print("gridline: interrupted")
        sys.exit(130)
