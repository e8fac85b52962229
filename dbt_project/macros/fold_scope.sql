{#- The events an incremental fold re-folds: on an incremental run, those of the entities listed in
    `entities` (column `key`), which the fold works out from its watermark; on a full build, all of
    `events`. Renders the CTE `name` and its trailing comma. -#}
{% macro fold_scope(name, entities, key='entity_id') -%}
    {{ return(adapter.dispatch('fold_scope', 'gridline')(name, entities, key)) }}
{%- endmacro %}

{% macro default__fold_scope(name, entities, key) -%}
{{ name }} as (

{%- if is_incremental() %}
    select events.*
    from events
    inner join {{ entities }} on events.entity_id = {{ entities }}.{{ key }}
{%- else %}
    select * from events
{%- endif %}

),
{%- endmacro %}

{#- DuckDB: a join of the log with a night's entities reads every payload of the fold's type before it
    keeps the few that match (the years behind the night, 5 M events at city scale). So the matching
    events are found first by their narrow columns, as row ids (`fold_event_row`), and only their rows
    are read whole. -#}
{% macro duckdb__fold_scope(name, entities, key) -%}
{%- if not (is_incremental() and fold_reads_row_ids()) %}
{{ default__fold_scope(name, entities, key) }}
{%- else %}
{{ name }}_rows as materialized (

    select events.event_row
    from events
    inner join {{ entities }} on events.entity_id = {{ entities }}.{{ key }}

),

{{ name }} as (

    select events.*
    from events
    where events.event_row in (select event_row from {{ name }}_rows)

),
{%- endif %}
{%- endmacro %}

{#- The column an events CTE of a fold starts with, for `fold_scope` to find its rows by: DuckDB's row id
    as `event_row` (nothing on other engines). Renders the column and its comma. -#}
{% macro fold_event_row() -%}
    {{ return(adapter.dispatch('fold_event_row', 'gridline')()) }}
{%- endmacro %}

{% macro default__fold_event_row() -%}
{%- endmacro %}

{% macro duckdb__fold_event_row() -%}
    {%- if fold_reads_row_ids() %}rowid as event_row,{% endif -%}
{%- endmacro %}

{#- Whether the log the folds read is a table with row ids: not in a unit test, whose inputs are CTEs
    (dbt names them `__dbt__cte__<model>`); those take the plain join. -#}
{% macro fold_reads_row_ids() -%}
    {{ return(not (ref('stg_log__events') | string).startswith('__dbt__cte__')) }}
{%- endmacro %}

{#- The CTEs `watermark` and `touched` of an incremental fold whose entities are re-folded when any of
    their events came in a batch after the watermark: `touched` lists them (column `entity_id`). -#}
{% macro fold_touched_entities() -%}
watermark as (

    {{ fold_watermark() }}

),

touched as (

    select distinct events.entity_id
    from events
    cross join watermark
    where watermark.since is null or events.batch_id > watermark.since

),
{%- endmacro %}
