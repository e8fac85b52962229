"""Reading landing files into DuckDB: encoding detection, CSV and XLSX, record numbers and rejects.

Every reader registers a relation of all-text columns named as in the file's header, plus ``_line``: the
record's number in the file (the header is record 1), so a quarantine record can point at it. Rows whose
shape is broken (too few or too many fields) go straight to the ``quarantine`` table.
"""

from __future__ import annotations

import codecs
import csv
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from gridline.errors import GridlineError

_CHUNK = 1 << 20


def detect_encoding(path: Path, limit: int | None = None) -> str:
    """``utf-8`` (with or without BOM) when the file decodes as UTF-8, else ``gb18030``.

    GB18030 is a superset of GBK and GB2312, which is what Chinese field exports use when not UTF-8.
    With ``limit``, only the first ``limit`` bytes are checked: Chinese text in GB18030 is practically
    never valid UTF-8, so a header and some rows decide, and the CSV reader itself quarantines a later
    record with bytes that are not UTF-8. For the same reason a file in which a fair amount of non-ASCII
    text decoded as UTF-8 before the first bad byte is UTF-8 with a damaged record, not GB18030 (a few
    GB18030 characters can happen to form valid UTF-8; dozens in a row do not).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    non_ascii = 0
    with open(path, "rb") as handle:
        read = 0
        while chunk := handle.read(_CHUNK):
            read += len(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                prefix = chunk[: exc.start].decode("utf-8", errors="ignore")
                non_ascii += _non_ascii(prefix)
                return "utf-8" if non_ascii >= _UTF8_EVIDENCE else "gb18030"
            if non_ascii < _UTF8_EVIDENCE:  # counted only until there is enough evidence
                non_ascii += _non_ascii(text[: 1 << 16])
            if limit is not None and read >= limit:
                return "utf-8"  # not final: a character cut at the end of the sample is fine
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "utf-8" if non_ascii >= _UTF8_EVIDENCE else "gb18030"
    return "utf-8"


def text_encoding(path: Path, limit: int | None = None) -> str:
    """The codec to open ``path`` with as text: its :func:`detect_encoding`, skipping a UTF-8 byte-order
    mark when there is one."""
    encoding = detect_encoding(path, limit)
    return "utf-8-sig" if encoding == "utf-8" else encoding


# Non-ASCII characters that must decode as UTF-8 before a bad byte for a file to count as damaged UTF-8.
_UTF8_EVIDENCE = 16


def _non_ascii(text: str) -> int:
    """How many characters of ``text`` are not ASCII, counted in C (a Python loop over the characters
    was most of the cost of reading a small file)."""
    return len(text) - len(text.encode("ascii", "ignore"))


def first_undecodable_byte(path: Path, encoding: str) -> tuple[int, str] | None:
    """The file offset of the first byte ``encoding`` cannot decode, and why; None if all decode."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            pending = len(decoder.getstate()[0])  # bytes of a character cut at the previous chunk's end
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start, exc.reason
            if not chunk:
                return None
            offset += len(chunk)


def _transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    target = workdir / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as src, open(target, "w", encoding="utf-8") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(decoder.decode(chunk))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        target.unlink(missing_ok=True)
        # Name where UTF-8 reading fails: that is where a file meant as UTF-8 is damaged.
        as_utf8 = first_undecodable_byte(path, "utf-8") or (0, "")
        as_other = first_undecodable_byte(path, encoding) or (0, "")
        raise GridlineError(
            f"{path}: neither UTF-8 (invalid bytes at byte {as_utf8[0]:,}) nor {encoding.upper()} "
            f"(at byte {as_other[0]:,}) text"
        ) from None
    return target


_SCRATCH_PREFIX = "gridline-scratch-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def scratch_dir() -> Path:
    """A private temporary folder outside $GRIDLINE_HOME: transcoded copies hold clear personal data.

    Its name carries the owner's process id. A process killed outright cannot clean up after itself,
    so each new one first removes the folders of owners that are gone.
    """
    root = Path(tempfile.gettempdir())
    for folder in root.glob(f"{_SCRATCH_PREFIX}*-*"):
        owner = folder.name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-"))


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


sql_path = _sql_path


def column_names(header: list[object]) -> list[str]:
    """The header's cells as column names a relation can carry.

    A blank cell (an exported row index, a spacer column) becomes ``column_N`` after its position, and a
    name met again gets ``_2``, ``_3`` ...: relations need unique, non-empty names, and a mapping can
    then name any column the file has.
    """
    names: list[str] = []
    taken: set[str] = set()
    for position, cell in enumerate(header, start=1):
        name = "" if cell is None else str(cell).strip()
        base = name or f"column_{position}"
        name, copy = base, 1
        while name in taken:
            copy += 1
            name = f"{base}_{copy}"
        taken.add(name)
        names.append(name)
    return names


def _csv_header(path: Path, readable: Path) -> list[str]:
    with open(readable, encoding="utf-8-sig", newline="", errors="replace") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise GridlineError(f"{path}: empty file, no header row")
    check_header(path, header)
    return column_names(header)


# The columns the numbering adds to a scan for its own use. An export's own column of one of these names
# (DuckDB compares names without case) is read under another name: nothing reads it by that name, since
# a reader asks for the columns of its format, and the scan keeps it rather than failing on the clash.
_NUMBERING_COLUMNS = frozenset({"filename", "file_row_number", "_rank", "_line", "source_file"})


def _scan_names(header: tuple[str, ...]) -> list[str]:
    return [
        f"{name} (export column {number})" if name.lower() in _NUMBERING_COLUMNS else name
        for number, name in enumerate(header, start=1)
    ]


def _columns_literal(header: list[str]) -> str:
    return ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header)


def check_header(path: Path, header: list) -> None:
    """Refuse a header that names a column twice: no reader can tell which one a field means."""
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = str(name if name is not None else "").strip()
        if key and key in seen:
            raise GridlineError(
                f"{path}: the header names column {key!r} twice (columns {seen[key]} and {number}); "
                "give each column its own name"
            )
        seen.setdefault(key, number)


def _read_csv_sql(files: str, header: list[str], view: str, filename: bool = False) -> str:
    """The one CSV reader: ``files`` a quoted path or a list of them, every column text, malformed
    records kept in ``<view>_rejects`` (and ``<view>_scans``) instead of failing the scan."""
    # The dialect is fixed (comma, double quotes, a header row) rather than sniffed: a sniffer can be
    # thrown by the very malformed rows we want to quarantine.
    columns = _columns_literal(header)
    return f"""read_csv({files},
                    columns = {{{columns}}}, header = true, auto_detect = false, delim = ',', quote = '"',
                    escape = '"', strict_mode = false, store_rejects = true,
                    filename = {str(filename).lower()},
                    rejects_table = '{view}_rejects', rejects_scan = '{view}_scans')"""


@dataclass(frozen=True)
class CsvGroup:
    """CSV files with one header, read in one scan: each file's readable UTF-8 form and its lineage."""

    header: tuple[str, ...]
    readables: tuple[Path, ...]
    sources: tuple[Path, ...]


def group_csv_files(paths: list[Path], workdir: Path) -> list[CsvGroup]:
    """The files grouped by header, in reading order within a group; a file not in UTF-8 is transcoded
    into ``workdir`` first, so that every group is one ``read_csv`` over UTF-8 files."""
    groups: dict[tuple[str, ...], tuple[list[Path], list[Path]]] = {}
    for path in paths:
        if not path.exists():
            raise GridlineError(f"{path}: no such file")
        encoding = detect_encoding(path, limit=4 * _CHUNK)
        readable = path if encoding == "utf-8" else _transcode_to_utf8(path, encoding, workdir)
        readables, sources = groups.setdefault(tuple(_csv_header(path, readable)), ([], []))
        readables.append(readable)
        sources.append(path)
    return [CsvGroup(header, tuple(r), tuple(s)) for header, (r, s) in groups.items()]


@dataclass(frozen=True)
class NumberedRecords:
    """Records of a group of CSV files after their one scan: a relation (``scan``, text columns and
    ``_line``, the record's number in its file with the header as record 1) and the SQL expression of
    each record's lineage over it (``source_file``). ``files`` are scratch files to remove when done."""

    scan: str
    source_file: str
    files: tuple[Path, ...]


def number_csv_records(
    con: duckdb.DuckDBPyConnection, group: CsvGroup, view: str, scratch: Path
) -> NumberedRecords:
    """Copy a group's files, in file order, into scratch Parquet, numbering each record in its file;
    malformed records go to ``quarantine``.

    DuckDB's CSV reader gives no record number, but with ``preserve_insertion_order`` a parallel scan
    copied to Parquet keeps the records in file order, so a record's place in the scratch file (its
    ``file_row_number``) ranks it across all files. The copy runs on every core; a ``row_number()`` in
    it would run on one (measured: 0.83 CPU-s on one thread against 0.53 + 0.42 on two per 300,000
    orders). The costly work then runs over the scratch file. A record's number in its file is its rank
    less the ranks of the files before, plus one for the header, plus the malformed records before it in
    its file. Those corrections are computed on numbers alone and joined back by rank, so the records'
    text is streamed, never sorted. One file without malformed records, the common case, needs no
    correction and no second copy.
    """
    ranked = scratch / f"{view}.ranked.parquet"
    single = len(group.readables) == 1
    files = "[" + ", ".join(f"'{_sql_path(r)}'" for r in group.readables) + "]"
    con.execute("set preserve_insertion_order = true")  # the ranks are the rows' places in the copy
    con.execute(
        f"""copy (select * from {_read_csv_sql(files, _scan_names(group.header), view, filename=True)})
            to '{_sql_path(ranked)}' (format parquet, compression uncompressed)"""
    )
    # Each record's rank across the group, 1 for the first record of the first file.
    ranked_scan = (
        f"(select * exclude (file_row_number), file_row_number + 1 as _rank "
        f"from read_parquet('{_sql_path(ranked)}', file_row_number = true))"
    )
    lineage = ", ".join(
        f"('{_sql_path(r)}', '{_sql_path(s)}')" for r, s in zip(group.readables, group.sources, strict=True)
    )
    con.execute(
        f"create or replace temp table {view}_files as "
        f"select * from (values {lineage}) t(filename, source_file)"
    )
    try:
        con.execute(
            f"""create or replace temp table {view}_bad as
                select s.file_path as filename, r.line, any_value(r.error_message) as error_message,
                       any_value(r.csv_line) as csv_line
                from {view}_rejects r join {view}_scans s using (scan_id, file_id) group by all"""
        )
    except duckdb.CatalogException:  # the scan saw no malformed record, so no rejects table was made
        con.execute(f"create or replace temp table {view}_bad (filename varchar, line bigint)")
    else:
        con.execute(
            f"""insert into quarantine
                select f.source_file, b.line, 'malformed record: ' || b.error_message,
                       redact_personal(b.csv_line)
                from {view}_bad b join {view}_files f using (filename)"""
        )
    if single and not con.sql(f"select count(*) from {view}_bad").fetchall()[0][0]:
        scan = f"(select * exclude (_rank, filename), _rank + 1 as _line from {ranked_scan})"
        return NumberedRecords(scan, f"'{_sql_path(group.sources[0])}'", (ranked,))
    # (filename, good_before, shift): a record whose provisional number minus one exceeds good_before
    # lies shift lines further down, for the largest such good_before (adjacent malformed records share
    # one).
    con.execute(
        f"""create or replace temp table {view}_lines as
            with ranks as (
                select _rank, filename from {ranked_scan}
            ),
            file_starts as (
                select filename, min(_rank) - 1 as ranks_before from ranks group by filename
            ),
            provisional as (
                select _rank, filename, _rank - ranks_before + 1 as line
                from ranks join file_starts using (filename)
            ),
            line_fix as (
                select filename, good_before, max(shift) as shift from (
                    select filename,
                           line - row_number() over (partition by filename order by line) - 1 as good_before,
                           row_number() over (partition by filename order by line) as shift
                    from {view}_bad
                ) group by all
            )
            select p._rank, p.line + coalesce(x.shift, 0) as _line, f.source_file
            from provisional p
            asof left join line_fix x on p.filename = x.filename and p.line - 1 > x.good_before
            join {view}_files f on f.filename = p.filename"""
    )
    # A file of its own rather than a join inside the caller's scan: DuckDB 2.0.0 fails with an internal
    # error ("dict-surviving cache") on some files when such a join feeds the 12345 translation directly.
    numbered = scratch / f"{view}.numbered.parquet"
    con.execute(
        f"""copy (select r.* exclude (_rank, filename), l._line, l.source_file
                  from {ranked_scan} r join {view}_lines l using (_rank))
            to '{_sql_path(numbered)}' (format parquet, compression uncompressed)"""
    )
    ranked.unlink()
    return NumberedRecords(f"read_parquet('{_sql_path(numbered)}')", "source_file", (numbered,))


def register_csv(con: duckdb.DuckDBPyConnection, path: Path, view: str, workdir: Path) -> None:
    """Register ``view`` over a CSV file; malformed records become quarantine rows."""
    encoding = detect_encoding(path)
    readable = path if encoding == "utf-8" else _transcode_to_utf8(path, encoding, workdir)
    source = _sql_path(path)
    header = _csv_header(path, readable)
    try:
        con.execute(
            f"""create or replace temp table {view}_raw as
                select *, row_number() over () as _row
                from {_read_csv_sql(f"'{_sql_path(readable)}'", header, view)}"""
        )
    except duckdb.Error as exc:
        raise GridlineError(f"{path}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    # Record numbers of good rows are the numbers left once the rejected records are taken out.
    con.execute(
        f"""
        create or replace temp view {view} as
        with rejected as (select distinct line from {view}_rejects),
        total as (select (select count(*) from {view}_raw) + (select count(*) from rejected) as n),
        good_lines as (
            select line, row_number() over (order by line) as _row
            from (select unnest(range(2, (select n from total) + 2)) as line)
            where line not in (select line from rejected)
        )
        select r.* exclude (_row), g.line as _line from {view}_raw r join good_lines g using (_row)
        """
    )
    con.execute(
        f"""insert into quarantine
            select '{source}', line, 'malformed record: ' || any_value(error_message),
                   redact_personal(any_value(csv_line))
            from {view}_rejects group by line"""
    )


def _cell_text(value: object) -> str | None:
    # Date and datetime cells come out in ISO form, which every timestamp reader accepts besides the
    # styles its source declares: a workbook mixes typed text with cells Excel took for dates.
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


cell_text = _cell_text


def register_xlsx(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> None:
    """Register ``view`` over the first sheet of a workbook (header in the first row)."""
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own error types for every unreadable workbook
        raise GridlineError(f"{path}: cannot be read as XLSX ({exc})") from None
    if not rows:
        raise GridlineError(f"{path}: the workbook's first sheet is empty")
    check_header(path, list(rows[0]))
    header = column_names(list(rows[0]))
    columns = {name: [] for name in header}
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if all(cell in (None, "") for cell in row):
            continue
        row = list(row) + [None] * (len(header) - len(row))
        for name, cell in zip(header, row, strict=False):
            columns[name].append(_cell_text(cell))
        lines.append(number)
    table = pa.table({**{k: pa.array(v, pa.string()) for k, v in columns.items()}, "_line": lines})
    con.register(f"{view}_arrow", table)
    con.execute(f"create or replace temp view {view} as select * from {view}_arrow")


def register_table_file(con: duckdb.DuckDBPyConnection, path: Path, view: str, workdir: Path) -> None:
    if not path.exists():
        raise GridlineError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        register_xlsx(con, path, view)
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        register_csv(con, path, view, workdir)
    else:
        raise GridlineError(f"{path}: unsupported file type {path.suffix!r} (expected .csv or .xlsx)")


# Zones whose offset from UTC has not changed since this date (all of China since 1991) convert local
# wall-clock times by plain arithmetic; earlier times, and zones with daylight saving, go through ICU.
_FIXED_OFFSET_SINCE = datetime(1992, 1, 1)
_FIXED_OFFSET_UNTIL = datetime(2040, 1, 1)


def fixed_utc_offset(timezone: str) -> int | None:
    """The zone's UTC offset in seconds when it is the same on every day from 1992 to 2040, else None."""
    zone = ZoneInfo(timezone)
    day, offsets = _FIXED_OFFSET_SINCE, set()
    while day < _FIXED_OFFSET_UNTIL and len(offsets) < 2:
        offsets.add(day.replace(tzinfo=zone).utcoffset())
        day += timedelta(days=15)
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


def install_time_macros(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """``local_ts(text)``: a local wall-clock timestamp in any of the field's styles, as UTC.

    Accepts ``YYYY-MM-DD HH:MM:SS`` and ``YYYY/M/D H:MM`` (with or without seconds, either separator,
    or a bare date meaning local midnight);
    blank gives null, and so does anything unparseable (callers quarantine those).
    Also ``local_wall_clock(text)`` (the parsed, zone-less time) and ``wall_clock_to_utc(ts)``, the
    two halves of ``local_ts``, for scans that parse once and convert separately.
    """
    formats = [
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        # A workbook stores a timestamp at exactly midnight as a bare date cell.
        "%Y-%m-%d",
        "%Y/%m/%d",
    ]
    attempts = ", ".join(f"'{f}'" for f in formats)
    con.execute(
        f"create or replace temp macro local_wall_clock(value) as try_strptime(trim(value), [{attempts}])"
    )
    offset = fixed_utc_offset(timezone)
    by_zone_rules = f"timezone('{timezone}', wall_clock)"
    if offset is None:
        to_utc = by_zone_rules
    else:
        # epoch_us reads the wall clock as if it were UTC; shifting by the fixed offset gives the instant.
        to_utc = (
            f"case when wall_clock >= timestamp '{_FIXED_OFFSET_SINCE:%Y-%m-%d}' "
            f"and wall_clock < timestamp '{_FIXED_OFFSET_UNTIL:%Y-%m-%d}' "
            f"then make_timestamptz(epoch_us(wall_clock) - {offset * 1_000_000}) else {by_zone_rules} end"
        )
    con.execute(f"create or replace temp macro wall_clock_to_utc(wall_clock) as {to_utc}")
    con.execute("create or replace temp macro local_ts(value) as wall_clock_to_utc(local_wall_clock(value))")
    con.execute("create or replace temp macro is_blank(value) as nullif(trim(value), '') is null")


def columns_of(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [row[0] for row in con.sql(f"describe {view}").fetchall()]


def file_size(path: Path) -> int:
    return os.path.getsize(path)
