"""What the Airflow tasks do, as plain functions: each DAG task is one call into here.

Landing files arrive under ``$GRIDLINE_LANDING/<stream>/<YYYY-MM-DD>/`` (default
``$GRIDLINE_HOME/landing``), one folder per local day of the export. An ingest run for a data interval
reads the folders of the days in that interval, so re-running or backfilling an interval reads the same
files, and the log's deterministic event ids make the second read add nothing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest

LANDING_SUFFIXES = {".csv", ".xlsx", ".json", ".jsonl"}


def landing_root(settings: Settings) -> Path:
    return Path(os.environ.get("GRIDLINE_LANDING", settings.home / "landing"))


def days_in_interval(start: datetime, end: datetime, timezone: str) -> list[date]:
    """Local calendar days whose midnight falls in [start, end); a zero-length interval gives its day."""
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if end <= start:
        return [first]
    days = []
    day = first
    while datetime.combine(day, datetime.min.time(), zone) < end:
        if datetime.combine(day, datetime.min.time(), zone) >= start:
            days.append(day)
        day += timedelta(days=1)
    return days or [first if first == last else last]


def landing_files(settings: Settings, stream: str, days: list[date]) -> list[Path]:
    root = landing_root(settings) / stream
    files = []
    for day in days:
        folder = root / day.isoformat()
        if folder.is_dir():
            files += sorted(p for p in folder.iterdir() if p.suffix.lower() in LANDING_SUFFIXES)
    return files


def ingest_interval(settings: Settings, stream: str, start: datetime, end: datetime) -> dict:
    """Ingest the landing files of ``stream`` for the days of one data interval; returns the counts."""
    days = days_in_interval(start, end, settings.timezone)
    files = landing_files(settings, stream, days)
    summary = {"stream": stream, "days": [d.isoformat() for d in days], "files": [str(f) for f in files]}
    if not files:
        return {
            **summary,
            "batch_id": None,
            "rows_read": 0,
            "appended": 0,
            "already_known": 0,
            "quarantined": 0,
        }
    result = ingest(IngestRequest(paths=files, stream=stream), settings)
    return {**summary, **asdict(result)}


def closed_quarter(start: datetime, end: datetime, timezone: str) -> str:
    """The local quarter (``2025Q3``) that a quarterly data interval [start, end) covers.

    The interval must be exactly one local calendar quarter; anything else means the DAG was triggered
    with a data interval that is not a quarter, which retrying will not fix.
    """
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone), end.astimezone(zone)
    quarter = (first.month - 1) // 3 + 1
    next_start = (
        datetime(first.year + 1, 1, 1, tzinfo=zone)
        if quarter == 4
        else datetime(first.year, 3 * quarter + 1, 1, tzinfo=zone)
    )
    quarter_start = datetime(first.year, 3 * quarter - 2, 1, tzinfo=zone)
    if first != quarter_start or last != next_start:
        raise GridlineError(
            f"data interval {first.isoformat()} .. {last.isoformat()} is not one local quarter "
            f"({timezone}); trigger the quarterly review with a quarter's end as its logical date"
        )
    return f"{first.year}Q{quarter}"


def quarterly_review(settings: Settings, start: datetime, end: datetime) -> dict:
    """Build, audit and publish the marts, then write the review report of the quarter just closed."""
    from dataclasses import asdict as as_dict

    from gridline.run import build_audit_publish

    quarter = closed_quarter(start, end, settings.timezone)
    run = build_audit_publish(settings)
    try:
        from gridline.report import build_report
    except ImportError as exc:  # the report module ships separately; say so instead of a traceback
        raise GridlineError(f"cannot write the {quarter} report: gridline.report is not installed") from exc
    report = build_report(settings, quarter, None)
    return {"quarter": quarter, "report": str(report), "run": as_dict(run)}


def pull_open311_interval(
    settings: Settings, endpoint_url: str, source_name: str, start: datetime, end: datetime
) -> dict:
    """Pull the Open311 requests updated in [start, end) from ``endpoint_url`` into the event log."""
    from ingestion.open311_pull import pull

    # Open311 requests are residents' service requests: the hotline stream, whose Asset the DAG emits.
    result = pull(settings, endpoint_url, source_name, start, end, stream="hotline")
    counts = asdict(result) if is_dataclass(result) else dict(result or {})
    return {"endpoint": endpoint_url, "source": source_name, "start": start.isoformat(), **counts}
