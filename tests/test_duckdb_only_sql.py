"""No model writes SQL only DuckDB runs outside the dispatch macros (issue 18: the same project on Spark).

The constructs DuckDB and Spark write differently live in `dbt_project/macros/portable/`, one macro each,
with a DuckDB and a Spark version. This test reads every SQL file of the dbt project (comments left out)
and fails on a DuckDB-only construct anywhere but in a `duckdb__`/`default__` version of a dispatched macro,
(the Spark version of one is Spark SQL), or in a file listed below with the reason it may still hold one.
The same goes for SQL both engines run but count or round apart (`dbt.datediff` in minutes, `round`):
only the DuckDB versions of `minutes_between` and `round_places` may write it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

PROJECT = REPO / "dbt_project"

# The constructs Spark does not run as DuckDB does (or, for qualify, runs only from Spark 4.2).
DUCKDB_ONLY = {
    "qualify": r"\bqualify\b",
    "list functions": r"\blist_[a-z_]+\s*\(",
    "list aggregate": r"(?<![\w.])list\s*\(",
    "lambda": r"\blambda\b",
    "* exclude": r"\*\s*exclude\b",
    "regexp with the 'g' flag": r"regexp_\w+\s*\([^;]*?,\s*'g'\s*\)",
    "regexp_matches": r"\bregexp_matches\s*\(",
    "arg_max / arg_min": r"\barg_(max|min)\s*\(",
    "string_split": r"\bstring_split\s*\(",
    "unnest": r"\bunnest\s*\(",
    "array_to_string": r"\barray_to_string\s*\(",
    "string_agg / listagg": r"(?<![\w.])(string_agg|listagg)\s*\(",
    "not materialized": r"\bnot\s+materialized\b",
    "timestamp with time zone": r"\btimestamp\s+with\s+time\s+zone\b",
}
# Constructs written through Jinja: looked for with the model's macro calls kept.
ORDERED_DBT_LISTAGG = "dbt.listagg with an order (Spark drops the order)"
MINUTES_BY_DBT_DATEDIFF = "dbt.datediff in minutes (Spark divides the seconds; use minutes_between)"
BARE_ROUND = "round (Spark rounds the binary value; use round_places)"
DUCKDB_ONLY_IN_JINJA = {
    "delete+insert": r"delete\+insert",
    ORDERED_DBT_LISTAGG: r"\bdbt\.listagg\s*\([^)]*order by",
    # Both engines run these but count or round apart, so a mart would differ; each has a portable macro
    # (macros/portable/intervals.sql, rounding.sql) whose DuckDB version is the only place they may be.
    MINUTES_BY_DBT_DATEDIFF: r"\bdbt\.datediff\s*\((?:[^()]|\([^()]*\))*?['\"]minute['\"]",
    BARE_ROUND: r"(?<![\w.])round\s*\(",
}

# Files that may still hold DuckDB-only SQL, each with why: none since the ticket models were ported
# (issue 18). A file listed here is left out of the scan, so an entry needs its reason.
NOT_YET_PORTED: dict[str, str] = {}

ENGINE_VERSION = re.compile(r"(duckdb|default|spark)__")
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\((.*?){%-?\s*endmacro\s*-?%}", re.S)


def _without_comments(text: str) -> str:
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def _engine_versions_removed(text: str) -> str:
    """The file without the bodies of macros that are one engine's version of a dispatched macro, and
    without macro calls, and without macro definitions (`{{ list_item(...) }}` is
    the portable macro, not DuckDB's)."""
    text = MACRO.sub(lambda m: "" if ENGINE_VERSION.match(m.group(1)) else m.group(0), text)
    text = re.sub(r"{{.*?}}", "", text, flags=re.S)
    return re.sub(r"{%-?\s*(end)?macro\b.*?%}", "", text, flags=re.S)


def duckdb_only_uses(root: Path) -> list[str]:
    """`path: construct` for every DuckDB-only construct outside the allowed places under `root`."""
    found = []
    for path in sorted(root.rglob("*.sql")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("target/", "dbt_packages/")):
            continue
        if any(relative.startswith(allowed) for allowed in NOT_YET_PORTED):
            continue
        text = _without_comments(path.read_text())
        outside_versions = MACRO.sub(lambda m: "" if ENGINE_VERSION.match(m.group(1)) else m.group(0), text)
        for construct, pattern in DUCKDB_ONLY_IN_JINJA.items():
            if re.search(pattern, outside_versions, flags=re.I | re.S):
                found.append(f"{relative}: {construct}")
        text = _engine_versions_removed(text)
        for construct, pattern in DUCKDB_ONLY.items():
            if re.search(pattern, text, flags=re.I):
                found.append(f"{relative}: {construct}")
    return found


def test_no_duckdb_only_sql_outside_the_dispatch_macros():
    found = duckdb_only_uses(PROJECT)
    assert not found, (
        "DuckDB-only SQL outside dbt_project/macros/portable/ (write it with a portable macro, or add one "
        "with a spark__ version and a case in tests/test_portable_sql.py):\n" + "\n".join(found)
    )


def test_the_allowed_files_exist():
    """An allowance for a file that is gone (renamed, split) would hide nothing but stay forever."""
    missing = [path for path in NOT_YET_PORTED if not (PROJECT / path).exists()]
    assert not missing, f"allowed but not in the project: {missing}"


def test_a_new_model_using_a_duckdb_only_function_is_found(tmp_path):
    """The scan itself: each construct in a model is found; in a DuckDB version of a macro it is not."""
    models = tmp_path / "models" / "marts"
    models.mkdir(parents=True)
    samples = {
        "qualify": "select * from t qualify row_number() over (partition by a order by b) = 1",
        "list functions": "select list_distinct(xs) from t",
        "list aggregate": "select list(x) from t group by y",
        "lambda": "select list_transform(xs, lambda x: x + 1) from t",
        "* exclude": "select * exclude (a) from t",
        "regexp with the 'g' flag": "select regexp_replace(a, '[0-9]+', '', 'g') from t",
        "regexp_matches": "select * from t where regexp_matches(a, 'x')",
        "arg_max / arg_min": "select arg_max(a, b) from t",
        "string_split": "select string_split(a, '|') from t",
        "unnest": "select unnest(xs) from t",
        "array_to_string": "select array_to_string(xs, ',') from t",
        "string_agg / listagg": "select string_agg(a, ',' order by a) from t",
        "not materialized": "with a as not materialized (select 1) select * from a",
        "timestamp with time zone": "select cast(a as timestamp with time zone) from t",
        "delete+insert": "{{ config(incremental_strategy='delete+insert') }} select 1",
        ORDERED_DBT_LISTAGG: "select {{ dbt.listagg('a', \"','\", 'order by a') }}",
        MINUTES_BY_DBT_DATEDIFF: "select {{ dbt.datediff('cast(a as timestamp)', 'b', \"minute\") }} from t",
        BARE_ROUND: "select {{ ordered_listagg('a', \"','\", 'order by round(w, 9) desc') }} from t",
    }
    assert set(samples) == set(DUCKDB_ONLY) | set(DUCKDB_ONLY_IN_JINJA)
    for construct, sql in samples.items():
        (models / f"{re.sub(r'[^a-z]+', '_', construct)}.sql").write_text(sql)
    found = duckdb_only_uses(tmp_path)
    assert {line.split(": ", 1)[1] for line in found} == set(samples)
    macros = tmp_path / "macros"
    macros.mkdir()
    (macros / "ok.sql").write_text(
        "{% macro duckdb__first(a) -%} qualify row_number() over (order by {{ a }}) = 1 {%- endmacro %}\n"
        "{% macro spark__first(a) -%} qualify row_number() over (order by {{ a }}) = 1 {%- endmacro %}\n"
        "{% macro default__share(a, b) -%} round({{ a }} / {{ b }}, 2) {%- endmacro %}\n"
        "{% macro default__hours(a, b) -%} {{ dbt.datediff(a, b, 'minute') }} / 60 {%- endmacro %}\n"
        "{#- a comment may say unnest( or qualify -#}\nselect 1 -- or string_split(\n"
        "select {{ round_places('a', 2) }}, {{ dbt.datediff('a', 'b', 'day') }}, x.round(1)\n"
    )
    assert not [line for line in duckdb_only_uses(tmp_path) if line.startswith("macros/")]
