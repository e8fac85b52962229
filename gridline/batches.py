"""Batches as operators see them: what the audit said about each, and the decisions that keep one out.

Two records, each where it belongs:

- The audit ledger, ``$GRIDLINE_HOME/audit/ledger.jsonl``: one line per batch the audit has judged
  (``passed`` or ``failed``, the run, the failed expectations and the Data Docs page). It is the audit's
  working memory: a run validates only the batches the ledger does not know yet, so audit cost follows
  what arrived, not the size of history.
- Decisions in the event log, as ``system``-stream events about a batch: ``batch.flagged`` (the audit
  stopped it), ``batch.accepted`` (an operator let a flagged batch in) and ``batch.retracted`` (an
  operator took a batch out for good, with a reason). They change what the marts contain, so they live
  in the log, where dbt's staging model and any replay ``as_of`` a past instant see them too. Nothing is
  ever deleted: a retracted batch's files stay in the log, its events are just no longer projected.

A batch is excluded from the build when it is retracted, or when its latest verdict is ``flagged``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gridline.config import Settings
from gridline.errors import GridlineError
from ingestion.log import SYSTEM_STREAM, EventLog, commit_system_events, excluded_batches_sql, is_system

FLAGGED, ACCEPTED, RETRACTED = "batch.flagged", "batch.accepted", "batch.retracted"


@dataclass
class BatchStatus:
    batch_id: str
    recorded_at: str
    streams: dict[str, int]
    status: str  # not audited | passed | flagged | accepted | retracted | system
    detail: str = ""


def ledger_path(settings: Settings) -> Path:
    return settings.home / "audit" / "ledger.jsonl"


def read_ledger(settings: Settings) -> dict[str, dict]:
    """The latest ledger entry per batch."""
    path = ledger_path(settings)
    if not path.exists():
        return {}
    entries: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            entries[entry["batch_id"]] = entry
    return entries


def record_outcomes(settings: Settings, entries: list[dict]) -> None:
    """Append audit outcomes to the ledger (written only by the run, which holds the run lock)."""
    if not entries:
        return
    path = ledger_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    at = datetime.now(UTC).isoformat()
    with open(path, "a", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps({"at": at, **entry}, ensure_ascii=False) + "\n")


def decisions(settings: Settings, log: EventLog | None = None) -> dict[str, dict]:
    """Per batch the operators' and the audit's decisions recorded in the log (or in a snapshot of it).

    ``{batch_id: {"retracted": bool, "verdict": "batch.flagged" | "batch.accepted" | None, "reason": ...}}``
    """
    log = log or EventLog(settings.log_dir)
    con = duckdb.connect()
    try:
        rows = con.sql(
            f"""
            with system_events as (
                select event_type, recorded_at, json_extract_string(payload, '$.batch_id') as batch_id,
                       json_extract_string(payload, '$.reason') as reason
                from ({log.system_events_sql()}) where stream = '{SYSTEM_STREAM}'
            )
            select batch_id,
                   bool_or(event_type = '{RETRACTED}') as retracted,
                   arg_max(event_type, recorded_at)
                       filter (where event_type in ('{FLAGGED}', '{ACCEPTED}')) as verdict,
                   arg_max(reason, recorded_at) filter (where event_type = '{RETRACTED}') as reason
            from system_events where batch_id is not null group by batch_id
            """
        ).fetchall()
    finally:
        con.close()
    return {b: {"retracted": r, "verdict": v, "reason": why} for b, r, v, why in rows}


def excluded_batches(settings: Settings, log: EventLog | None = None) -> set[str]:
    """Batches whose events the build leaves out (the rule is ``ingestion.log.excluded_batches_sql``)."""
    log = log or EventLog(settings.log_dir)
    con = duckdb.connect()
    try:
        rows = con.sql(excluded_batches_sql(f"({log.system_events_sql()})")).fetchall()
    finally:
        con.close()
    return {batch_id for (batch_id,) in rows}


def _manifests(settings: Settings) -> dict[str, dict]:
    return {m["batch_id"]: m for m in EventLog(settings.log_dir).manifests()}


def unaudited_batches(settings: Settings, log: EventLog | None = None) -> list[str]:
    """Data batches (of the log, or of a snapshot of it) the audit has not judged yet and no operator has
    retracted, oldest first."""
    log = log or EventLog(settings.log_dir)
    judged = read_ledger(settings)
    retracted = {b for b, d in decisions(settings, log).items() if d["retracted"]}
    return [
        batch_id
        for batch_id, manifest in sorted((m["batch_id"], m) for m in log.manifests())
        if not is_system(manifest) and batch_id not in judged and batch_id not in retracted
    ]


def list_batches(settings: Settings) -> list[BatchStatus]:
    ledger, decided = read_ledger(settings), decisions(settings)
    statuses = []
    for batch_id, manifest in sorted(_manifests(settings).items()):
        entry, decision = ledger.get(batch_id), decided.get(batch_id, {})
        detail = ""
        if is_system(manifest):
            status = "system"
        elif decision.get("retracted"):
            status, detail = "retracted", decision.get("reason") or ""
        elif decision.get("verdict") == ACCEPTED:
            status = "accepted"
        elif decision.get("verdict") == FLAGGED or (entry and entry["outcome"] == "failed"):
            status = "flagged"
            detail = "; ".join(entry.get("failures", [])[:3]) if entry else ""
        elif entry:
            status = entry["outcome"]
        else:
            status = "not audited"
        if entry and entry.get("data_docs") and status in ("flagged", "accepted"):
            detail = f"{detail} — {entry['data_docs']}".strip(" —")
        statuses.append(
            BatchStatus(
                batch_id, manifest.get("recorded_at", ""), manifest.get("streams") or {}, status, detail
            )
        )
    return statuses


def _data_batch(settings: Settings, batch_id: str) -> dict:
    manifest = _manifests(settings).get(batch_id)
    if manifest is None:
        raise GridlineError(
            f"no batch {batch_id} in the log at {settings.log_dir} (see `gridline batches list`)"
        )
    if is_system(manifest):
        raise GridlineError(
            f"batch {batch_id} holds gridline's own decisions, not data; it cannot be changed"
        )
    return manifest


def flag(settings: Settings, batch_ids: list[str], run_id: str) -> str | None:
    """Record in the log that the audit stopped these batches (they stay out until accepted)."""
    if not batch_ids:
        return None
    return commit_system_events(
        EventLog(settings.log_dir),
        [(FLAGGED, f"batch:{b}", {"batch_id": b, "run_id": run_id}) for b in batch_ids],
    )


def retract(settings: Settings, batch_id: str, reason: str) -> str:
    """Append a retraction: from the next run on, the batch's events are no longer projected."""
    _data_batch(settings, batch_id)
    if not reason.strip():
        raise GridlineError("a retraction needs a reason (--reason TEXT), for whoever reads the log later")
    if decisions(settings).get(batch_id, {}).get("retracted"):
        raise GridlineError(f"batch {batch_id} is already retracted")
    return commit_system_events(
        EventLog(settings.log_dir),
        [(RETRACTED, f"batch:{batch_id}", {"batch_id": batch_id, "reason": reason})],
    )


def accept(settings: Settings, batch_id: str, note: str = "") -> str:
    """Append an acceptance of a flagged batch: the next run builds with it despite its audit findings."""
    _data_batch(settings, batch_id)
    decision = decisions(settings).get(batch_id, {})
    if decision.get("retracted"):
        raise GridlineError(f"batch {batch_id} is retracted; a retraction is final (ingest the data again)")
    if decision.get("verdict") != FLAGGED:
        raise GridlineError(f"batch {batch_id} is not flagged by the audit; there is nothing to accept")
    return commit_system_events(
        EventLog(settings.log_dir), [(ACCEPTED, f"batch:{batch_id}", {"batch_id": batch_id, "note": note})]
    )


def decision_count(settings: Settings, log: EventLog | None = None) -> int:
    """How many accept/retract decisions the log holds: a change since the last publish forces a rebuild."""
    return sum(int(d["retracted"]) + int(d["verdict"] == ACCEPTED) for d in decisions(settings, log).values())
