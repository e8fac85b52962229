"""Pulling Open311 GeoReport v2 requests from an endpoint into the log, above ``ingest``.

:func:`pull` asks an endpoint for the requests updated in a window, page by page, retrying transient
failures with exponential backoff. Each page is spooled under ``$GRIDLINE_HOME`` and a cursor records the
window and the next page, so a pull that fails part-way resumes where it stopped; once every page is in,
they are ingested as one batch (``ingest``, whose Open311 adapter reads them) and the cursor moves to the
window's end.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import BatchResult
from ingestion.sources.open311 import check_source_name


@dataclass(frozen=True)
class PullOptions:
    """How to talk to an endpoint; the defaults suit Chicago's GeoReport v2 with its extensions."""

    page_size: int = 500
    attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 30.0
    since_param: str = "updated_after"
    until_param: str = "updated_before"
    max_pages: int = 10_000


class _Transient(Exception):
    """A failure worth retrying: the server was busy or the connection broke."""


def _fetch_page(client: httpx.Client, url: str, params: dict, options: PullOptions) -> list:
    def attempt() -> list:
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in (429, 500, 502, 503, 504):
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise GridlineError(f"{url}: HTTP {response.status_code} for page {params.get('page')}")
        try:
            body = response.json()
        except ValueError:
            raise GridlineError(f"{url}: page {params.get('page')} is not JSON") from None
        if not isinstance(body, list):
            raise GridlineError(f"{url}: page {params.get('page')} is not a JSON array of requests")
        return body

    retrying = Retrying(
        stop=stop_after_attempt(options.attempts),
        wait=wait_exponential(multiplier=options.backoff_seconds, max=options.max_backoff_seconds),
        retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Transient as exc:
        raise GridlineError(
            f"{url}: page {params.get('page')} failed {options.attempts} times ({exc}); "
            "the pages fetched so far are kept, and the next pull of this window resumes there"
        ) from None


def _iso(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise GridlineError(f"Open311 window bounds need a time zone: {instant.isoformat()}")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cursor:
    """Where a source's pulls stand, kept in ``$GRIDLINE_HOME/open311/<source>/cursor.json``."""

    def __init__(self, settings: Settings, source: str):
        self.root = settings.home / "open311" / check_source_name(source)
        self.path = self.root / "cursor.json"
        self.spool = self.root / "spool"

    def read(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def write(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=2))
        os.replace(partial, self.path)

    def last_until(self) -> datetime | None:
        value = self.read().get("last_until")
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _write_page(spool: Path, page: int, url: str, body: list) -> None:
    spool.mkdir(parents=True, exist_ok=True)
    target = spool / f"page-{page:05d}.json"
    partial = spool / f".page-{page:05d}.partial"
    # Pages hold clear text from the endpoint until they are ingested: owner-only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, ensure_ascii=False)
    target.with_suffix(".url").write_text(url, encoding="utf-8")
    os.replace(partial, target)


def pull(
    settings: Settings,
    endpoint_url: str,
    source_name: str,
    start: datetime | None,
    end: datetime | None = None,
    stream: str | None = None,
    options: PullOptions | None = None,
) -> BatchResult:
    """Pull the requests updated in [start, end) into the log as one batch.

    ``start`` defaults to where the previous pull of this source ended; ``end`` to now. A window whose
    pages were partly fetched by a failed pull resumes at the first missing page.
    """
    options = options or PullOptions()
    cursor = Cursor(settings, source_name)
    start = start or cursor.last_until()
    if start is None:
        raise GridlineError(f"no earlier pull of {source_name}: give the start of the window (--since)")
    end = end or datetime.now(UTC)
    window = [_iso(start), _iso(end)]
    if window[0] >= window[1]:
        raise GridlineError(f"empty Open311 window: {window[0]} is not before {window[1]}")
    state = cursor.read()
    pending = state.get("pending") or {}
    if pending.get("window") == window and pending.get("endpoint") == endpoint_url:
        page = pending["next_page"]
    else:
        shutil.rmtree(cursor.spool, ignore_errors=True)
        page = 1
        pending = {"endpoint": endpoint_url, "window": window, "next_page": 1, "complete": False}
    with httpx.Client(timeout=options.timeout_seconds, follow_redirects=True) as client:
        while not pending["complete"]:
            if page > options.max_pages:
                raise GridlineError(f"{endpoint_url}: more than {options.max_pages} pages; narrow the window")
            params = {
                options.since_param: window[0],
                options.until_param: window[1],
                "page": page,
                "page_size": options.page_size,
                "extensions": "true",
            }
            body = _fetch_page(client, endpoint_url, params, options)
            _write_page(cursor.spool, page, str(httpx.URL(endpoint_url, params=params)), body)
            page += 1
            pending.update(next_page=page, complete=len(body) < options.page_size)
            cursor.write({**state, "pending": pending})
    pages = sorted(cursor.spool.glob("page-*.json"))
    nonempty = [p for p in pages if p.stat().st_size > 2]
    if nonempty:
        result = ingest(
            IngestRequest(paths=nonempty, stream=stream, format="open311", source=source_name), settings
        )
    else:
        result = BatchResult(batch_id=None, rows_read=0, appended=0, already_known=0, quarantined=0)
    # Committed (or nothing to commit): the window is done. A crash before this line re-ingests the
    # spooled pages on the next pull, which adds nothing new.
    cursor.write({"last_until": window[1], "endpoint": endpoint_url, "pending": None})
    shutil.rmtree(cursor.spool, ignore_errors=True)
    return result
