{#- `as not materialized`: a CTE read more than once is inlined, not copied (DuckDB would otherwise
    materialize it). Spark inlines CTEs by itself and has no such hint. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'gridline')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro spark__not_materialized() -%}
{%- endmacro %}

{#- The type of an instant: DuckDB's `timestamp with time zone`; Spark's `timestamp` is one already (an
    instant shown in the session's zone). -#}
{% macro type_instant() -%}
    {{ return(adapter.dispatch('type_instant', 'gridline')()) }}
{%- endmacro %}

{% macro default__type_instant() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_instant() -%}
    timestamp
{%- endmacro %}

{#- `as materialized`: a CTE computed once, in the order written, so the optimizer cannot join its input
    to later relations first (see `sparse_similarity`). Spark plans each CTE where it is read and has no
    such hint; its joins follow the pairs by themselves. -#}
{% macro materialized() -%}
    {{ return(adapter.dispatch('materialized', 'gridline')()) }}
{%- endmacro %}

{% macro default__materialized() -%}
    materialized
{%- endmacro %}

{% macro spark__materialized() -%}
{%- endmacro %}
