{#- Every match of `pattern` replaced (DuckDB replaces the first unless given the 'g' flag; Spark's
    fourth argument is a start position, and it always replaces every match). -#}
{% macro regexp_replace_all(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'gridline')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#- Whether `pattern` matches anywhere in `text`. -#}
{% macro regexp_contains(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'gridline')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_contains(text, pattern) -%}
    regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_contains(text, pattern) -%}
    regexp_like({{ text }}, {{ pattern }})
{%- endmacro %}

{#- A regular expression as a SQL string literal: `pattern` is what the regexp engine reads. DuckDB's string
    literals keep backslashes as written; Spark's unescape them (`'\s'` reads `s`), so there each is
    doubled. -#}
{% macro regexp_pattern(pattern) -%}
    {{ return(adapter.dispatch('regexp_pattern', 'gridline')(pattern)) }}
{%- endmacro %}

{% macro default__regexp_pattern(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__regexp_pattern(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "''") }}'
{%- endmacro %}
