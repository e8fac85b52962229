{#- An aggregate: the group's values joined in a stated order. dbt's own `listagg` keeps the order on
    DuckDB but drops it on Spark with only a warning, and what reads these strings (digests, ticket
    lists) needs the order. -#}
{% macro ordered_listagg(measure, delimiter_text, order_by_clause) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'gridline')(measure, delimiter_text, order_by_clause)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by_clause) -%}
    {{ dbt.listagg(measure, delimiter_text, order_by_clause) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter_text, order_by_clause) -%}
    listagg({{ measure }}, {{ delimiter_text }}) within group ({{ order_by_clause }})
{%- endmacro %}
