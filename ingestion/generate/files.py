"""Writing landing files the way field systems do, noise included, and remembering the noise planted.

Tabular exports (12345, volunteer) are CSV in UTF-8, UTF-8 with BOM or GB18030, or XLSX; timestamps in
``YYYY-MM-DD HH:MM:SS`` or ``YYYY/M/D H:MM``. :func:`corrupt` adds malformed records (copies of real rows
with a broken id or time, or a record cut short at the end of a file, as when an export is interrupted)
and returns where they are, so the truth can list them by file and record number (header = 1).
"""

from __future__ import annotations

import contextlib
import csv
import random
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

FORMATS = ("utf-8", "utf-8-sig", "gb18030", "xlsx")
FORMAT_WEIGHTS = (70, 10, 12, 8)
FIXED_CREATED = datetime(2025, 1, 1)


class FormatChooser:
    """Picks each file's format; the first four files of a stream cover all four formats."""

    def __init__(self, rng: random.Random, csv_only: bool = False) -> None:
        self.rng = rng
        self.csv_only = csv_only
        self.pending = list(FORMATS[:3] if csv_only else FORMATS)
        rng.shuffle(self.pending)

    def next(self) -> str:
        if self.pending:
            return self.pending.pop()
        choices, weights = (FORMATS[:3], FORMAT_WEIGHTS[:3]) if self.csv_only else (FORMATS, FORMAT_WEIGHTS)
        return self.rng.choices(choices, weights)[0]


def cell_text(value: object, style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if style == "dash":
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{value.year}/{value.month}/{value.day} {value.hour}:{value.minute:02d}"
    return str(value)


Record = dict[str, object] | list[str]


def corrupt(
    rng: random.Random,
    rows: list[dict[str, object]],
    count: int,
    breakers: dict[str, Callable[[random.Random, dict[str, object]], dict[str, object]]],
    header: list[str],
    truncate: bool,
) -> tuple[list[Record], list[tuple[int, str]]]:
    """``rows`` with ``count`` malformed records added; returns the records and (record number, reason)."""
    records: list[Record] = list(rows)
    if not rows or count <= 0:
        return records, []
    cut = truncate and rng.random() < 0.4
    for _ in range(count - (1 if cut else 0)):
        reason = rng.choice(sorted(breakers))
        broken = {**breakers[reason](rng, dict(rng.choice(rows))), "_reason": reason}
        records.insert(rng.randrange(len(records) + 1), broken)
    if cut:
        source = rng.choice(rows)
        records.append([cell_text(source.get(h), "dash") for h in header[: rng.randint(3, len(header) // 2)]])
    marked = []
    for index, record in enumerate(records):
        if isinstance(record, list):
            marked.append((index + 2, "truncated record"))
        elif record.get("_reason"):
            marked.append((index + 2, str(record["_reason"])))
    return records, marked


def write_csv(path: Path, header: list[str], records: list[Record], encoding: str, style: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for record in records:
            if isinstance(record, list):
                writer.writerow(record)
            else:
                writer.writerow([cell_text(record.get(h), style) for h in header])


@contextlib.contextmanager
def open_workbook(path: Path) -> Iterator[tuple[object, object]]:
    """A streaming XLSX workbook with fixed metadata, so the same content gives the same bytes."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    workbook.set_properties({"created": FIXED_CREATED, "author": "gridline generate"})
    sheet = workbook.add_worksheet("Sheet1")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    try:
        yield sheet, date_format
    finally:
        workbook.close()


def write_xlsx(path: Path, header: list[str], records: list[Record]) -> None:
    with open_workbook(path) as (sheet, date_format):
        sheet.write_row(0, 0, header)
        for r, record in enumerate(records, start=1):
            assert isinstance(record, dict), "an XLSX sheet has no truncated records"
            for c, column in enumerate(header):
                value = record.get(column)
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, date_format)
                elif value is not None and value != "":
                    sheet.write_string(r, c, str(value))


def write_table(path_stem: Path, header: list[str], records: list[Record], fmt: str, style: str) -> Path:
    """Write a tabular export in ``fmt``; returns the path (``.csv`` or ``.xlsx``)."""
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        path = path_stem.with_suffix(".xlsx")
        write_xlsx(path, header, records)
    else:
        path = path_stem.with_suffix(".csv")
        write_csv(path, header, records, fmt, style)
    return path


def resend(path: Path, folder: Path) -> Path:
    """Deliver the same file again (byte for byte) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}_resent{path.suffix}"
    shutil.copyfile(path, target)
    return target
