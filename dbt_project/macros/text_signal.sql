{#- Description text reduced to what tells one problem from another: the intake operators' stock phrases
    (var `text_boilerplate`), redaction placeholders and punctuation removed. Place names are removed by
    the caller, which knows the case's place. -#}
{% macro strip_boilerplate(column) -%}
    {%- set ns = namespace(expr='coalesce(' ~ column ~ ", '')") -%}
    {%- for phrase in var('text_boilerplate') -%}
        {%- set ns.expr = 'replace(' ~ ns.expr ~ ", '" ~ (phrase | replace("'", "''")) ~ "', '')" -%}
    {%- endfor -%}
    regexp_replace({{ ns.expr }}, '[ \t　,.;:!?()"''，。；：！？、（）“”‘’《》【】…—\\-]+', '', 'g')
{%- endmacro %}

{#- Remove a place name from a text when the name is known. -#}
{% macro remove_name(text, name) -%}
    case when {{ name }} is null or {{ name }} = '' then {{ text }} else replace({{ text }}, {{ name }}, '') end
{%- endmacro %}

{#- Remove each of the names in the columns `names` from a text. -#}
{% macro remove_names(text, names) -%}
    {%- set ns = namespace(expr=text) -%}
    {%- for name in names -%}{%- set ns.expr = remove_name(ns.expr, name) -%}{%- endfor -%}
    {{ ns.expr }}
{%- endmacro %}

{#- The start of a text up to its last place suffix (东湖兰亭大道 of 东湖兰亭大道井盖) or, with
    `include_spots`, its last spot or unit (3栋 of 凤凰雅居3栋楼道); '' when there is none. A suffix followed
    by one of `ticket_not_place_after` does not end a place: 路面, 路灯 and 路口 are things on a road. -#}
{% macro address_up_to_last_place(text, include_spots=false) -%}
    {%- set ends = var('ticket_place_suffixes') | join('|') -%}
    {%- if include_spots %}{% set ends = var('ticket_spot_token_pattern') ~ '|[0-9]+单元|' ~ ends %}{% endif -%}
    regexp_extract({{ text }}, '^(.*(?:{{ ends }}))(?:[^{{ var("ticket_not_place_after") }}]|$)', 1)
{%- endmacro %}

{#- A place's name up to its last place suffix, or the whole name when it has none: what a description
    says to name the place. -#}
{% macro place_head(place) -%}
    coalesce(nullif({{ address_up_to_last_place(place) }}, ''), {{ place }})
{%- endmacro %}

{#- One row per overlapping character pair of `text_column` in `relation`, with `key_columns` carried:
    Chinese needs no word segmentation for this, a bigram already says most of what a word does. -#}
{% macro char_bigrams(relation, key_columns, text_column) -%}
    {{ return(adapter.dispatch('char_bigrams', 'gridline')(relation, key_columns, text_column)) }}
{%- endmacro %}

{% macro default__char_bigrams(relation, key_columns, text_column) -%}
    select {{ key_columns | join(', ') }}, substring({{ text_column }}, position, 2) as bigram
    from {{ relation }}
    lateral view explode(sequence(1, length({{ text_column }}) - 1)) positions as position
    where length({{ text_column }}) >= 2
{%- endmacro %}

{% macro duckdb__char_bigrams(relation, key_columns, text_column) -%}
    select {{ key_columns | join(', ') }}, substring({{ text_column }}, position, 2) as bigram
    from {{ relation }}, unnest(range(1, length({{ text_column }}))) as positions(position)
    where length({{ text_column }}) >= 2
{%- endmacro %}
