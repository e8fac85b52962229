{#- An aggregate: `value` of the row with the greatest `order` (one expression, or a list compared left
    to right, ties going to the next), over the rows where `filter` holds when given. -#}
{% macro arg_max_by(value, order, filter=none) -%}
    {{ return(adapter.dispatch('arg_max_by', 'gridline')(value, order, filter)) }}
{%- endmacro %}

{% macro default__arg_max_by(value, order, filter) -%}
    arg_max({{ value }}, {{ '(' ~ order | join(', ') ~ ')' if order is not string else order }})
    {%- if filter %} filter (where {{ filter }}){% endif %}
{%- endmacro %}

{% macro spark__arg_max_by(value, order, filter) -%}
    max_by({{ value }}, {{ 'struct(' ~ order | join(', ') ~ ')' if order is not string else order }})
    {%- if filter %} filter (where {{ filter }}){% endif %}
{%- endmacro %}
