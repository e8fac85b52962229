"""Open311 GeoReport v2: the real Chicago response from a file, and pulled from a real HTTP server.

The server runs on 127.0.0.1 in a thread and serves ``data/real/chicago_open311/requests.json``
(michaelkunc/broken_windows_chicago @ 4d2f4d7, Chicago 311 2014) filtered by ``updated_after`` /
``updated_before`` and cut into pages, with failures injected on request.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest

from gridline.errors import GridlineError
from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog
from ingestion.open311_pull import Cursor, PullOptions, pull
from tests.conftest import REAL_DATA, gridline_cli

CHICAGO = REAL_DATA / "chicago_open311" / "requests.json"
FAST = PullOptions(page_size=20, attempts=4, backoff_seconds=0.01, max_backoff_seconds=0.05)
WINDOW = (datetime(2015, 9, 1, tzinfo=UTC), datetime(2015, 11, 1, tzinfo=UTC))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Open311Server:
    """A GeoReport endpoint over a list of requests; ``failures[page]`` 503s to give before serving it;
    a page in ``hung_pages`` is never answered (its request waits until ``release`` is set)."""

    def __init__(self, requests: list[dict]):
        self.requests = sorted(
            requests, key=lambda r: (_instant(r["updated_datetime"]), r["service_request_id"])
        )
        self.failures: dict[int, int] = {}
        self.failure_status = 503
        self.log: list[tuple[int, int]] = []  # (page, HTTP status) of every request served
        self.hung_pages: set[int] = set()
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                page, size = int(query.get("page", 1)), int(query.get("page_size", 50))
                if page in server.hung_pages:
                    server.release.wait(60)
                    return  # its client has gone: nothing to answer
                if server.failures.get(page, 0) > 0:
                    server.failures[page] -= 1
                    server.log.append((page, server.failure_status))
                    self.send_response(server.failure_status)
                    self.end_headers()
                    return
                after, before = _instant(query["updated_after"]), _instant(query["updated_before"])
                chosen = [r for r in server.requests if after <= _instant(r["updated_datetime"]) < before]
                body = json.dumps(chosen[(page - 1) * size : page * size]).encode()
                server.log.append((page, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/open311/v2/requests.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Open311Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chicago_requests() -> list[dict]:
    return json.loads(CHICAGO.read_text())


def _events(settings):
    return duckdb.sql(EventLog(settings.log_dir).events_sql())


def _count(relation, where: str = "true") -> int:
    return relation.filter(where).count("*").fetchall()[0][0]


def test_the_chicago_file_becomes_cases_with_their_notes(settings):
    result = ingest(IngestRequest(paths=[CHICAGO], source="chicago311"), settings)  # format detected
    events = _events(settings)
    assert (
        result.rows_read == 50 and result.quarantined == 0 and result.streams == {"hotline": result.appended}
    )
    assert _count(events, "event_type = 'case.received'") == 50
    assert _count(events, "event_type = 'case.noted'") == 276  # every note of every request
    assert _count(events, "event_type = 'case.resolved'") == 49  # 49 closed, 1 open
    assert _count(events, "event_type = 'case.dispatched'") == 48  # requests with a follow-on work order
    assert _count(events, "not starts_with(entity_id, 'chicago311:')") == 0
    state = json.loads(
        events.filter("entity_id = 'chicago311:14-00684314' and event_type = 'case.updated'")
        .select("payload")
        .fetchall()[0][0]
    )
    assert state["status"] == "已办结" and state["status_raw"] == "closed"
    assert state["channel"] == "phone" and state["extra"]["extended_attributes"]["ward"] == "21"
    assert state["resolved_at"] == "2015-10-10T15:15:40Z"  # the closed note, -05:00 to UTC
    assert state["dispatched_at"] == "2014-07-29T19:11:58Z"  # the first follow-on work order
    again = ingest(IngestRequest(paths=[CHICAGO], format="open311", source="chicago311"), settings)
    assert again.appended == 0 and again.already_known == result.appended


def test_unreadable_requests_are_quarantined_with_their_position(settings, tmp_path, chicago_requests):
    broken = [dict(r) for r in chicago_requests[:3]]
    broken[0].pop("service_request_id")
    broken[2]["requested_datetime"] = "yesterday"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = ingest(IngestRequest(paths=[path], source="chicago311"), settings)
    quarantine = duckdb.sql(EventLog(settings.log_dir).quarantine_sql())
    rows = sorted(quarantine.select("source_line, reason").fetchall())
    assert rows == [(1, "missing service_request_id"), (3, "unreadable requested_datetime: yesterday")]
    assert result.quarantined == 2 and _count(_events(settings), "event_type = 'case.received'") == 1


def test_a_pull_pages_through_the_window_and_retries_a_transient_503(settings, chicago_requests):
    with Open311Server(chicago_requests) as server:
        server.failures = {2: 1}
        result = pull(settings, server.url, "chicago311", *WINDOW, options=FAST)
    assert server.log == [(1, 200), (2, 503), (2, 200), (3, 200)]  # 20 + 20 + 10 requests
    assert result.rows_read == 50 and result.quarantined == 0
    assert _count(_events(settings), "event_type = 'case.received'") == 50
    source_files = {r[0] for r in _events(settings).select("source_file").distinct().fetchall()}
    assert all(f.startswith(server.url + "?") and "page=" in f for f in source_files)  # lineage: the URL
    assert Cursor(settings, "chicago311").last_until() == WINDOW[1]


def test_a_broken_pull_resumes_at_the_first_missing_page(settings, chicago_requests):
    clean_home_events = None
    with Open311Server(chicago_requests) as server:
        server.failures = {2: FAST.attempts}  # page 2 fails on every attempt
        with pytest.raises(GridlineError, match="page 2 failed 4 times"):
            pull(settings, server.url, "chicago311", *WINDOW, options=FAST)
        assert _count(_events(settings)) == 0  # nothing half-committed
        pending = Cursor(settings, "chicago311").read()["pending"]
        assert pending["next_page"] == 2 and not pending["complete"]
        server.log.clear()
        result = pull(settings, server.url, "chicago311", *WINDOW, options=FAST)
        assert server.log == [(2, 200), (3, 200)]  # page 1 was not asked for again
        clean_home_events = _count(_events(settings))
    assert result.rows_read == 50 and clean_home_events == result.appended
    assert _count(_events(settings), "event_type = 'case.received'") == 50


def test_a_client_error_is_not_retried_and_says_so_in_one_line(settings, chicago_requests):
    with Open311Server(chicago_requests) as server:
        server.failures, server.failure_status = {1: 1}, 400
        with pytest.raises(GridlineError, match=r"HTTP 400 for page 1$"):
            pull(settings, server.url, "chicago311", *WINDOW, options=FAST)
    assert server.log == [(1, 400)]


def test_the_next_pull_starts_where_the_last_ended(settings, chicago_requests):
    with Open311Server(chicago_requests) as server:
        first = pull(
            settings, server.url, "chicago311", WINDOW[0], datetime(2015, 10, 5, tzinfo=UTC), options=FAST
        )
        second = pull(settings, server.url, "chicago311", None, WINDOW[1], options=FAST)
        with pytest.raises(GridlineError, match="no earlier pull"):
            pull(settings, server.url, "other311", None, WINDOW[1], options=FAST)
    assert first.rows_read + second.rows_read == 50 and first.rows_read > 0 and second.rows_read > 0
    assert _count(_events(settings), "event_type = 'case.received'") == 50


def test_the_cli_ingests_a_file_and_pulls_an_endpoint(home, chicago_requests):
    proc = gridline_cli(
        "ingest", "--format", "open311", "--source", "chicago311", str(CHICAGO), env_home=home
    )
    assert "read 50 rows" in proc.stderr and "0 quarantined" in proc.stderr
    with Open311Server(chicago_requests) as server:
        proc = gridline_cli(
            "pull-open311", "--url", server.url, "--source", "chicago311",
            "--since", "2015-09-01T00:00:00Z", "--until", "2015-11-01", "--page-size", "100", env_home=home,
        )  # fmt: skip
    assert "pulled 50 requests: appended 0 events" in proc.stderr
    bad = gridline_cli(
        "pull-open311", "--url", "http://127.0.0.1:9/x", "--source", "Bad Name", env_home=home, check=False
    )
    assert bad.returncode == 1 and "bad Open311 source name" in bad.stderr


def test_a_pull_still_running_after_its_time_ends_in_one_line_and_the_next_one_resumes(
    home, chicago_requests
):
    """An endpoint that stops answering mid-window: `gridline pull-open311` ends itself after
    GRIDLINE_INGEST_TIMEOUT with one line and no batch, keeping the pages it fetched; the next pull asks
    only for the pages missing and commits the window."""
    window = ["--since", "2015-09-01T00:00:00Z", "--until", "2015-11-01", "--page-size", "20"]
    with Open311Server(chicago_requests) as server:
        server.hung_pages.add(2)
        ended = gridline_cli(
            "pull-open311", "--url", server.url, "--source", "chicago311", *window,
            env_home=home, check=False, GRIDLINE_INGEST_TIMEOUT="3",
        )  # fmt: skip
        server.hung_pages.clear()
        server.release.set()
        assert ended.returncode == 1, ended.stderr
        assert ended.stderr.count("gridline: error:") == 1 and "pull still running" in ended.stderr
        assert "Traceback" not in ended.stderr and "pulled" not in ended.stderr
        assert EventLog(home / "log").manifests() == []
        done = gridline_cli(
            "pull-open311", "--url", server.url, "--source", "chicago311", *window, env_home=home
        )
    assert "pulled 50 requests: appended" in done.stderr
    assert len(EventLog(home / "log").manifests()) == 1
    assert [page for page, status in server.log if status == 200] == [1, 2, 3]
