{#- The whole minutes from `start` to `end` as DuckDB's `datediff('minute', ...)` counts them: the minute
    boundaries crossed (10:00:50 to 10:01:10 is one). dbt-spark's `datediff` divides the seconds between
    them and rounds away from zero instead (10:00:10 to 10:01:50 would be two), so on Spark both instants
    are cut to the minute first. Null when either is null. -#}
{% macro minutes_between(start, end) -%}
    {{ return(adapter.dispatch('minutes_between', 'gridline')(start, end)) }}
{%- endmacro %}

{% macro default__minutes_between(start, end) -%}
    {{ dbt.datediff(start, end, 'minute') }}
{%- endmacro %}

{% macro spark__minutes_between(start, end) -%}
    ((unix_seconds(date_trunc('MINUTE', {{ end }})) - unix_seconds(date_trunc('MINUTE', {{ start }}))) div 60)
{%- endmacro %}
