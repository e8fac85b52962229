{#- A category path as exports write it (`A / B/C`, `A/ /B`), reduced to its non-blank trimmed segments
    joined by `/`: the code of a category the reference does not know. Null when nothing is left. -#}
{% macro category_path_key(column) -%}
    nullif({{ join_list(split_trimmed_list("coalesce(" ~ column ~ ", '')", '/', 'segment'), '/') }}, '')
{%- endmacro %}

{#- The last segment of a category path, the name a category is matched on. -#}
{% macro category_path_leaf(column) -%}
    trim(regexp_extract({{ column }}, '([^/]+)$', 1))
{%- endmacro %}
