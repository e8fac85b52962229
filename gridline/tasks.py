"""What the Airflow tasks do, as plain functions: each DAG task is one call into here.

Landing files arrive under ``$GRIDLINE_LANDING/<stream>/<YYYY-MM-DD>/`` (default
``$GRIDLINE_HOME/landing``), one folder per local day of the export. An ingest run for a data interval
reads the folders of the days in that interval, so re-running or backfilling an interval reads the same
files, and the log's deterministic event ids make the second read add nothing.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gridline.config import Settings
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
