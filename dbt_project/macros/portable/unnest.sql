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

{#- A select of one row per match of `pattern` in `text` of `relation`, with `key_columns` carried and one
    column per capture group (`groups`: [[group number, column name], ...]) of the same match. DuckDB
    unnests one list per group side by side; Spark zips the lists and expands the zipped rows. -#}
{% macro regexp_match_rows(relation, key_columns, text, pattern, groups) -%}
    {{ return(adapter.dispatch('regexp_match_rows', 'gridline')(relation, key_columns, text, pattern, groups)) }}
{%- endmacro %}

{% macro default__regexp_match_rows(relation, key_columns, text, pattern, groups) -%}
    select
        {{ key_columns | join(',\n        ') }},
        {%- for number, name in groups %}
        unnest(regexp_extract_all({{ text }}, {{ regexp_pattern(pattern) }}, {{ number }})) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{% macro spark__regexp_match_rows(relation, key_columns, text, pattern, groups) -%}
    select
        {{ key_columns | join(',\n        ') }},
        {%- for number, name in groups %}
        matches.{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    lateral view inline(arrays_zip(
        {%- for number, name in groups %}
        regexp_extract_all({{ text }}, {{ regexp_pattern(pattern) }}, {{ number }}){{ ',' if not loop.last }}
        {%- endfor %}
    )) matches as {% for number, name in groups %}{{ name }}{{ ', ' if not loop.last }}{% endfor %}
{%- endmacro %}
