{#- A place name as operators type it, reduced to what identifies it: no spaces (ASCII or full-width),
    no administrative suffix (社区居委会, 街道办事处, 街道 or its short form 街, 区 ...), so 「桃源社区居委会」, 「桃源 社区」 and 「桃源」
    all meet the reference's 「桃源社区」. -#}
{% macro normalise_place(column, level) -%}
    {%- set suffixes = {
        'community': '(社区居民委员会|社区居委会|居民委员会|村民委员会|居委会|村委会|社区|村)$',
        'street': '(街道办事处|街道办|办事处|街道|街|乡|镇)$',
        'district': '(新区|区|县|市)$',
    } -%}
    nullif(regexp_replace({{ regexp_replace_all("coalesce(" ~ column ~ ", '')", "'[ \\t　]+'", "''") }}, '{{ suffixes[level] }}', ''), '')
{%- endmacro %}
