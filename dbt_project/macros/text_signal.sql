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
