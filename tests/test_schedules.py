"""Schedules in the deployment's local time: when each DAG runs and which data interval it covers.

The timetables go through the same serialisation round trip the scheduler uses, so these are the
next runs the scheduler itself would compute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from gridline.errors import GridlineError
from gridline.tasks import closed_quarter, days_in_interval
from tests.conftest import REPO

SHANGHAI = "Asia/Shanghai"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def scheduler_timetable(dag):
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable

    return decode_timetable(encode_timetable(dag.timetable))


def next_runs(dag, earliest: datetime, count: int) -> list:
    """The first ``count`` scheduled runs at or after ``earliest``, as the scheduler would plan them."""
    from airflow.timetables.base import TimeRestriction

    timetable = scheduler_timetable(dag)
    restriction = TimeRestriction(earliest=pendulum.instance(earliest), latest=None, catchup=True)
    runs, last = [], None
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        runs.append(info)
        last = info.data_interval
    return runs


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    "dag_id", ["gridline_ingest_hotline", "gridline_ingest_grid", "gridline_pull_open311"]
)
def test_nightly_runs_at_local_midnight_for_the_local_day_before(dagbag, dag_id):
    runs = next_runs(dagbag.dags[dag_id], utc("2025-09-30T00:00:00+08:00"), 3)
    # 00:00 in Shanghai is 16:00 UTC the day before; each run covers the local day that just ended.
    assert [r.run_after.astimezone(UTC) for r in runs] == [
        utc("2025-09-30T16:00:00+00:00"),
        utc("2025-10-01T16:00:00+00:00"),
        utc("2025-10-02T16:00:00+00:00"),
    ]
    first = runs[0].data_interval
    assert (first.start, first.end) == (utc("2025-09-30T00:00:00+08:00"), utc("2025-10-01T00:00:00+08:00"))
    assert [d.isoformat() for d in days_in_interval(first.start, first.end, SHANGHAI)] == ["2025-09-30"]


def test_a_manual_nightly_run_covers_the_last_closed_local_day(dagbag):
    timetable = scheduler_timetable(dagbag.dags["gridline_ingest_hotline"])
    interval = timetable.infer_manual_data_interval(run_after=pendulum.parse("2025-10-01T09:30:00+08:00"))
    assert (interval.start, interval.end) == (
        utc("2025-09-30T00:00:00+08:00"),
        utc("2025-10-01T00:00:00+08:00"),
    )


def test_quarterly_review_runs_at_each_local_quarter_end(dagbag):
    runs = next_runs(dagbag.dags["gridline_quarterly_review"], utc("2025-05-15T12:00:00+08:00"), 4)
    assert [r.run_after.astimezone(UTC) for r in runs] == [
        utc("2025-09-30T16:00:00+00:00"),
        utc("2025-12-31T16:00:00+00:00"),
        utc("2026-03-31T16:00:00+00:00"),
        utc("2026-06-30T16:00:00+00:00"),
    ]
    quarters = [closed_quarter(r.data_interval.start, r.data_interval.end, SHANGHAI) for r in runs]
    assert quarters == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_transform_is_scheduled_by_the_stream_assets_not_the_clock(dagbag):
    dag = dagbag.dags["gridline_transform"]
    timetable = scheduler_timetable(dag)
    assert not hasattr(timetable, "expression")
    uris = {a.uri for a in dag.timetable.asset_condition.objects}
    assert uris == {"gridline://log/hotline", "gridline://log/grid", "gridline://log/volunteer"}


@pytest.mark.parametrize(
    ("start", "end", "quarter"),
    [
        ("2025-01-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00", "2025Q1"),
        ("2025-04-01T00:00:00+08:00", "2025-07-01T00:00:00+08:00", "2025Q2"),
        ("2025-10-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00", "2025Q4"),
    ],
)
def test_closed_quarter_is_read_in_local_time(start, end, quarter):
    # Given in UTC, the start of Q1 is still 2024-12-31: the label must come from local time.
    assert closed_quarter(utc(start), utc(end), SHANGHAI) == quarter


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-07-01T00:00:00+00:00", "2025-10-01T00:00:00+00:00"),  # a UTC quarter, not a local one
        ("2025-07-01T00:00:00+08:00", "2025-07-02T00:00:00+08:00"),  # a day
        ("2025-07-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00"),  # two quarters
    ],
)
def test_an_interval_that_is_not_one_local_quarter_is_refused(start, end):
    with pytest.raises(GridlineError, match="not one local quarter"):
        closed_quarter(utc(start), utc(end), SHANGHAI)


def test_days_in_a_three_day_interval():
    start = utc("2025-09-30T00:00:00+08:00")
    days = days_in_interval(start, start + timedelta(days=3), SHANGHAI)
    assert [d.isoformat() for d in days] == ["2025-09-30", "2025-10-01", "2025-10-02"]
