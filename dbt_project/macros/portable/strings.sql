{#- Whether `text` begins with `prefix`. -#}
{% macro starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('starts_with', 'gridline')(text, prefix)) }}
{%- endmacro %}

{% macro default__starts_with(text, prefix) -%}
    starts_with({{ text }}, {{ prefix }})
{%- endmacro %}

{% macro spark__starts_with(text, prefix) -%}
    startswith({{ text }}, {{ prefix }})
{%- endmacro %}

{#- An integer type wide enough to sum 64-bit hashes without overflow: DuckDB's 128-bit `hugeint`, Spark's
    38-digit decimal. -#}
{% macro type_wide_integer() -%}
    {{ return(adapter.dispatch('type_wide_integer', 'gridline')()) }}
{%- endmacro %}

{% macro default__type_wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro spark__type_wide_integer() -%}
    decimal(38, 0)
{%- endmacro %}
