{#- One row per item of a list, joined to the row it came from: written after the relation of the `from`
    clause (`from areas {{ unnest_join('areas.aliases', 'alias', 'name') }}`), the item is `alias.name`. -#}
{% macro unnest_join(list, relation, column) -%}
    {{ return(adapter.dispatch('unnest_join', 'gridline')(list, relation, column)) }}
{%- endmacro %}

{% macro default__unnest_join(list, relation, column) -%}
    , unnest({{ list }}) as {{ relation }}({{ column }})
{%- endmacro %}

{% macro spark__unnest_join(list, relation, column) -%}
    lateral view explode({{ list }}) {{ relation }} as {{ column }}
{%- endmacro %}

{#- A select expression: one row per string of the JSON array at `key` of a JSON payload. -#}
{% macro unnest_json_strings(column, key) -%}
    {{ return(adapter.dispatch('unnest_json_strings', 'gridline')(column, key)) }}
{%- endmacro %}

{% macro default__unnest_json_strings(column, key) -%}
    unnest(json_extract_string({{ column }}, '$.{{ key }}[*]'))
{%- endmacro %}

{% macro spark__unnest_json_strings(column, key) -%}
    explode(from_json(get_json_object({{ column }}, '$.{{ key }}'), 'array<string>'))
{%- endmacro %}
