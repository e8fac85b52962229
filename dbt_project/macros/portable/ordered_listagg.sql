{#- An aggregate: the group's values joined in a stated order, the first `limit_num` of them when given.
    dbt's own `listagg` keeps the order on DuckDB but drops it on Spark with only a warning, and what
    reads these strings (digests, ticket lists, a reviewer's top words) needs the order. -#}
{% macro ordered_listagg(measure, delimiter_text, order_by_clause, limit_num=none) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'gridline')(measure, delimiter_text, order_by_clause, limit_num)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {{ dbt.listagg(measure, delimiter_text, order_by_clause, limit_num) }}
{%- endmacro %}

{#- Spark's `listagg ... within group` has no limit: with one, the values are collected with their sort
    keys (a struct per non-null value), sorted by a comparator that follows the order clause (each key
    ascending or descending, nulls last as DuckDB sorts them), cut to the first `limit_num` and joined. -#}
{% macro spark__ordered_listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num is none -%}
    listagg({{ measure }}, {{ delimiter_text }}) within group ({{ order_by_clause }})
    {%- else -%}
    {%- set keys = order_keys(order_by_clause) -%}
    array_join(
            slice(
                transform(
                    array_sort(
                        collect_list(case when ({{ measure }}) is not null then struct(
                            {%- for key in keys %}{{ key.expression }} as k{{ loop.index }}, {% endfor -%}
                            {{ measure }} as measure) end),
                        (l, r) -> case
                            {%- for key in keys %}
                            {%- set first, second = ('r', 'l') if key.descending else ('l', 'r') %}
                            when l.k{{ loop.index }} is null and r.k{{ loop.index }} is not null then 1
                            when l.k{{ loop.index }} is not null and r.k{{ loop.index }} is null then -1
                            when {{ first }}.k{{ loop.index }} < {{ second }}.k{{ loop.index }} then -1
                            when {{ first }}.k{{ loop.index }} > {{ second }}.k{{ loop.index }} then 1
                            {%- endfor %}
                            else 0 end
                    ),
                    item -> item.measure
                ),
                1, {{ limit_num }}
            ),
            {{ delimiter_text }}
        )
    {%- endif -%}
{%- endmacro %}

{#- The keys of an `order by` clause: [{expression, descending}], split at the commas outside brackets. -#}
{% macro order_keys(order_by_clause) -%}
    {%- set clause = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause) -%}
    {%- set ns = namespace(depth=0, current='', parts=[]) -%}
    {%- for character in clause -%}
        {%- if character == ',' and ns.depth == 0 -%}
            {%- set ns.parts = ns.parts + [ns.current] -%}{%- set ns.current = '' -%}
        {%- else -%}
            {%- if character == '(' %}{% set ns.depth = ns.depth + 1 %}{% elif character == ')' %}{% set ns.depth = ns.depth - 1 %}{% endif -%}
            {%- set ns.current = ns.current ~ character -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set ns.parts = ns.parts + [ns.current] -%}
    {%- set keys = [] -%}
    {%- for part in ns.parts -%}
        {%- set match = modules.re.match('(?is)^\\s*(.*?)\\s+(asc|desc)\\s*$', part) -%}
        {%- if match -%}
            {%- do keys.append({'expression': match.group(1), 'descending': match.group(2) | lower == 'desc'}) -%}
        {%- else -%}
            {%- do keys.append({'expression': part | trim, 'descending': false}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(keys) }}
{%- endmacro %}
