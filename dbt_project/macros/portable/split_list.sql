{#- A string split into a list at a literal separator. Spark's `split` takes a regular expression (`'|'`
    would split between every character), so its separator is quoted as one. -#}
{% macro split_list(column, separator) -%}
    {{ return(adapter.dispatch('split_list', 'gridline')(column, separator)) }}
{%- endmacro %}

{% macro default__split_list(column, separator) -%}
    string_split({{ column }}, '{{ separator }}')
{%- endmacro %}

{% macro spark__split_list(column, separator) -%}
    split({{ column }}, '{{ regex_literal(separator) }}')
{%- endmacro %}

{#- The characters of `text`, each in a bracket class, so a regular expression matches them literally. -#}
{% macro regex_literal(text) -%}
    {%- for character in text -%}
        {%- if character == '\\' -%}\\\\{%- elif character == '^' -%}\\^{%- else -%}[{{ character }}]{%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- The non-blank trimmed items of a string split at `separator` (`a | |b` gives [a, b]); `item` names the
    lambda's variable. -#}
{% macro split_trimmed_list(column, separator, item='item') -%}
    {{ return(adapter.dispatch('split_trimmed_list', 'gridline')(column, separator, item)) }}
{%- endmacro %}

{% macro default__split_trimmed_list(column, separator, item) -%}
    list_filter(
            list_transform({{ split_list(column, separator) }}, lambda {{ item }}: trim({{ item }})),
            lambda {{ item }}: {{ item }} <> ''
        )
{%- endmacro %}

{% macro spark__split_trimmed_list(column, separator, item) -%}
    filter(
            transform({{ split_list(column, separator) }}, {{ item }} -> trim({{ item }})),
            {{ item }} -> {{ item }} <> ''
        )
{%- endmacro %}

{#- A list's items joined into one string. -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list', 'gridline')(list, separator)) }}
{%- endmacro %}

{% macro default__join_list(list, separator) -%}
    array_to_string({{ list }}, '{{ separator }}')
{%- endmacro %}

{% macro spark__join_list(list, separator) -%}
    array_join({{ list }}, '{{ separator }}')
{%- endmacro %}
