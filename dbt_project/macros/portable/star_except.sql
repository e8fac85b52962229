{#- All columns of `relation` but `columns`. -#}
{% macro star_except(relation, columns) -%}
    {{ return(adapter.dispatch('star_except', 'gridline')(relation, columns)) }}
{%- endmacro %}

{% macro default__star_except(relation, columns) -%}
    {{ relation }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation, columns) -%}
    {{ relation }}.* except ({{ columns | join(', ') }})
{%- endmacro %}

{#- All columns of `relation`, those named in `replacements` (column -> expression) computed anew. On
    Spark the replaced columns come last: a union of such selects must replace the same columns in each
    branch (`{column: column}` keeps one as it is) so the branches line up. -#}
{% macro star_replace(relation, replacements) -%}
    {{ return(adapter.dispatch('star_replace', 'gridline')(relation, replacements)) }}
{%- endmacro %}

{% macro default__star_replace(relation, replacements) -%}
    {{ relation }}.* replace (
            {%- for column, expression in replacements.items() %}
            {{ expression }} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
{%- endmacro %}

{% macro spark__star_replace(relation, replacements) -%}
    {{ relation }}.* except ({{ replacements.keys() | join(', ') }}),
        {%- for column, expression in replacements.items() %}
        {{ expression }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#- All columns of `relation`, those named in `renames` (old name -> new name) renamed. On Spark the
    renamed columns come last. -#}
{% macro star_rename(relation, renames) -%}
    {{ return(adapter.dispatch('star_rename', 'gridline')(relation, renames)) }}
{%- endmacro %}

{% macro default__star_rename(relation, renames) -%}
    {{ relation }}.* rename ({% for old, new in renames.items() %}{{ old }} as {{ new }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__star_rename(relation, renames) -%}
    {{ relation }}.* except ({{ renames.keys() | join(', ') }}),
        {%- for old, new in renames.items() %} {{ old }} as {{ new }}{{ ',' if not loop.last }}{% endfor %}
{%- endmacro %}
