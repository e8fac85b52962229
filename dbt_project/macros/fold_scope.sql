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
