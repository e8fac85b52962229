"""``build_report``: read the published marts, render the quarter's review, write it as one HTML file."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gridline.config import Settings
from gridline.errors import GridlineError
from gridline.publish import read_only_connection
from gridline.report.marts import load_review
from gridline.report.quarters import Quarter
from gridline.report.render import render


def default_out_dir(settings: Settings) -> Path:
    return settings.home / "reports"


def report_path(out_dir: Path, quarter: Quarter) -> Path:
    return out_dir / f"gridline-review-{quarter.label}.html"


def build_report(settings: Settings, quarter: str, out_dir: Path | None = None) -> Path:
    """Write the quarterly review for ``quarter`` (``2025Q3``) and return the HTML file's path.

    The file replaces an earlier one for the same quarter only once it is completely written.
    """
    parsed = Quarter.parse(quarter)
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir(settings)
    zone = ZoneInfo(settings.timezone)
    con = read_only_connection(settings)
    try:
        published_at = datetime.fromtimestamp(settings.published_db.stat().st_mtime, zone)
        review = load_review(con, parsed)
    finally:
        con.close()
    html = render(review, published_at=published_at, generated_at=datetime.now(zone))
    target = report_path(out_dir, parsed)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise GridlineError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    return target
