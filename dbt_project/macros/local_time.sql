{#- The wall-clock time in the deployment's zone of a UTC instant; quarters are cut on it. -#}
{% macro to_local(column) -%}
    {{ return(adapter.dispatch('to_local', 'gridline')(column)) }}
{%- endmacro %}

{% macro default__to_local(column) -%}
    from_utc_timestamp({{ column }}, '{{ var("local_timezone") }}')
{%- endmacro %}

{% macro duckdb__to_local(column) -%}
    timezone('{{ var("local_timezone") }}', {{ column }})
{%- endmacro %}

{#- `2025Q3` for a local timestamp. -#}
{% macro quarter_label(local_ts) -%}
    cast(extract(year from {{ local_ts }}) as {{ dbt.type_string() }}) || 'Q' || cast(extract(quarter from {{ local_ts }}) as {{ dbt.type_string() }})
{%- endmacro %}
