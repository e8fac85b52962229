{#- Models land in the schema their folder names (staging, intermediate, marts), not <target>_<name>:
    analysts query `marts.cases`, whatever the target is called. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
