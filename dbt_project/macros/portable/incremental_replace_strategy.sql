{#- The incremental strategy of a model whose night replaces the rows of the keys it rebuilt. DuckDB
    deletes them and inserts the new ones. dbt-spark has no delete+insert: `merge` does the same on a
    table format that can update rows (Delta, Iceberg, Hudi: var `spark_table_format`). Plain Parquet
    tables cannot: there `insert_overwrite` stands in, which is right only for a full build, so a Spark
    build on Parquet is always a full refresh (`gridline run` on Spark passes --full-refresh). -#}
{% macro incremental_replace_strategy() -%}
    {{ return(adapter.dispatch('incremental_replace_strategy', 'gridline')()) }}
{%- endmacro %}

{% macro default__incremental_replace_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__incremental_replace_strategy() -%}
    {{ return('merge' if var('spark_table_format', 'parquet') in ('delta', 'iceberg', 'hudi') else 'insert_overwrite') }}
{%- endmacro %}

{#- Whether this engine's builds remember what they were built through (macros/incremental_builds.sql),
    so that a night can recompute only what changed. A Spark build is always whole (above): it has nothing
    to remember and nothing to ask. -#}
{% macro remembers_incremental_builds() -%}
    {{ return(adapter.dispatch('remembers_incremental_builds', 'gridline')()) }}
{%- endmacro %}

{% macro default__remembers_incremental_builds() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__remembers_incremental_builds() -%}
    {{ return(false) }}
{%- endmacro %}
