"""Every portable macro (dbt_project/macros/portable/) gives the same answer on Spark as on DuckDB.

Each case is a query written with the project's macros over one small table, ``input``. dbt renders the
cases twice from the project's own macros, once per engine (its ``adapter.dispatch`` picks ``duckdb__`` or
``spark__``); the DuckDB rendering runs in DuckDB, the Spark one in a real local Spark session (one for the
whole module: it takes 10-60 s to start), and the rows must be equal. A case also checks that the two
renderings differ where the engines' SQL does, so a Spark version that silently fell back to DuckDB's SQL
would be seen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import BIN, REPO

PROJECT = REPO / "dbt_project"
# The project's macros the cases and BUILD_MODELS call beside the portable ones (the others are the
# models' business).
USED_MACROS = [
    "json_text.sql",
    "most_typed.sql",
    "normalise_place.sql",
    "category_path_key.sql",
    "incremental_builds.sql",
]

INPUT_COLUMNS = ["k", "v", "s", "payload", "n"]
INPUT_ROWS = [
    (1, "b", " a | |b|a", json.dumps({"ids": ["x", "y"]}), 3),
    (1, "a", "A / B/ /C", json.dumps({"ids": [], "lat": 31.25}), 3),
    (1, "cc", "桃源 社区居委会", json.dumps({"ids": ["z"]}), 1),
    (2, "dd", "x|y", json.dumps({}), 2),
    (2, "e", "", json.dumps({"ids": ["q", "q"]}), 5),
    (3, "ff", "a\t b\u3000c", json.dumps({"ids": ["w"]}), 5),
]

# name -> (query over `input`, whether DuckDB's and Spark's SQL must differ)
CASES: dict[str, tuple[str, bool]] = {
    "qualify_first_per_key": (
        """select k, v from input
        {{ qualify_rows("row_number() over (partition by k order by n desc, v) = 1") }}""",
        False,
    ),
    "qualify_unique_per_key": (
        """select k, n from input {{ qualify_rows("count(*) over (partition by k, n) = 1") }}""",
        False,
    ),
    "split_list": ("""select k, v, {{ split_list('s', '|') }} as items from input""", True),
    "split_list_slash": ("""select k, v, {{ split_list('s', '/') }} as items from input""", True),
    "split_trimmed_list": (
        """select k, v, {{ split_trimmed_list('s', '|', 'alias') }} as items from input""",
        True,
    ),
    "join_list": (
        """select k, v, {{ join_list(split_trimmed_list('s', '/'), '/') }} as joined from input""",
        True,
    ),
    "list_item_and_length": (
        """select k, v,
            {{ list_item(split_list('s', '|'), 1) }} as first,
            {%- set items = split_list('s', '|') %}
            {{ list_item(items, 'greatest(' ~ list_length(items) ~ ' - 1, 1)') }} as second_last,
            {{ list_item(split_list('s', '|'), list_length(split_list('s', '|'))) }} as last,
            {{ list_item(split_list('s', '|'), 9) }} as past_the_end,
            {{ list_length(split_list('s', '|')) }} as length
        from input""",
        True,
    ),
    "empty_string_list": (
        """select k, v, {{ list_length(empty_string_list()) }} as length,
            {{ list_concat(empty_string_list(), split_list('s', '|')) }} as items
        from input""",
        True,
    ),
    "list_distinct": (
        """select k, v, {{ list_distinct(list_concat(split_trimmed_list('s', '|'), split_list('v', '|'))) }}
            as items from input""",
        True,
    ),
    "sorted_list_agg": ("""select k, {{ sorted_list_agg('v') }} as items from input group by k""", True),
    "replace_each": (
        """select k, v, {{ replace_each('s', split_trimmed_list('s', '|'), "'#'") }} as replaced
        from input""",
        True,
    ),
    "unnest_join": (
        """select input.k, input.v, item.name
        from input {{ unnest_join(split_trimmed_list('s', '|'), 'item', 'name') }}""",
        True,
    ),
    "unnest_json_strings": (
        """select k, v, {{ unnest_json_strings('payload', 'ids') }} as id from input""",
        True,
    ),
    "json_text": ("""select k, v, {{ json_text('payload', 'ids') }} as ids from input""", True),
    "json_fields": (
        """with parsed as (select k, v, {{ json_fields('payload', ['ids', 'lat', 'absent']) }} as fields
                        from input)
        select k, v, fields.ids as ids, fields.lat as lat, fields.absent as absent from parsed""",
        True,
    ),
    "regexp_replace_all": (
        """select k, v, {{ regexp_replace_all('s', "'[ \\\\t　]+'", "''") }} as squeezed,
            {{ regexp_replace_all('s', "'[ab]'", "'_'") }} as replaced
        from input""",
        True,
    ),
    "regexp_contains": (
        """select k, v, {{ regexp_contains('s', "'[|/]'") }} as has_separator,
            {{ regexp_contains('s', "'^x'") }} as starts_with_x
        from input""",
        True,
    ),
    "arg_max_by_one_key": ("""select k, {{ arg_max_by('n', 'v') }} as top from input group by k""", True),
    "arg_max_by_ties": (
        """select k, {{ arg_max_by('v', ['n', 'length(v)', 'v']) }} as top from input group by k""",
        True,
    ),
    "arg_max_by_filter": (
        """select k, {{ arg_max_by('v', ['n', 'v'], filter='length(v) = 1') }} as top
        from input group by k""",
        True,
    ),
    "most_typed": ("""select k, {{ most_typed('v', 'n') }} as name from input group by k""", True),
    "star_except": ("""select {{ star_except('input', ['payload', 's']) }} from input""", True),
    "ordered_listagg": (
        """select k, {{ ordered_listagg('v', "'|'", 'order by n desc, v') }} as joined
        from input group by k""",
        True,
    ),
    "ordered_listagg_limited": (
        """select k, {{ ordered_listagg('v', "'|'", 'order by n desc, length(v) desc, v', 2) }} as top_two,
            {{ ordered_listagg("v || ' ' || cast(n as " ~ dbt.type_string() ~ ")", "', '",
                               'order by round(n / 2, 0), v desc', 9) }} as all_of_them
        from input group by k""",
        True,
    ),
    "materialized": (
        """with picked as {{ materialized() }} (select k, v from input where n > 1)
        select a.k, a.v, b.v as other from picked as a inner join picked as b on a.k = b.k""",
        True,
    ),
    "integer_range": (
        """select input.k, input.v, heads.position
        from input {{ unnest_join(integer_range('2', 'length(input.v) + 1'), 'heads', 'position') }}""",
        True,
    ),
    "starts_with": (
        """select k, v, {{ starts_with('s', 'v') }} as starts, {{ starts_with('s', "'a'") }} as starts_a
        from input""",
        True,
    ),
    "type_wide_integer": (
        """select k,
            cast(sum(cast(n as {{ type_wide_integer() }}) * 9223372036854775807)
                as {{ dbt.type_string() }}) as total
        from input group by k""",
        True,
    ),
    "star_replace": (
        """select k, s, v, n from (
            select {{ star_replace('input', {'v': 'v', 'n': 'n * 2'}) }} from input
            union all
            select {{ star_replace('input', {'v': "v || '!'", 'n': 'n'}) }} from input
        ) as replaced""",
        True,
    ),
    "star_rename": (
        """select k, value, n
        from (select {{ star_rename('input', {'v': 'value'}) }} from input) as renamed""",
        True,
    ),
    "regexp_pattern": (
        """select k, v, {{ regexp_replace_all('s', regexp_pattern('\\\\s+'), "'_'") }} as squeezed,
            {{ regexp_contains('s', regexp_pattern('[\\\\x{4e00}-\\\\x{9fff}]')) }} as is_chinese
        from input""",
        True,
    ),
    "regexp_match_rows": (
        """{{ regexp_match_rows('input', ['k', 'v'], 's', '([a-z])([^a-z]?)',
                               [[1, 'letter'], [2, 'following']]) }}""",
        True,
    ),
    "recursive_ctes": (
        """with {{ recursive_ctes() }} picked as (select k, v from input where n > 1)
        select k, v from picked""",
        True,
    ),
    "minutes_between": (
        """select k, v, {{ minutes_between('started', 'ended') }} as minutes
        from (
            select k, v,
                case k when 1 then cast('2025-07-01 10:00:50' as timestamp)
                    when 2 then cast('2025-07-01 10:00:10' as timestamp)
                    else cast('2025-07-01 23:59:59' as timestamp) end as started,
                case when n = 1 then null
                    when k = 3 then cast('2025-07-01 10:00:01' as timestamp)
                    else cast('2025-07-01 10:01:' || cast(10 * n as {{ dbt.type_string() }}) as timestamp)
                end as ended
            from input
        ) as instants""",
        True,
    ),
    "round_places": (
        """select k, v,
            {{ round_places('0.5 * cast(113.3 as double) + 0.5 * cast(123.6 as double)', 1) }} as half,
            {{ round_places('cast(n as double) / 3', 3) }} as third,
            {{ round_places('cast(n as double) * -2.5', 0) }} as negative
        from input""",
        True,
    ),
    "not_materialized": (
        """with picked as {{ not_materialized() }} (select k, v from input where n > 1)
        select a.k, a.v, b.v as other from picked as a inner join picked as b on a.k = b.k""",
        True,
    ),
    "type_instant": (
        """select k, v, cast('2025-07-01 12:00:00' as {{ type_instant() }}) as at from input""",
        True,
    ),
    "normalise_place": (
        """select k, v, {{ normalise_place('s', 'community') }} as community_key from input""",
        True,
    ),
    "category_path_key": (
        """select k, v, {{ category_path_key('s') }} as path_key, {{ category_path_leaf('s') }} as leaf
        from input""",
        True,
    ),
}


def _copy_macros(project: Path) -> None:
    shutil.copytree(PROJECT / "macros" / "portable", project / "macros" / "portable")
    for name in USED_MACROS:
        shutil.copyfile(PROJECT / "macros" / name, project / "macros" / name)


def _macro_project(folder: Path, models: dict[str, str]) -> Path:
    """A dbt project named like ours (dispatch looks in the `gridline` namespace) holding our macros and
    the given models (name to SQL)."""
    folder.mkdir(parents=True)
    _copy_macros(folder)
    (folder / "dbt_project.yml").write_text(
        'name: gridline\nversion: "0.1.0"\nconfig-version: 2\nprofile: gridline\n'
        'model-paths: ["models"]\nmacro-paths: ["macros"]\n'
        "models:\n  gridline:\n    +materialized: view\n"
    )
    (folder / "models").mkdir()
    for name, sql in models.items():
        (folder / "models" / f"{name}.sql").write_text(sql + "\n")
    return folder


# Models that render what a build does around its SQL (strategy, memory of earlier builds, post-hook),
# compiled in the cases' project: each dbt compile is a parse of all our macros.
BUILD_MODELS = {
    "strategy": "select '{{ incremental_replace_strategy() }}' as s",
    "memory": "select '[{{ create_incremental_builds() }}]' as s",
    "hook": 'select \'[{{ delete_stale_rows("local_day is null") | replace("\'", "") }}]\' as s',
}


def _write_project(folder: Path) -> None:
    """Our macros, one model per case and the build models."""
    _macro_project(folder, {**{name: sql for name, (sql, _) in CASES.items()}, **BUILD_MODELS})


def _compile(project: Path, engine: str, work: Path, models: list[str]) -> dict[str, str]:
    """The models as dbt renders them for `engine`, without running them (no connection is opened)."""
    target = work / f"target-{engine}"
    env = {
        **os.environ,
        "GRIDLINE_ENGINE": engine,
        "GRIDLINE_BUILD_DB": str(work / "unused.duckdb"),
        "GRIDLINE_SPARK_DIR": str(work / "spark-unused"),
        "GRIDLINE_TIMEZONE": "UTC",
        "DBT_PROFILES_DIR": str(PROJECT),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    proc = subprocess.run(
        [str(BIN / "dbt"), "compile", "--no-populate-cache", "--no-partial-parse"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    compiled = target / "compiled" / "gridline" / "models"
    return {name: (compiled / f"{name}.sql").read_text() for name in models}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, str]]:
    work = tmp_path_factory.mktemp("portable")
    _write_project(work / "project")
    models = [*CASES, *BUILD_MODELS]
    return {engine: _compile(work / "project", engine, work, models) for engine in ("duckdb", "spark")}


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    folder = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("gridline-portable-sql")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(folder / "tables"))
        # dbt-spark turns ANSI mode off on its sessions: the same here, so the SQL runs as it would there
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={folder}")
        .getOrCreate()
    )
    schema = StructType(
        [
            StructField("k", IntegerType()),
            StructField("v", StringType()),
            StructField("s", StringType()),
            StructField("payload", StringType()),
            StructField("n", IntegerType()),
        ]
    )
    session.createDataFrame(INPUT_ROWS, schema).createOrReplaceTempView("input")
    yield session
    session.stop()
    # py4j says at interpreter exit that it closes its connection, after pytest has closed the streams
    # it would write to ("--- Logging error ---"): nothing worth saying
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as the dbt profile sets it
    con.execute("create table input (k integer, v varchar, s varchar, payload varchar, n integer)")
    con.executemany("insert into input values (?, ?, ?, ?, ?)", INPUT_ROWS)
    yield con
    con.close()


def _plain(value):
    """Spark's rows and DuckDB's tuples as comparable Python values (lists for arrays)."""
    if hasattr(value, "asDict"):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime) and value.tzinfo is not None:  # DuckDB's instants, as Spark's: UTC
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _unordered_lists(rows: list[tuple]) -> list[tuple]:
    """Rows with their list values sorted: for results whose lists promise no order."""
    return [tuple(sorted(value) if isinstance(value, list) else value for value in row) for row in rows]


def _rows(rows, columns_promise_order: bool) -> list[tuple]:
    plain = [tuple(_plain(value) for value in row) for row in rows]
    if not columns_promise_order:
        plain = _unordered_lists(plain)
    return sorted(plain, key=repr)


@pytest.mark.parametrize("case", sorted(CASES))
def test_spark_answers_as_duckdb(case, rendered, spark, duck):
    duckdb_sql, spark_sql = rendered["duckdb"][case], rendered["spark"][case]
    must_differ = CASES[case][1]
    assert (duckdb_sql != spark_sql) == must_differ, f"{case}:\n{duckdb_sql}\n--- spark ---\n{spark_sql}"
    ordered = case != "list_distinct"
    expected = _rows(duck.execute(duckdb_sql).fetchall(), ordered)
    actual = _rows(spark.sql(spark_sql).collect(), ordered)
    assert expected, f"{case} returned no rows on DuckDB: the case tests nothing"
    assert actual == expected, f"{case}\nDuckDB: {duckdb_sql}\nSpark: {spark_sql}"


def test_every_portable_macro_has_a_case():
    """A new portable macro comes with its case here."""
    macros = set()
    for path in (PROJECT / "macros" / "portable").glob("*.sql"):
        for line in path.read_text().splitlines():
            if line.startswith("{% macro spark__"):
                macros.add(line.removeprefix("{% macro spark__").split("(")[0])
    written = " ".join(sql for sql, _ in CASES.values())
    # tested elsewhere: the strategy, the build memory and the stale rows delete below, the sources by
    # test_spark_parity.py, component_labels runs its rounds when the model runs (test_spark_parity.py,
    # the ticket clusters)
    elsewhere = {
        "incremental_replace_strategy",
        "remembers_incremental_builds",
        "create_engine_sources",
        "delete_stale_rows",
        "component_labels",
    }
    untested = {m for m in macros if f"{m}(" not in written and m not in elsewhere}
    assert not untested, f"portable macros with no case in this file: {sorted(untested)}"


def test_incremental_strategy_is_one_dbt_spark_accepts(rendered):
    """DuckDB keeps delete+insert; on Spark the strategy is one dbt-spark accepts for Parquet tables."""
    assert "'delete+insert'" in rendered["duckdb"]["strategy"]
    assert "'insert_overwrite'" in rendered["spark"]["strategy"]
    from dbt.include.spark import PACKAGE_PATH

    validation = Path(PACKAGE_PATH, "macros", "materializations", "incremental", "validate.sql").read_text()
    assert "'insert_overwrite'" in validation


def test_only_a_duckdb_build_keeps_the_memory_of_its_incremental_builds(rendered):
    """DuckDB creates the table a night reads its last build from; a Spark build, always whole, creates
    nothing there and remembers nothing."""
    assert re.search(r"create table if not exists \S*incremental_builds", rendered["duckdb"]["memory"])
    assert "'[]'" in rendered["spark"]["memory"]


def test_a_stale_rows_delete_is_kept_on_duckdb_and_left_out_of_a_whole_spark_build(rendered):
    """The post-hook that drops rows a night left behind: on DuckDB the delete as written; on a whole Spark
    build (every build on Parquet tables, which cannot delete) nothing. The compiled model is whole."""
    assert re.search(r"'\[delete from \S*hook\S* where local_day is null\]'", rendered["duckdb"]["hook"])
    assert "'[]'" in rendered["spark"]["hook"]
