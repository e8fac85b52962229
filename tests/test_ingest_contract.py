"""The event contract does not move when ingestion gets faster: the tiny city's log, event for event.

``tests/truth/tiny_city_log.json`` holds, per stream, the number of events and a digest over every
event's id, type, entity, instant, payload bytes, state digest and record number, as the ingestion of
commit 63dcef8 wrote them (the tiny city, seed 11, the tests' key). A change to how events are computed
(hashing, JSON payloads, redaction, the scan) must leave these equal; a change meant to alter the
contract updates the file on purpose, by running this module:

    .venv/bin/python -m tests.test_ingest_contract > tests/truth/tiny_city_log.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import duckdb

from ingestion.ingest import IngestRequest, ingest
from ingestion.log import EventLog

TRUTH = Path(__file__).parent / "truth" / "tiny_city_log.json"
STREAMS = ("hotline", "grid", "volunteer")


def ingest_tiny_city(landing: Path) -> EventLog:
    """Every stream of the landing, one batch per stream, into the home the environment names."""
    from gridline.config import load_settings

    settings = load_settings()
    for stream in STREAMS:
        files = sorted(p for p in (landing / stream).glob("*/*") if p.is_file())
        ingest(IngestRequest(paths=files, stream=stream), settings)
    return EventLog(settings.log_dir)


def log_fingerprint(log: EventLog) -> dict[str, dict[str, object]]:
    """Per stream: its events and one digest of them in id order (payloads as their exact text)."""
    rows = duckdb.sql(
        f"""select stream, count(*) as events,
                   md5(string_agg(concat_ws('|', event_id, event_type, entity_id, epoch_us(occurred_at),
                                            md5(payload::varchar), state_hash, source_line),
                                  chr(10) order by event_id, source_line)) as digest
            from ({log.events_sql()}) group by stream order by stream"""
    ).fetchall()
    return {stream: {"events": events, "digest": digest} for stream, events, digest in rows}


def test_the_tiny_city_log_is_event_for_event_the_contracts(home, tiny_landing):
    log = ingest_tiny_city(tiny_landing)
    expected = json.loads(TRUTH.read_text(encoding="utf-8"))
    assert log_fingerprint(log) == expected


def _write_truth() -> None:
    from ingestion.generate.scenario import generate
    from tests.conftest import TEST_KEY

    with tempfile.TemporaryDirectory() as folder:
        landing, home = Path(folder) / "landing", Path(folder) / "home"
        generate(landing, "tiny", seed=11)
        os.environ.update({"GRIDLINE_HOME": str(home), "GRIDLINE_PII_KEY": TEST_KEY})
        json.dump(log_fingerprint(ingest_tiny_city(landing)), sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    _write_truth()
