{#- A `qualify` clause: keeps the rows of a select whose window condition holds (the first row per key,
    the rows unique per key, the top n). Spark has the clause from 4.2; an older Spark would need the
    select wrapped instead, which this is the one place to do. -#}
{% macro qualify_rows(condition) -%}
    {{ return(adapter.dispatch('qualify_rows', 'gridline')(condition)) }}
{%- endmacro %}

{% macro default__qualify_rows(condition) -%}
    qualify {{ condition }}
{%- endmacro %}

{% macro spark__qualify_rows(condition) -%}
    qualify {{ condition }}
{%- endmacro %}
