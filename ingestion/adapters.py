"""The landing formats gridline reads, each behind one small interface, registered by format name.

An adapter names its format, the stream its files belong to (None when the request or a mapping says),
how to recognise one of its files, and how to read one into the batch: candidate events and quarantine
rows in the staging tables, or an events file streamed into the batch's staging folder. ``ingest``
chooses an adapter per file and checks the stream once, here, for every format.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb

from gridline.errors import GridlineError
from ingestion.log import OpenBatch
from ingestion.sources import grid_jsonl, open311, reading, twelve345, volunteer
from ingestion.sources import mapping as mapping_files

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class ReadContext:
    """What every adapter reads with: the batch's connection and staging folder, and the request's
    stream, Open311 source name and mapping."""

    con: duckdb.DuckDBPyConnection
    batch: OpenBatch
    scratch: Path
    stream: str | None
    source: str | None
    mapping: mapping_files.Mapping | None


@dataclass(frozen=True)
class FileRead:
    """Records read, and the events files streamed into the batch's staging folder, if any."""

    rows: int
    staged: tuple[Path, ...] = ()


class LandingFile:
    """One file being read: its path, the name its relation gets, and what recognising it needs (its
    first bytes, its header), each read at most once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, view: str, scratch: Path):
        self.con, self.path, self.view, self.scratch = con, path, view, scratch
        self._table: str | None = None

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @cached_property
    def head_text(self) -> str:
        """The first bytes of a file that is not a table file, as text (empty for a table file)."""
        if self.suffix in TABLE_SUFFIXES:
            return ""
        with open(self.path, "rb") as handle:
            return handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")

    @cached_property
    def header(self) -> list[str]:
        """A table file's column names (a CSV's from its first line alone); empty for other files."""
        if self.suffix in CSV_SUFFIXES:
            encoding = reading.text_encoding(self.path, limit=_SNIFF_BYTES)
            with open(self.path, encoding=encoding, errors="replace", newline="") as handle:
                first = next(csv.reader([handle.readline()]), [])
            return [name.strip() for name in first]
        if self.suffix in TABLE_SUFFIXES:
            return reading.columns_of(self.con, self.table())
        return []

    def table(self) -> str:
        """The file registered as a relation of text columns plus ``_line`` (once); its name."""
        if self._table is None:
            reading.register_table_file(self.con, self.path, self.view, self.scratch)
            self._table = self.view
        return self._table


class Adapter:
    """One landing format. A subclass names it, says which stream its files belong to, how to recognise
    one, and how to read one; a format whose files are better read together says so too."""

    format: str
    stream: str | None = None  # the stream its files belong to; None when the request or a mapping decides
    files: str  # what its files are called in messages ("12345 exports")

    def recognises(self, file: LandingFile) -> bool:
        raise NotImplementedError

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        raise NotImplementedError

    def reads_together(self, file: LandingFile) -> bool:
        """Whether ``file`` waits to be read with the batch's other such files in one pass."""
        return False

    def read_together(self, files: list[LandingFile], context: ReadContext) -> FileRead:
        raise NotImplementedError


class Twelve345Adapter(Adapter):
    format, stream, files = "12345", twelve345.STREAM, "12345 exports"

    def recognises(self, file: LandingFile) -> bool:
        return twelve345.matches(file.header)

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        if file.suffix in CSV_SUFFIXES:
            return self.read_together([file], context)
        return FileRead(twelve345.load(context.con, file.table(), str(file.path)))

    def read_together(self, files: list[LandingFile], context: ReadContext) -> FileRead:
        """CSV exports in one streamed scan per header: memory stays flat, and many small files cost
        about what one file of their records does."""
        rows, staged = twelve345.stream_csv(
            context.con, [f.path for f in files], files[0].view, context.batch, context.scratch
        )
        return FileRead(rows, tuple(staged))

    def reads_together(self, file: LandingFile) -> bool:
        return file.suffix in CSV_SUFFIXES


class VolunteerAdapter(Adapter):
    format, stream, files = "volunteer", volunteer.STREAM, "volunteer logs"

    def recognises(self, file: LandingFile) -> bool:
        return volunteer.matches(file.header)

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        return FileRead(volunteer.load(context.con, file.table(), str(file.path)))


class Open311Adapter(Adapter):
    format, stream, files = "open311", None, "Open311 requests"

    def recognises(self, file: LandingFile) -> bool:
        return open311.matches_text(file.head_text)

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        open311.register_file(context.con, file.path, file.view)
        source = context.source or open311.DEFAULT_SOURCE
        label = open311.lineage_label(file.path)
        return FileRead(open311.load(context.con, file.view, label, source, context.stream))


class GridJsonlAdapter(Adapter):
    format, stream, files = "grid-jsonl", grid_jsonl.STREAM, "grid-app submissions"

    def recognises(self, file: LandingFile) -> bool:
        first_line = next((line for line in file.head_text.splitlines() if line.strip()), "")
        return grid_jsonl.matches_line(first_line)

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        grid_jsonl.register_lines(context.con, file.path, file.view, context.scratch)
        return FileRead(grid_jsonl.load(context.con, file.view, str(file.path)))


class MappingAdapter(Adapter):
    """A city's own table export, read by a mapping file; never recognised, always asked for."""

    format, stream, files = "mapping", None, "mapped exports"

    def recognises(self, file: LandingFile) -> bool:
        return False

    def read(self, file: LandingFile, context: ReadContext) -> FileRead:
        assert context.mapping is not None, "ingest asks for a mapping with this format"
        rows = mapping_files.load(context.con, file.table(), str(file.path), context.mapping, context.stream)
        return FileRead(rows)


# In the order files are recognised: a table file by its header, then JSON by its first bytes.
ADAPTERS: dict[str, Adapter] = {
    adapter.format: adapter
    for adapter in (
        Twelve345Adapter(),
        VolunteerAdapter(),
        Open311Adapter(),
        GridJsonlAdapter(),
        MappingAdapter(),
    )
}
FORMATS = tuple(ADAPTERS)


def adapter_for(file: LandingFile, format_name: str | None) -> Adapter:
    """The adapter named by ``format_name``, else the first that recognises the file."""
    if format_name:
        return ADAPTERS[format_name]
    for adapter in ADAPTERS.values():
        if adapter.recognises(file):
            return adapter
    file.table()  # a file of an unsupported type is named as such
    raise GridlineError(f"{file.path}: cannot tell its format from the header; pass --format")


def check_stream(adapter: Adapter, stream: str | None, path: Path) -> None:
    """Refuse a file asked into a stream its format does not belong to."""
    if adapter.stream and stream not in (None, adapter.stream):
        raise GridlineError(f"{path}: {adapter.files} belong to the {adapter.stream} stream")
