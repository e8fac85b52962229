"""The event log: gridline's append-only system of record, kept as Parquet files any engine can read.

Layout under ``$GRIDLINE_HOME/log``::

    batches/<batch_id>/events.parquet       the events of one committed batch
    batches/<batch_id>/quarantine.parquet   rows of that batch that could not be read, with reasons
    batches/<batch_id>/manifest.json        what was read, from where, and the counts
    _staging/                               batches being written; never read
    state.duckdb                            compact state a new batch is compared with (ingestion/state.py),
                                            a cache of the batches: rebuilt from them when lost

A batch is written whole into ``_staging`` and committed by one atomic directory rename, so a reader
globbing ``batches/*/events.parquet`` sees all of a batch or none of it, and a process killed mid-batch
leaves only staging debris that the next writer sweeps away. A writer holds an exclusive file lock from
the moment it opens a batch until it commits, so concurrent ingests of different streams take turns
instead of racing on the dedup check, and batch ids and ``recorded_at`` rise in commit order. Holding the
lock from the start is what lets a streaming adapter write its events in their committed form straight
into the staging folder: when none of them is a duplicate, that file is renamed into place instead of
copied. Nothing under ``batches/`` is ever rewritten; a correction or retraction is a new batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from gridline.errors import GridlineError
from ingestion.events import BATCH_FILE_OPTIONS, EVENT_COLUMNS
from ingestion.integrity import damage_message, describe_contents
from ingestion.state import LogState, rebuild_differences

SYSTEM_STREAM = "system"
# The system event that records, in every system batch, which batches the build leaves out from then on.
EXCLUSION_LIST = "log.excluded_batches"

EMPTY_EVENTS_SQL = """
    select * from (select
        null::varchar as event_id, null::varchar as stream, null::varchar as event_type,
        null::varchar as entity_id, null::timestamptz as occurred_at, null::timestamptz as recorded_at,
        null::varchar as source_system, null::varchar as batch_id, null::json as payload,
        null::varchar as state_hash, null::varchar as source_file, null::bigint as source_line
    ) where false
"""


# Rows the adapters put in ``candidate_events``, each with its own ``_part``: a candidate's identity in
# the commit is (_part, _row), its part and its row within a streamed part's file, two integers. Not the
# event id: two files read in one batch (a re-sent copy, the same file named twice, two exports of one
# period read in one scan, hence one part) repeat the same event ids at the same line numbers; and a
# month of a city's re-sent exports drops a million candidates, whose ids and paths would not fit the
# ingest's memory ceiling. The parts rise in reading order (the first sighting of a fact is the one kept)
# and stay below the streamed parts, numbered from 1.
ADAPTER_CANDIDATES_SQL = "select *, rowid - 1099511627776 as _part, 0::bigint as _row from candidate_events"


@dataclass(frozen=True)
class OpenBatch:
    """A batch being written: its id and ``recorded_at`` are fixed when the writer takes the log."""

    batch_id: str
    recorded_at: str  # ISO 8601, UTC
    stage: Path

    def committed_form_sql(self, candidates: str) -> str:
        """The rows of ``candidates`` (candidate columns and ``source_line``) as the batch file holds them."""
        return f"""select event_id, stream, event_type, entity_id, occurred_at,
                          '{self.recorded_at}'::timestamptz as recorded_at, source_system,
                          '{self.batch_id}' as batch_id, payload, state_hash, source_file, source_line
                   from ({candidates})"""


@dataclass
class BatchResult:
    """What one batch did. Rows add up: ``rows_read = rows_new + rows_known + quarantined``, where a row
    is new when at least one of its events is, and known when all of them are (already in the log, or
    earlier in the same batch: a re-sent copy read together with the original is known). ``appended``
    and ``already_known`` count events (a hotline row is several), so they add up to the candidates."""

    batch_id: str | None
    rows_read: int
    appended: int
    already_known: int
    quarantined: int
    streams: dict[str, int] = field(default_factory=dict)
    rows_new: int = 0
    rows_known: int = 0


def read_manifest(batch_dir: Path) -> dict:
    """A committed batch's manifest; a missing or unreadable one is damage, named in one line."""
    try:
        manifest = json.loads((batch_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GridlineError(damage_message(batch_dir.name, "manifest.json is missing")) from None
    except (ValueError, UnicodeDecodeError):
        raise GridlineError(damage_message(batch_dir.name, "manifest.json is not valid JSON")) from None
    if not isinstance(manifest, dict) or manifest.get("batch_id") != batch_dir.name:
        raise GridlineError(damage_message(batch_dir.name, "manifest.json names another batch"))
    return manifest


def new_batch_id(now: datetime) -> str:
    """Sortable by commit time, unique across processes."""
    return f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


EMPTY_QUARANTINE_SQL = (
    "select null::varchar as batch_id, null::varchar as source_file, null::bigint as source_line,"
    " null::varchar as reason, null::varchar as raw where false"
)


def sql_path_list(paths: list[Path]) -> str:
    quoted = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"[{quoted}]"


class EventLog:
    """The log under ``root``; with ``batch_ids``, a snapshot that reads only those committed batches.

    A snapshot is how a run builds exactly what it audited: a batch committed later is not in it.
    """

    def __init__(self, root: Path, batch_ids: list[str] | set[str] | None = None):
        self.root = root
        self.batches_dir = root / "batches"
        self.staging_dir = root / "_staging"
        self.only = None if batch_ids is None else set(batch_ids)

    def snapshot(self, batch_ids: list[str] | set[str] | None = None) -> EventLog:
        """The log restricted to ``batch_ids`` (default: the batches committed right now)."""
        return EventLog(self.root, [p.name for p in self.batch_dirs()] if batch_ids is None else batch_ids)

    # -- reading -------------------------------------------------------------------------------
    def batch_dirs(self) -> list[Path]:
        if not self.batches_dir.exists():
            return []
        # A committed folder always has its manifest; one whose events file went missing is still
        # listed, so the integrity checks name it instead of the log silently shrinking.
        return sorted(
            p
            for p in self.batches_dir.iterdir()
            if ((p / "manifest.json").exists() or (p / "events.parquet").exists())
            and (self.only is None or p.name in self.only)
        )

    def events_glob(self) -> str:
        return str(self.batches_dir / "*" / "events.parquet")

    def events_files(self) -> list[Path]:
        return [p / "events.parquet" for p in self.batch_dirs()]

    def quarantine_files(self) -> list[Path]:
        return [p / "quarantine.parquet" for p in self.batch_dirs() if (p / "quarantine.parquet").exists()]

    def events_sql(self) -> str:
        """A SELECT over every committed event (an empty, typed relation when the log is empty).

        The files are named one by one, so the relation is the batches committed when it was written."""
        files = self.events_files()
        if not files:
            return EMPTY_EVENTS_SQL
        return f"select {EVENT_COLUMNS} from read_parquet({sql_path_list(files)})"

    def system_events_sql(self) -> str:
        """The events of gridline's own decision batches only: what to exclude can be known without
        reading (possibly damaged) data batches."""
        files = [p / "events.parquet" for p in self.batch_dirs() if is_system(read_manifest(p))]
        if not files:
            return EMPTY_EVENTS_SQL
        return f"select {EVENT_COLUMNS} from read_parquet({sql_path_list(files)})"

    def quarantine_sql(self) -> str:
        files = self.quarantine_files()
        if not files:
            return EMPTY_QUARANTINE_SQL
        return f"select * from read_parquet({sql_path_list(files)})"

    def manifests(self) -> list[dict]:
        return [read_manifest(p) for p in self.batch_dirs()]

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".writer.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._sweep_staging()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def open_batch(self) -> Iterator[OpenBatch]:
        """Take the log for one batch; commit it with :meth:`commit` before leaving the block."""
        with self.writer_lock():
            now = datetime.now(UTC)
            batch_id = new_batch_id(now)
            batch = OpenBatch(batch_id, now.isoformat(), self.staging_dir / batch_id)
            batch.stage.mkdir(parents=True)
            try:
                yield batch
            finally:
                shutil.rmtree(batch.stage, ignore_errors=True)  # a committed batch has moved away

    def _sweep_staging(self) -> None:
        """Remove what a crashed writer left behind; only ever called under the writer lock."""
        if self.staging_dir.exists():
            shutil.rmtree(self.staging_dir)

    def commit(
        self,
        con: duckdb.DuckDBPyConnection,
        batch: OpenBatch,
        manifest: dict,
        rows_read: int,
        staged: list[Path] | tuple[Path, ...] = (),
    ) -> BatchResult:
        """Append the new events among the candidates (and all ``quarantine`` rows) as one batch.

        Must be called inside ``open_batch``. The candidates are the rows adapters put in
        ``candidate_events`` plus the ``staged`` event files (Parquet files an adapter streamed into the
        batch's staging folder, already in the committed form), in that reading order. A candidate is new
        unless its event id is already in the log or earlier in this batch, and a snapshot event (one
        with a ``state_hash``) is new only if its state differs from the entity's preceding known state,
        in ``occurred_at`` order: a late, older snapshot is compared with what preceded it then, not with
        the newest state, and is kept with its own ``occurred_at`` when it differs.
        """
        # What the log already holds comes from its compact state (ingestion/state.py), not its history.
        # Events of a retracted or flagged batch do not count as known, so re-ingesting corrected files
        # brings them back instead of skipping them as duplicates.
        del rows_read  # the outcome of every row read is counted instead (see _commit)
        state = self.state(con)
        try:
            return self._commit(con, batch, manifest, staged, state)
        finally:
            state.close()

    def _commit(
        self,
        con: duckdb.DuckDBPyConnection,
        batch: OpenBatch,
        manifest: dict,
        staged: list[Path] | tuple[Path, ...],
        state: LogState,
    ) -> BatchResult:
        con.execute(f"create or replace temp view batch_candidates as {_candidates_sql(staged)}")
        con.execute("create or replace temp table input_order (source_file varchar, ordinal integer)")
        inputs = [item["path"] for item in manifest.get("inputs") or []]
        if inputs:
            con.executemany("insert into input_order values (?, ?)", [(p, n) for n, p in enumerate(inputs)])
        events_file = batch.stage / "events.parquet"
        # Which candidates to leave out is decided on narrow columns only (ids, entity, time, state
        # digest); payloads are read at most once more, and only when something is left out.
        # Counting distinct id hashes is several times cheaper than grouping the ids to find the
        # repeats (0.2 against 0.5 CPU-s for 1.6 M events), and usually shows there are none.
        total, distinct_hashes = con.sql(
            "select count(*), count(distinct hash(event_id)) from batch_candidates"
        ).fetchall()[0]
        dropped_sql = _dropped_candidates_sql(may_repeat=distinct_hashes < total)
        con.execute(f"create or replace temp table dropped_candidates as {dropped_sql}")
        dropped = con.sql("select count(*) from dropped_candidates").fetchall()[0][0]
        con.execute(f"create or replace temp table row_outcomes as {_ROW_OUTCOMES_SQL}")
        rows_new, rows_known = con.sql(
            "select count(*) filter (where has_new), count(*) filter (where not has_new) from row_outcomes"
        ).fetchall()[0]
        adapter_rows = con.sql("select count(*) from candidate_events").fetchall()[0][0]
        appended = total - dropped
        # Before the staged files move: what each file gave, so a later delivery of the same file can be
        # counted without being read (ingestion/ingest.py skips it by digest).
        _record_file_counts(con, manifest.get("inputs") or [])
        if appended and not dropped and not adapter_rows and len(staged) == 1:
            # The one streamed file is the batch, exactly as written: no second pass over the payloads.
            os.rename(staged[0], events_file)
        elif appended:
            # Row order in a batch file carries no meaning, so DuckDB may write it in parallel.
            new_events = """
                select * exclude (_part, _row) from batch_candidates
                anti join (select _part, _row from dropped_candidates) using (_part, _row)"""
            con.execute("set preserve_insertion_order = false")
            con.execute(
                f"copy ({batch.committed_form_sql(new_events)}) to '{events_file}' ({BATCH_FILE_OPTIONS})"
            )
            con.execute("reset preserve_insertion_order")
        else:
            con.execute(f"copy ({EMPTY_EVENTS_SQL}) to '{events_file}' (format parquet)")
        for part in staged:
            part.unlink(missing_ok=True)
        quarantined_read = con.sql(_QUARANTINED_ROWS_SQL).fetchall()[0][0]
        self._drop_known_quarantine(con)
        quarantine_records = con.sql("select count(*) from quarantine").fetchall()[0][0]
        quarantined_new = con.sql(_QUARANTINED_ROWS_SQL).fetchall()[0][0]
        rows_known += quarantined_read - quarantined_new  # bad rows the log already reported
        # Files skipped unread, as the same bytes were committed before: all their rows are known.
        skipped = [item for item in manifest.get("inputs") or [] if item.get("same_as_batch")]
        rows_known += sum(item["rows"] for item in skipped)
        skipped_events = sum(item["events"] for item in skipped)
        streams = dict(
            con.sql(
                f"select stream, count(*) from read_parquet('{events_file}') group by 1 order by 1"
            ).fetchall()
        )
        # The outcome of every row read is counted (not the adapters' own tally of ``rows_read``), so
        # the figures add up whatever an adapter counts.
        result = BatchResult(
            batch_id=None,
            rows_read=rows_new + rows_known + quarantined_new,
            appended=appended,
            already_known=total - appended + skipped_events,  # a repeat within the batch is known too
            quarantined=quarantined_new,
            streams=streams,
            rows_new=rows_new,
            rows_known=rows_known,
        )
        if appended == 0 and quarantine_records == 0:
            return result  # nothing new: an empty batch would only add noise to the log
        stage, batch_id = batch.stage, batch.batch_id
        if quarantine_records:
            con.execute(
                f"""copy (select '{batch_id}' as batch_id, * from quarantine
                          order by source_file, source_line)
                    to '{stage / "quarantine.parquet"}' (format parquet, compression zstd)"""
            )
        result.batch_id = batch_id
        # Readers check the committed files against these digests and sizes (ingestion/integrity.py).
        rows = {"events.parquet": appended, "quarantine.parquet": quarantine_records}
        contents = describe_contents(stage, rows)
        full_manifest = {
            "batch_id": batch_id,
            "recorded_at": batch.recorded_at,
            **manifest,
            **asdict(result),
            "contents": contents,
        }
        (stage / "manifest.json").write_text(json.dumps(full_manifest, ensure_ascii=False, indent=2))
        for name in os.listdir(stage):
            with open(stage / name, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(stage)
        self.batches_dir.mkdir(parents=True, exist_ok=True)
        os.rename(stage, self.batches_dir / batch_id)  # the commit point
        _fsync_dir(self.batches_dir)
        # After the commit point: should this fail, the next writer takes the batch in (LogState.catch_up).
        with contextlib.suppress(duckdb.Error, OSError):
            state.apply(self.batches_dir / batch_id)
        return result

    def committed_files(self) -> list[dict]:
        """Each file a counted batch read: ``path``, ``sha256``, ``bytes``, the ``rows`` and ``events`` it
        gave, its ``batch_id`` and whether it gave quarantine records. Only under the writer lock."""
        con = duckdb.connect()
        try:
            state = self.state(con)
            relation = con.sql(
                """select f.*, exists (select 1 from known_quarantine q where q.source_file = f.path)
                       as had_quarantine
                   from known_files f"""
            )
            files = [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
            state.close()
            return files
        finally:
            con.close()

    def state_differences(self, workdir: Path) -> list[str]:
        """The state tables in which the maintained state differs from one rebuilt from the batches now,
        in ``workdir`` (empty when it is exact). Takes the writer lock."""
        with self.writer_lock():
            return rebuild_differences(self.root, self.batch_dirs(), workdir)

    def state(self, con: duckdb.DuckDBPyConnection) -> LogState:
        """The log's compact state attached to ``con``, caught up with every committed batch, with the
        relations the commit compares a batch with. Only under the writer lock."""
        state = LogState(con, self.root)
        # The state is the whole log's, whatever batches this view of the log is restricted to: caught
        # up with a snapshot's batches only, it would think the others gone and rebuild itself.
        state.catch_up(EventLog(self.root).batch_dirs())
        state.create_views(excluded_batches_sql(state.system_events_relation()))
        return state

    def _drop_known_quarantine(self, con: duckdb.DuckDBPyConnection) -> None:
        """Forget quarantine rows the log already holds (same file, record and reason), so that
        re-ingesting a file with bad rows adds nothing. A re-sent copy at another path is a new
        delivery and is quarantined again, as it should be reported again."""
        con.execute(
            """
            delete from quarantine where rowid in (
                select q.rowid from quarantine q
                join known_quarantine k
                     on q.source_file = k.source_file
                    and q.source_line is not distinct from k.source_line
                    and q.reason = k.reason
            )
            """
        )


def _record_file_counts(con: duckdb.DuckDBPyConnection, inputs: list[dict]) -> None:
    """Add to each input read in this batch the ``rows`` (records) and ``events`` (candidates) it gave,
    and the one ``stream`` of those events (null when they went to several).

    Counted by lineage (``source_file``); an input whose adapter names its lineage otherwise gets no
    counts, and is then never skipped unread."""
    events = {
        file: (count, stream)
        for file, count, stream in con.sql(
            """select source_file, count(*), if(count(distinct stream) = 1, any_value(stream), null)
               from batch_candidates group by 1"""
        ).fetchall()
    }
    rows = dict(
        con.sql(
            """select source_file, count(*) from (
                   select source_file, source_line from row_outcomes
                   union
                   select source_file, source_line from quarantine)
               group by 1"""
        ).fetchall()
    )
    for item in inputs:
        if item.get("same_as_batch") or item["path"] not in rows:
            continue
        item["rows"] = rows[item["path"]]
        item["events"], item["stream"] = events.get(item["path"], (0, None))


_CANDIDATE_COLUMNS = (
    "event_id, stream, event_type, entity_id, occurred_at, source_system, payload, state_hash, source_file, "
    "source_line"
)


def _candidates_sql(staged: list[Path] | tuple[Path, ...]) -> str:
    """Every candidate of a batch with its identity ``(_part, _row)``: the adapters' rows, then each
    staged file's (its rows numbered by their place in the file)."""
    selects = [f"select {_CANDIDATE_COLUMNS}, _part, _row from ({ADAPTER_CANDIDATES_SQL})"]
    for number, part in enumerate(staged, start=1):
        selects.append(
            f"select {_CANDIDATE_COLUMNS}, {number} as _part, file_row_number as _row "
            f"from read_parquet('{part}', file_row_number = true)"
        )
    return "\nunion all\n".join(selects)


# Each row read (a record of a file, or an event without a record number) and whether any of its
# events is new. Records are told apart by file and number; ingest reads each path once per batch. An
# event without a number is a row of its own, told apart by its id (grouped as such only when unnumbered:
# grouping millions of numbered events on a text form of their number costs a third of the query).
_ROW_OUTCOMES_SQL = """
    select c.source_file, c.source_line, if(c.source_line is null, c.event_id, null) as unnumbered_event,
           bool_or(d._part is null) as has_new
    from batch_candidates c
    left join dropped_candidates d on c._part = d._part and c._row = d._row
    group by all
"""

# Quarantined records whose row gave no event: the rows counted as quarantined (a row that gave events
# and also a quarantine record is counted once, by its events).
_QUARANTINED_ROWS_SQL = """
    select count(distinct coalesce(source_file || '#' || source_line, rowid::varchar)) from quarantine q
    where source_line is null or not exists (
        select 1 from row_outcomes r where r.source_file = q.source_file and r.source_line = q.source_line)
"""


def _dropped_candidates_sql(may_repeat: bool) -> str:
    """The candidates to leave out, ``(_part, _row, is_repeat)``. Without ``may_repeat`` (every event id
    hashes differently) no id can repeat within the batch, and the search for repeats is skipped."""
    repeated_hashes = (
        "select hash(event_id) as h from keys group by h having count(*) > 1"
        if may_repeat
        else "select null::ubigint as h where false"
    )
    return _DROPPED_CANDIDATES_SQL.replace("{repeated_hashes}", repeated_hashes)


# Not materialized: each part of the query reads only the columns it needs from the candidates' files,
# instead of all of them being copied once into memory.
_DROPPED_CANDIDATES_SQL = """
    with keys as not materialized (
        select event_id, entity_id, occurred_at, state_hash, _part, _row, source_line, source_file
        from batch_candidates
    ),
    -- ids seen more than once in the batch: narrowed on a fixed-size hash first (cheap to group
    -- millions of), then confirmed on the id itself
    repeated_hashes as ({repeated_hashes}),
    -- a repeat's place in reading order: its file's place among the batch's inputs, then its part (a
    -- part can hold several files read in one pass), then its record; the first sighting is kept
    repeats as (
        select k.*, (coalesce(o.ordinal, 0)::hugeint << 84) + ((_part + 1099511627776)::hugeint << 42)
                    + source_line as sighting
        from keys k left join input_order o using (source_file)
        where hash(event_id) in (select h from repeated_hashes)
    ),
    repeated as (
        select event_id, min(sighting) as first_sighting from repeats group by event_id having count(*) > 1
    ),
    later_sightings as (
        select k._part, k._row
        from repeats k join repeated r using (event_id)
        where k.sighting <> r.first_sighting
    ),
    known as (
        select k._part, k._row
        from keys k semi join known_event_ids e on event_key(k.event_id) = e.event_key
    ),
    unseen_snapshots as (
        select k.* from keys k
        anti join known using (_part, _row)
        anti join later_sightings using (_part, _row)
        where k.state_hash is not null
    ),
    -- ids and digests compared as the numbers the state keeps them as (the same order as their text)
    snapshot_history as (
        select entity_id, occurred_at, state_key, event_key,
               false as is_candidate, null::bigint as _part, null::bigint as _row
        from known_snapshots
        where entity_key in (select entity_key(entity_id) from unseen_snapshots)
        union all
        select entity_id, occurred_at, event_key(state_hash), event_key(event_id), true, _part, _row
        from unseen_snapshots
    ),
    -- only an entity with two or more snapshots can have one equal to its predecessor
    multiple_snapshots as (
        select entity_id from snapshot_history group by entity_id having count(*) > 1
    ),
    unchanged_snapshots as (
        select _part, _row from (
            select *, lag(state_key) over (
                partition by entity_id order by occurred_at, is_candidate, event_key
            ) as previous_state
            from snapshot_history
            where entity_id in (select entity_id from multiple_snapshots)
        ) where is_candidate and state_key = previous_state
    )
    select _part, _row, bool_or(is_repeat) as is_repeat
    from (
        select *, true as is_repeat from later_sightings
        union all select *, false from known
        union all select *, false from unchanged_snapshots
    )
    group by all
"""


def is_system(manifest: dict) -> bool:
    """A batch of gridline's own decisions rather than of data."""
    return manifest.get("stream") == SYSTEM_STREAM or set(manifest.get("streams") or {}) == {SYSTEM_STREAM}


def excluded_batches_sql(events: str) -> str:
    """SELECT of the batch ids whose events no projection uses: retracted ones, and those the audit
    flagged and no operator has accepted since. ``events`` is a relation of committed events. This is the
    rule's one home: every system batch records the list it gives (``EXCLUSION_LIST``), which is what the
    dbt staging model reads."""
    return f"""
        select batch_id from (
            select json_extract_string(payload, '$.batch_id') as batch_id,
                   bool_or(event_type = 'batch.retracted') as retracted,
                   arg_max(event_type, recorded_at)
                       filter (where event_type in ('batch.flagged', 'batch.accepted')) as verdict
            from {events} where stream = '{SYSTEM_STREAM}' group by 1
        ) where batch_id is not null and (retracted or verdict = 'batch.flagged')
    """


def commit_system_events(log: EventLog, events: list[tuple[str, str, dict]]) -> str:
    """Append gridline's own decisions (e.g. ``batch.retracted``) as one batch of ``system`` events.

    Each item is ``(event_type, entity_id, payload)``. The batch goes through the same atomic commit as
    an ingest, so the log stays append-only: a decision about an earlier batch is a new event, never an
    edit of that batch. The batch also records the exclusion list in force once it is committed (see
    :func:`_add_exclusion_list`). Returns the new batch's id.
    """
    from ingestion.events import create_staging_tables

    occurred_at = datetime.now(UTC).isoformat()
    con = duckdb.connect()
    try:
        create_staging_tables(con)
        for event_type, entity_id, payload in events:
            _add_system_event(con, event_type, entity_id, payload, occurred_at)
        with log.open_batch() as batch:
            _add_exclusion_list(con, log, batch, occurred_at)
            result = log.commit(con, batch, {"stream": SYSTEM_STREAM, "files": []}, rows_read=len(events))
    finally:
        con.close()
    if result.batch_id is None:
        raise RuntimeError("system events were not committed (already in the log)")
    return result.batch_id


def record_exclusion_list_if_missing(log: EventLog) -> str | None:
    """Record the exclusion list in force when the log's latest decision has none after it: a log
    written before system batches carried the list would otherwise have dbt exclude nothing. Returns
    the new batch's id, or None when the latest list is current (the usual case: one small read)."""
    con = duckdb.connect()
    try:
        latest = con.sql(
            f"""select max(recorded_at) filter (where event_type <> '{EXCLUSION_LIST}'),
                       max(recorded_at) filter (where event_type = '{EXCLUSION_LIST}')
                from ({log.system_events_sql()})"""
        ).fetchall()[0]
    finally:
        con.close()
    last_decision, last_list = latest
    if last_decision is None or (last_list is not None and last_list >= last_decision):
        return None
    return commit_system_events(log, [])


def _add_system_event(
    con: duckdb.DuckDBPyConnection, event_type: str, entity_id: str, payload: dict, occurred_at: str
) -> None:
    from ingestion.events import event_id_sql

    event_id = event_id_sql("'gridline'", "$entity_id", "$event_type", "$occurred_at::timestamptz")
    con.execute(
        f"""insert into candidate_events (event_id, stream, event_type, entity_id, occurred_at,
                                           source_system, payload)
            select {event_id},
                   '{SYSTEM_STREAM}', $event_type, $entity_id, $occurred_at::timestamptz,
                   'gridline', $payload::json""",
        {
            "event_type": event_type,
            "entity_id": entity_id,
            "occurred_at": occurred_at,
            "payload": json.dumps(payload, ensure_ascii=False),
        },
    )


def _add_exclusion_list(
    con: duckdb.DuckDBPyConnection, log: EventLog, batch: OpenBatch, occurred_at: str
) -> None:
    """Add to the system batch being committed the batches excluded once it is in, by the rule of
    :func:`excluded_batches_sql` over the log's decisions and the batch's own. The dbt staging model takes
    the latest list recorded by its ``as_of``, so it needs no copy of the rule and a replay excludes what
    was excluded then. Called under the writer lock: no other decision can land between list and batch."""
    decisions = f"""
        select stream, event_type, recorded_at, payload from ({log.system_events_sql()})
        union all
        select stream, event_type, '{batch.recorded_at}'::timestamptz, payload from candidate_events"""
    excluded = sorted(batch_id for (batch_id,) in con.sql(excluded_batches_sql(f"({decisions})")).fetchall())
    _add_system_event(
        con, EXCLUSION_LIST, "log:excluded_batches", {"excluded_batch_ids": excluded}, occurred_at
    )
