"""Ingest landing files into the event log: detect the format, read, pseudonymise, commit one batch.

This is the function behind ``gridline ingest`` and the ingest DAGs. Each call is one batch: either every
file in it is committed or none is.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion import events, privacy
from ingestion.log import BatchResult, EventLog
from ingestion.sources import reading, twelve345

FORMATS = ("12345",)


@dataclass(frozen=True)
class IngestRequest:
    paths: list[Path]
    stream: str | None = None
    format: str | None = None
    mapping: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _open_connection(settings: Settings, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"temp_directory": str(scratch / "spill")})
    con.execute("set memory_limit = '2GB'")
    con.execute(f"set TimeZone = '{settings.timezone}'")
    privacy.install(con, settings.pii_key())
    reading.install_time_macros(con, settings.timezone)
    events.create_staging_tables(con)
    return con


def _detect_format(con: duckdb.DuckDBPyConnection, view: str, path: Path) -> str:
    if twelve345.matches(reading.columns_of(con, view)):
        return "12345"
    raise GridlineError(f"{path}: cannot tell its format from the header; pass --format")


def ingest(request: IngestRequest, settings: Settings) -> BatchResult:
    if not request.paths:
        raise GridlineError("nothing to ingest: give one or more files")
    if request.format and request.format not in FORMATS:
        raise GridlineError(f"unknown format {request.format!r}; known: {', '.join(FORMATS)}")
    if request.stream and request.stream not in events.STREAMS:
        raise GridlineError(f"unknown stream {request.stream!r}; known: {', '.join(events.STREAMS)}")
    log = EventLog(settings.log_dir)
    scratch = reading.scratch_dir()
    try:
        con = _open_connection(settings, scratch)
        rows_read = 0
        inputs = []
        for number, path in enumerate(request.paths):
            path = Path(path).resolve()
            view = f"landing_{number}"
            reading.register_table_file(con, path, view, scratch)
            fmt = request.format or _detect_format(con, view, path)
            if fmt == "12345":
                if request.stream not in (None, twelve345.STREAM):
                    raise GridlineError(f"{path}: 12345 exports belong to the hotline stream")
                rows_read += twelve345.load(con, view, str(path))
            inputs.append({"path": str(path), "format": fmt, "sha256": _sha256(path)})
        with log.writer_lock():
            return log.commit(con, {"kind": "ingest", "inputs": inputs}, rows_read)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
