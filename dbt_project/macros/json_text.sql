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

{#- The text fields `keys` of a JSON payload, parsed once into a struct whose fields are read as
    `<alias>.<key>`: each as `json_text` gives it (a number as its digits, an object or a list as its
    JSON, null when absent). For a model that reads many fields of each payload: DuckDB parses the
    payload again for every `json_text`, which for a case's 28 fields took five times the time and
    memory of one parse. -#}
{% macro json_fields(column, keys) -%}
    {{ return(adapter.dispatch('json_fields', 'gridline')(column, keys)) }}
{%- endmacro %}

{% macro default__json_fields(column, keys) -%}
    from_json({{ column }}, '{% for key in keys %}`{{ key }}` string{{ ", " if not loop.last }}{% endfor %}')
{%- endmacro %}

{% macro duckdb__json_fields(column, keys) -%}
    {%- set structure = {} -%}
    {%- for key in keys -%}
        {%- do structure.update({key: 'VARCHAR'}) -%}
    {%- endfor -%}
    json_transform({{ column }}, '{{ tojson(structure) }}')
{%- endmacro %}
