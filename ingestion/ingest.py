"""Ingest landing files into the event log: detect the format, read, pseudonymise, commit one batch.

This is the function behind ``gridline ingest`` and the ingest DAGs. Each call is one batch: either every
file in it is committed or none is.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gridline.config import TIMEZONE_ENV, Settings, adopt_timezone
from gridline.errors import GridlineError, machine_error
from ingestion import events, privacy
from ingestion.adapters import ADAPTERS, FORMATS, LandingFile, ReadContext, adapter_for, check_stream
from ingestion.integrity import sha256_of
from ingestion.log import BatchResult, EventLog
from ingestion.sources import mapping as mapping_files
from ingestion.sources import reading


@dataclass(frozen=True)
class IngestRequest:
    paths: list[Path]
    stream: str | None = None
    format: str | None = None
    mapping: str | None = None
    source: str | None = None  # Open311: the source name that namespaces ids (e.g. chicago311)


def landing_files(paths: list[Path]) -> list[Path]:
    """The files to read, each once, in the order given; a folder stands for the files in it (all
    levels, sorted by path, hidden ones skipped). A broken or looping link is a clear error."""
    files: list[Path] = []
    for given in paths:
        try:
            path = Path(given).resolve(strict=True)
        except RuntimeError:  # Python 3.11 reports a symlink loop this way
            raise GridlineError(f"{given}: a symbolic link loop, not a file") from None
        except OSError as exc:
            reason = "a symbolic link loop" if exc.errno == errno.ELOOP else "no such file or folder"
            raise GridlineError(f"{given}: {reason}") from None
        if path.is_dir():
            inside = sorted(_files_under(path))
            if not inside:
                raise GridlineError(f"{given}: the folder holds no files to read")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            raise GridlineError(f"{given}: not a regular file or folder")
    unique = list(dict.fromkeys(files))  # a file named twice is read once: its rows are one delivery
    return unique


def _files_under(folder: Path) -> list[Path]:
    """Regular files below ``folder``, not following links to folders (which could loop)."""
    found = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            path = Path(root) / name
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise GridlineError(f"{path}: a broken or looping symbolic link") from None
            if resolved.is_file():
                found.append(resolved)
    return found


def _open_connection(settings: Settings, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"temp_directory": str(scratch / "spill")})
    # A ceiling (GRIDLINE_INGEST_MEMORY): past it the log's set-based steps spill to the scratch folder,
    # so an ingest's memory does not grow with the size of its input or of the log (the scan streams).
    con.execute(f"set memory_limit = '{settings.ingest_memory}'")
    con.execute(f"set TimeZone = '{settings.timezone}'")
    privacy.install(con, settings.pii_key())
    reading.install_time_macros(con, settings.timezone)
    events.create_staging_tables(con)
    return con


def _size(path: Path) -> int:
    return path.stat().st_size


class CommittedFiles:
    """The files counted batches have read, to skip a delivery of the same bytes without parsing it.

    A file is hashed only when some committed file has its size. A copy at another path is skipped
    only when the earlier delivery gave no quarantine records: a re-sent copy of a file with bad rows
    is a new delivery whose bad rows are reported again."""

    def __init__(self, files: list[dict], request: IngestRequest):
        self.by_size: dict[int | None, list[dict]] = {}
        for item in files:
            # Only a file read the way this request reads it counts: another mapping or source could
            # read other events from the same bytes, and a file meant for another stream is read so
            # that its adapter refuses it in one clear line.
            if (
                request.stream in (None, item["stream"])
                and request.format in (None, item["format"])
                and (request.mapping, request.source) == (item["mapping"], item["source"])
            ):
                self.by_size.setdefault(item["bytes"], []).append(item)

    def earlier_delivery(self, path: Path) -> tuple[dict | None, str | None]:
        """The committed file ``path`` repeats (or None), and the digest if it had to be computed."""
        same_size = self.by_size.get(_size(path), []) + self.by_size.get(None, [])
        if not same_size:
            return None, None
        digest = sha256_of(path)
        for item in same_size:
            if item["sha256"] == digest and (item["path"] == str(path) or not item["had_quarantine"]):
                return item, digest
        return None, digest


# On long work, a progress line at most this often (seconds): files done and rows read so far.
PROGRESS_EVERY = 5.0


def ingest(
    request: IngestRequest, settings: Settings, progress: Callable[[str], None] | None = None
) -> BatchResult:
    """Read the request's files as one batch; a failure of the machine (disk full, unreadable file) is a
    one-line error and leaves nothing behind: the batch is committed whole or not at all."""
    try:
        return _ingest(request, settings, progress)
    except duckdb.OutOfMemoryException:
        # Nothing was committed (the batch is atomic); a smaller batch fits under the memory ceiling.
        raise GridlineError(
            f"the batch of {len(request.paths)} file(s) did not fit in the ingest's memory ceiling; "
            "nothing was committed: ingest fewer files at a time (e.g. one landing day per batch)"
        ) from None
    except (OSError, duckdb.IOException) as exc:
        raise machine_error("ingest failed, nothing was committed", exc) from None


def _ingest(
    request: IngestRequest, settings: Settings, progress: Callable[[str], None] | None
) -> BatchResult:
    if not request.paths:
        raise GridlineError("nothing to ingest: give one or more files")
    if request.format and request.format not in FORMATS:
        raise GridlineError(f"unknown format {request.format!r}; known: {', '.join(FORMATS)}")
    if request.stream and request.stream not in events.STREAMS:
        raise GridlineError(f"unknown stream {request.stream!r}; known: {', '.join(events.STREAMS)}")
    if request.format == "mapping" and not request.mapping:
        raise GridlineError("format mapping needs --mapping NAME_OR_FILE")
    mapping = mapping_files.load_mapping(request.mapping) if request.mapping else None
    if mapping and request.format not in (None, "mapping"):
        raise GridlineError(f"--mapping goes with --format mapping, not {request.format}")
    log = EventLog(settings.log_dir)
    first_batch = not log.batch_dirs()
    scratch = reading.scratch_dir()
    try:
        con = _open_connection(settings, scratch)
        # The log is held from the start: a streamed file is written straight into the batch.
        with log.open_batch() as batch:
            rows_read = 0
            inputs = []
            staged: list[Path] = []
            # The files' digests (for the manifest) are computed beside the scans: hashlib releases the GIL.
            hasher = ThreadPoolExecutor(max_workers=1)
            files = landing_files(request.paths)
            committed = CommittedFiles(log.committed_files(), request)
            started = last_said = time.monotonic()
            context = ReadContext(con, batch, scratch, request.stream, request.source, mapping)
            together: dict[str, list[LandingFile]] = {}  # files an adapter reads in one pass, by format
            for number, path in enumerate(files):
                now = time.monotonic()
                if progress and number and now - last_said >= PROGRESS_EVERY:
                    elapsed = now - started
                    progress(f"{number} of {len(files)} files, {rows_read:,} rows ({elapsed:.0f} s) ...")
                    last_said = now
                earlier, digest = committed.earlier_delivery(path)
                if earlier:
                    inputs.append(
                        {"path": str(path), "sha256": digest, "bytes": earlier["bytes"]}
                        | {
                            "same_as_batch": earlier["batch_id"],
                            "rows": earlier["rows"],
                            "events": earlier["events"],
                        }
                    )
                    if progress:
                        progress(
                            f"{path}: skipped unread, the same file was read in batch {earlier['batch_id']}"
                        )
                    continue
                file = LandingFile(con, path, f"landing_{number}", scratch)
                adapter = adapter_for(file, request.format or ("mapping" if mapping else None))
                check_stream(adapter, request.stream, path)
                if adapter.reads_together(file):
                    together.setdefault(adapter.format, []).append(file)
                else:
                    got = adapter.read(file, context)
                    rows_read += got.rows
                    staged += got.staged
                inputs.append(
                    {"path": str(path), "format": adapter.format, "bytes": _size(path)}
                    | {"mapping": request.mapping, "source": request.source}
                    | {"sha256": digest or hasher.submit(sha256_of, path)}
                )
            for format_name, waiting in together.items():
                got = ADAPTERS[format_name].read_together(waiting, context)
                rows_read += got.rows
                staged += got.staged
            for item in inputs:
                if not isinstance(item["sha256"], str):
                    item["sha256"] = item["sha256"].result()
            hasher.shutdown()
            if progress and time.monotonic() - started >= PROGRESS_EVERY:
                progress(f"{len(files)} file(s), {rows_read:,} rows read; committing the batch ...")
            result = log.commit(con, batch, {"kind": "ingest", "inputs": inputs}, rows_read, staged)
        # A city's first export says which clock it lives by, unless the deployment said otherwise.
        if mapping and first_batch and adopt_timezone(settings, mapping.timestamps.timezone) and progress:
            zone = mapping.timestamps.timezone
            progress(f"the city's time zone is now {zone} (set {TIMEZONE_ENV} to choose another)")
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
