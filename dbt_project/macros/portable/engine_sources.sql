{#- The sources where the engine cannot read files by name in a query. DuckDB reads the event log and the
    reference through each source's `external_location` (read_parquet of the files); Spark reads a table,
    so the on-run-start hook makes each source a view over its Parquet files (a glob: the log's committed
    batches, `log/batches/*/events.parquet`, as docs/decisions/0001 lays them out). -#}
{% macro create_engine_sources() -%}
    {{ return(adapter.dispatch('create_engine_sources', 'gridline')()) }}
{%- endmacro %}

{% macro default__create_engine_sources() -%}
{%- endmacro %}

{% macro spark__create_engine_sources() -%}
    {%- set files = {
        ('gridline_log', 'events'): env_var('GRIDLINE_LOG_FILES'),
        ('gridline_reference', 'areas'): env_var('GRIDLINE_REFERENCE_AREAS'),
        ('gridline_reference', 'categories'): env_var('GRIDLINE_REFERENCE_CATEGORIES'),
        ('gridline_reference', 'activities'): env_var('GRIDLINE_REFERENCE_ACTIVITIES'),
    } -%}
    {#- one statement per call: Spark runs one at a time -#}
    {%- for (schema, table), path in files.items() if execute -%}
        {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- do run_query('create or replace view ' ~ schema ~ '.' ~ table ~ ' as select * from parquet.`' ~ path ~ '`') -%}
    {%- endfor -%}
{%- endmacro %}
