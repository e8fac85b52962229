{#- An English street address reduced to what identifies the spot, so the ways one address is typed meet:
    lower case, one space between words, only the street line (before the first comma or run of spaces
    that opens the city/state/zip tail), no unit (apt, unit, suite, #), and street-type words in their
    short form (Street = St, Avenue = Ave). The city, state and zip in the tail are never needed to tell
    two spots of one city apart. -#}
{% macro english_address_key(column) -%}
    {%- set short_forms = var('ticket_street_type_short_forms') -%}
    {%- set ns = namespace(expr="lower(trim(split_part(" ~ regexp_replace_all(column, regexp_pattern('\\s{2,}|,'), "'|'") ~ ", '|', 1)))") -%}
    {#- anchored at the end, so it matches once: DuckDB's single replacement is every replacement -#}
    {%- set ns.expr = "regexp_replace(" ~ ns.expr ~ ", " ~ regexp_pattern('\\s+(apt|unit|suite|ste|#|no\\.?)\\s*\\S*$') ~ ", '')" -%}
    {%- set ns.expr = regexp_replace_all(ns.expr, "'[.]'", "''") -%}
    {%- set ns.expr = regexp_replace_all(ns.expr, regexp_pattern('\\s+'), "' '") -%}
    {%- for long_form, short_form in short_forms.items() -%}
        {%- set ns.expr = regexp_replace_all(ns.expr, regexp_pattern('\\b' ~ long_form ~ '\\b'), "'" ~ short_form ~ "'") -%}
    {%- endfor -%}
    nullif({{ ns.expr }}, '')
{%- endmacro %}

{#- True when a text is written in Chinese characters (its place is then read the Chinese way). -#}
{% macro is_chinese(column) -%}
    {{ regexp_contains("coalesce(" ~ column ~ ", '')", regexp_pattern('[\\x{4e00}-\\x{9fff}]')) }}
{%- endmacro %}

{#- The great-circle distance in metres between two points given in degrees (haversine). -#}
{% macro distance_metres(lat1, lon1, lat2, lon2) -%}
    2 * 6371000 * asin(sqrt(
        power(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }})) * power(sin(radians({{ lon2 }} - {{ lon1 }}) / 2), 2)
    ))
{%- endmacro %}
