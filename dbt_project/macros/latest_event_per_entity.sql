{#- Keeps each entity's latest event: by when it happened, then the later recording (a correction of the
    same moment wins over what it corrects), then the event id (a stable tie-break). A `qualify` clause. -#}
{% macro latest_event_per_entity(entity='entity_id') -%}
    {{ qualify_rows("row_number() over (
        partition by " ~ entity ~ " order by occurred_at desc, recorded_at desc, event_id desc
    ) = 1") }}
{%- endmacro %}
