{#- The events an incremental fold re-folds: on an incremental run, those of the entities listed in
    `entities` (column `key`), which the fold works out from its watermark; on a full build, all of
    `events`. `columns` (default all) are the columns kept: a fold that needs payloads of a few events
    only (the latest snapshot) keeps the narrow ones here and reads those payloads with `fold_fetch`.
    Renders the CTE `name` and its trailing comma. -#}
{% macro fold_scope(name, entities, key='entity_id', columns=none) -%}
    {{ return(adapter.dispatch('fold_scope', 'gridline')(name, entities, key, columns)) }}
{%- endmacro %}

{#- `events.` before each of `columns` (all columns when none), for the SELECT of a fold's CTE. -#}
{% macro fold_columns(columns) -%}
    {%- if columns is none -%}
        events.*
    {%- else -%}
        {%- for column in [fold_event_key()] + columns | reject('equalto', fold_event_key()) | list -%}
            events.{{ column }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro default__fold_scope(name, entities, key, columns) -%}
{{ name }} as (

{%- if is_incremental() %}
    select {{ fold_columns(columns) }}
    from events
    inner join {{ entities }} on events.entity_id = {{ entities }}.{{ key }}
{%- else %}
    select {{ fold_columns(columns) }} from events
{%- endif %}

),
{%- endmacro %}

{#- DuckDB: a join of the log with a night's entities reads every payload of the fold's type before it
    keeps the few that match (the years behind the night, 5 M events at city scale). So the matching
    events are found first by their narrow columns, as row ids (`fold_event_row`), and only their rows
    are read whole (or, with `columns`, only those columns: no payload at all). -#}
{% macro duckdb__fold_scope(name, entities, key, columns) -%}
{%- if not (is_incremental() and fold_reads_row_ids()) %}
{{ default__fold_scope(name, entities, key, columns) }}
{%- elif columns is not none %}
{{ name }} as materialized (

    select {{ fold_columns(columns) }}
    from events
    inner join {{ entities }} on events.entity_id = {{ entities }}.{{ key }}

),
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

{#- The CTE `name`: `columns` of the events of `chosen` (a CTE of some of a `fold_scope` CTE's rows),
    read from `events`, for the payloads of the few events a fold reads them of. On DuckDB they are found
    by row id: a night's choice is mostly of its own new batches, whose rows the scan alone reads (by the
    row ids' range), where a join on the event id reads every payload of the fold's type. Renders the CTE
    and its trailing comma. -#}
{% macro fold_fetch(name, chosen, columns) -%}
{{ name }} as (

    select {% for column in columns %}events.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from events
    where events.{{ fold_event_key() }} in (select {{ fold_event_key() }} from {{ chosen }})

),
{%- endmacro %}

{#- The column that identifies an event of a fold's `events` CTE: its row id where `fold_event_row`
    gives one, otherwise its event id. -#}
{% macro fold_event_key() -%}
    {{ return(adapter.dispatch('fold_event_key', 'gridline')()) }}
{%- endmacro %}

{% macro default__fold_event_key() -%}
    {{ return('event_id') }}
{%- endmacro %}

{% macro duckdb__fold_event_key() -%}
    {{ return('event_row' if fold_reads_row_ids() else 'event_id') }}
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
    where {{ fold_after_watermark('events.batch_id') }}

),
{%- endmacro %}
