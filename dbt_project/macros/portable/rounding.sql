{#- A double rounded to `digits` places as DuckDB rounds it: the value times 10^digits, rounded half away
    from zero, divided back. Spark rounds the double's exact binary value instead, so a value a hair under
    a half, as interpolation and float sums leave them (0.5 * 113.3 + 0.5 * 123.6 is 118.44999999999999),
    rounds down there (118.4) and up on DuckDB (118.5). -#}
{% macro round_places(value, digits) -%}
    {{ return(adapter.dispatch('round_places', 'gridline')(value, digits)) }}
{%- endmacro %}

{% macro default__round_places(value, digits) -%}
    round({{ value }}, {{ digits }})
{%- endmacro %}

{% macro spark__round_places(value, digits) -%}
    (round(({{ value }}) * power(10, {{ digits }}), 0) / power(10, {{ digits }}))
{%- endmacro %}
