{#- The district, street and community an address writes out in the administrative order a Chinese
    address uses (…区/县, then …街道/镇/乡, then …社区/村), each null when the address does not write it.
    Read only where a source has no place columns (grid workers' submissions carry a grid code and an
    address): what names the city's derived communities when it has no reference. -#}
{% macro address_district(column) -%}
    nullif(regexp_extract({{ column }}, '([^区县市省]{1,8}(区|县))', 1), '')
{%- endmacro %}

{% macro address_street(column) -%}
    nullif(regexp_extract({{ column }}, '(区|县)([^区县市街镇乡]{1,10}?(街道|镇|乡))', 2), '')
{%- endmacro %}

{% macro address_community(column) -%}
    nullif(regexp_extract({{ column }}, '(街道|镇|乡)([^区县市街镇乡社村]{1,10}?(社区|村))', 2), '')
{%- endmacro %}
