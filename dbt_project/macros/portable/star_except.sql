{#- All columns of `relation` but `columns`. -#}
{% macro star_except(relation, columns) -%}
    {{ return(adapter.dispatch('star_except', 'gridline')(relation, columns)) }}
{%- endmacro %}

{% macro default__star_except(relation, columns) -%}
    {{ relation }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation, columns) -%}
    {{ relation }}.* except ({{ columns | join(', ') }})
{%- endmacro %}
