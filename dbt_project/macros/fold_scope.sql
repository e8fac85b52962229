{#- The events an incremental fold re-folds: on an incremental run, those of the entities listed in
    `entities` (column `key`), which the fold works out from its watermark; on a full build, all of
    `events`. Renders the CTE `name` and its trailing comma. -#}
{% macro fold_scope(name, entities, key='entity_id') -%}
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
