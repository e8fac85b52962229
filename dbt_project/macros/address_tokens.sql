{#- The distinct matches of `pattern` in a text, as a list: the spots (building numbers, gates) or the
    places (compounds, roads) an appeal names. -#}
{% macro address_tokens(text, pattern) -%}
    {{ return(adapter.dispatch('address_tokens', 'gridline')(text, pattern)) }}
{%- endmacro %}

{% macro default__address_tokens(text, pattern) -%}
    array_distinct(regexp_extract_all({{ text }}, '{{ pattern }}', 0))
{%- endmacro %}

{% macro duckdb__address_tokens(text, pattern) -%}
    list_distinct(regexp_extract_all({{ text }}, '{{ pattern }}'))
{%- endmacro %}

{#- True when two lists share an element. -#}
{% macro lists_overlap(left, right) -%}
    {{ return(adapter.dispatch('lists_overlap', 'gridline')(left, right)) }}
{%- endmacro %}

{% macro default__lists_overlap(left, right) -%}
    arrays_overlap({{ left }}, {{ right }})
{%- endmacro %}

{% macro duckdb__lists_overlap(left, right) -%}
    list_has_any({{ left }}, {{ right }})
{%- endmacro %}

{% macro list_is_empty(list) -%}
    {{ return(adapter.dispatch('list_is_empty', 'gridline')(list)) }}
{%- endmacro %}

{% macro default__list_is_empty(list) -%}
    size({{ list }}) = 0
{%- endmacro %}

{% macro duckdb__list_is_empty(list) -%}
    len({{ list }}) = 0
{%- endmacro %}

{#- The places a text names: for every occurrence of a place suffix (小区, 大道, 小学...), the suffix with
    the `width` characters before it. Occurrences may overlap (巡查发现花园银杏大道 yields both a 花园 and
    a 大道 token), which a left-to-right regular expression would not allow. -#}
{% macro place_tokens(text, suffixes, width) -%}
    {{ return(adapter.dispatch('place_tokens', 'gridline')(text, suffixes, width)) }}
{%- endmacro %}

{% macro default__place_tokens(text, suffixes, width) -%}
    array_distinct(regexp_extract_all({{ text }}, '[^0-9 ]{ {{- width -}} }({{ suffixes | join('|') }})', 0))
{%- endmacro %}

{% macro duckdb__place_tokens(text, suffixes, width) -%}
    list_distinct(list_filter(flatten([
        {%- for suffix in suffixes %}
        list_transform(string_split({{ text }}, '{{ suffix }}')[1:-2], lambda piece: right(piece, {{ width }}) || '{{ suffix }}')
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ]), lambda token: length(token) > {{ width }} and not regexp_matches(token, '[0-9 ]')
        and length(token) - {{ width }} in ({% for s in suffixes %}{{ s | length }}{% if not loop.last %}, {% endif %}{% endfor %})))
{%- endmacro %}
