{#- The `position`th item of a list, counting from 1; null past its end (DuckDB's `list[n]`). -#}
{% macro list_item(list, position) -%}
    {{ return(adapter.dispatch('list_item', 'gridline')(list, position)) }}
{%- endmacro %}

{% macro default__list_item(list, position) -%}
    {{ list }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_item(list, position) -%}
    try_element_at({{ list }}, {{ position }})
{%- endmacro %}

{#- How many items a list holds. -#}
{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length', 'gridline')(list)) }}
{%- endmacro %}

{% macro default__list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__list_length(list) -%}
    size({{ list }})
{%- endmacro %}

{#- An empty list of strings, typed. -#}
{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'gridline')()) }}
{%- endmacro %}

{% macro default__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}

{% macro spark__empty_string_list() -%}
    cast(array() as array<string>)
{%- endmacro %}

{#- A list without repeated items (in no promised order). -#}
{% macro list_distinct(list) -%}
    {{ return(adapter.dispatch('list_distinct', 'gridline')(list)) }}
{%- endmacro %}

{% macro default__list_distinct(list) -%}
    list_distinct({{ list }})
{%- endmacro %}

{% macro spark__list_distinct(list) -%}
    array_distinct({{ list }})
{%- endmacro %}

{#- Two lists, one after the other. -#}
{% macro list_concat(first, second) -%}
    {{ return(adapter.dispatch('list_concat', 'gridline')(first, second)) }}
{%- endmacro %}

{% macro default__list_concat(first, second) -%}
    list_concat({{ first }}, {{ second }})
{%- endmacro %}

{% macro spark__list_concat(first, second) -%}
    concat({{ first }}, {{ second }})
{%- endmacro %}

{#- An aggregate: the group's values as one sorted list. -#}
{% macro sorted_list_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'gridline')(expression)) }}
{%- endmacro %}

{% macro default__sorted_list_agg(expression) -%}
    list_sort(list({{ expression }}))
{%- endmacro %}

{% macro spark__sorted_list_agg(expression) -%}
    array_sort(collect_list({{ expression }}))
{%- endmacro %}

{#- `text` with every item of `names` replaced by `replacement`, one after the other (a fold over the list:
    DuckDB's list_reduce over the text prepended to the list, Spark's aggregate). -#}
{% macro replace_each(text, names, replacement) -%}
    {{ return(adapter.dispatch('replace_each', 'gridline')(text, names, replacement)) }}
{%- endmacro %}

{% macro default__replace_each(text, names, replacement) -%}
    list_reduce(
            list_prepend(
                {{ text }},
                {{ names }}
            ),
            lambda text, name: replace(text, name, {{ replacement }})
        )
{%- endmacro %}

{% macro spark__replace_each(text, names, replacement) -%}
    aggregate({{ names }}, {{ text }}, (text, name) -> replace(text, name, {{ replacement }}))
{%- endmacro %}

{#- The integers from `start` up to but not including `stop` (empty when `stop` <= `start`), as a list.
    Spark's `sequence` includes its end and counts down when the end is smaller, so it is cut to the
    range. -#}
{% macro integer_range(start, stop) -%}
    {{ return(adapter.dispatch('integer_range', 'gridline')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_range(start, stop) -%}
    range({{ start }}, {{ stop }})
{%- endmacro %}

{% macro spark__integer_range(start, stop) -%}
    filter(sequence({{ start }}, greatest({{ start }}, ({{ stop }}) - 1)), i -> i < {{ stop }})
{%- endmacro %}
