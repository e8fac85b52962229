{#- The distinct matches of `pattern` in a text, as a list: the spots (buildings, gates, bus routes) an
    appeal names. -#}
{% macro address_tokens(text, pattern) -%}
    {{ return(adapter.dispatch('address_tokens', 'gridline')(text, pattern)) }}
{%- endmacro %}

{% macro default__address_tokens(text, pattern) -%}
    array_distinct(regexp_extract_all({{ text }}, '{{ pattern }}', 0))
{%- endmacro %}

{% macro duckdb__address_tokens(text, pattern) -%}
    list_distinct(regexp_extract_all({{ text }}, '{{ pattern }}'))
{%- endmacro %}

{#- True when two lists share an element. -#}
{% macro lists_overlap(left, right) -%}
    {{ return(adapter.dispatch('lists_overlap', 'gridline')(left, right)) }}
{%- endmacro %}

{% macro default__lists_overlap(left, right) -%}
    arrays_overlap({{ left }}, {{ right }})
{%- endmacro %}

{% macro duckdb__lists_overlap(left, right) -%}
    list_has_any({{ left }}, {{ right }})
{%- endmacro %}

{% macro list_is_empty(list) -%}
    {{ return(adapter.dispatch('list_is_empty', 'gridline')(list)) }}
{%- endmacro %}

{% macro default__list_is_empty(list) -%}
    size({{ list }}) = 0
{%- endmacro %}

{% macro duckdb__list_is_empty(list) -%}
    len({{ list }}) = 0
{%- endmacro %}
