{#- A text field of a JSON payload. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'gridline')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}
