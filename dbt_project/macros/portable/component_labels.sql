{#- `recursive` after `with` where a CTE may read itself: DuckDB needs it for `component_labels`; on Spark
    the groups are computed apart, and the keyword is left out. -#}
{% macro recursive_ctes() -%}
    {{ return(adapter.dispatch('recursive_ctes', 'gridline')()) }}
{%- endmacro %}

{% macro default__recursive_ctes() -%}
    recursive
{%- endmacro %}

{% macro spark__recursive_ctes() -%}
{%- endmacro %}

{#- The connected groups of a graph, as a CTE `labels_name` (`node_column`, `label`): each node of `nodes`
    with the smallest node id it is connected to through `edges` (`from_column` -> `to_column`, given both
    ways). `defining_ctes` is the text of the CTEs `nodes` and `edges` are among (with the CTEs they read),
    for an engine that computes the groups apart; the caller writes `with {{ recursive_ctes() }}`.

    DuckDB spreads the smallest label along the edges recursively, keeping one row per node and feeding
    back only the changed ones (`using key`), until no label changes. Spark's recursive CTEs take neither
    `union` nor `using key` nor an aggregate, and a spread unrolled into one query replans the whole graph
    every round (170 s for the tiny test city), so on Spark the rounds run one by one when the model runs:
    each a small cached table of the labels, each node taking the smallest label among itself and its
    neighbours, until a round changes none; the CTE reads the last. A graph still changing after
    `var('spark_label_rounds')` rounds stops the build with a clear error rather than split a group. -#}
{% macro component_labels(labels_name, nodes, node_column, edges, from_column, to_column, defining_ctes) -%}
    {{ return(adapter.dispatch('component_labels', 'gridline')(labels_name, nodes, node_column, edges, from_column, to_column, defining_ctes)) }}
{%- endmacro %}

{% macro default__component_labels(labels_name, nodes, node_column, edges, from_column, to_column, defining_ctes) -%}
{{ labels_name }} ({{ node_column }}, label) using key ({{ node_column }}) as (

    -- every case starts as its own label and takes the smallest label among its linked cases until no
    -- label changes (DuckDB keeps one row per case and feeds back only the changed ones, so a large web
    -- of links costs its links, not the square of its size)
    select {{ node_column }}, {{ node_column }} from {{ nodes }}
    union
    select {{ edges }}.{{ to_column }}, min({{ labels_name }}.label)
    from {{ labels_name }}
    inner join {{ edges }} on {{ labels_name }}.{{ node_column }} = {{ edges }}.{{ from_column }}
    left join recurring.{{ labels_name }} as known on {{ edges }}.{{ to_column }} = known.{{ node_column }}
    group by {{ edges }}.{{ to_column }}, known.label
    having min({{ labels_name }}.label) < known.label

)
{%- endmacro %}

{% macro spark__component_labels(labels_name, nodes, node_column, edges, from_column, to_column, defining_ctes) -%}
    {%- set prefix = (this.identifier ~ '__' if this is not none else '') ~ labels_name -%}
    {%- set ns = namespace(last=prefix ~ '_0') -%}
    {#- only when the model runs: a compile renders the SQL without running rounds -#}
    {%- if execute and flags.WHICH in ('run', 'build') -%}
        {%- set graph = 'with ' ~ defining_ctes ~ '\n' -%}
        {%- do spark_cache_view(prefix ~ '_neighbours', graph ~ 'select ' ~ from_column ~ ' as node_id, ' ~ to_column
            ~ ' as neighbour_id from ' ~ edges ~ ' union select ' ~ node_column ~ ', ' ~ node_column ~ ' from ' ~ nodes) -%}
        {%- do spark_cache_view(ns.last, graph ~ 'select ' ~ node_column ~ ' as node_id, ' ~ node_column ~ ' as label from ' ~ nodes) -%}
        {%- set rounds = var('spark_label_rounds', 200) -%}
        {%- for round in range(1, rounds + 2) -%}
            {%- if round > rounds -%}
                {{ exceptions.raise_compiler_error(this ~ ": connected groups still growing after " ~ rounds ~ " rounds (var spark_label_rounds)") }}
            {%- endif -%}
            {%- set current = prefix ~ '_' ~ round -%}
            {%- do spark_cache_view(current, 'select neighbours.node_id, min(previous.label) as label from ' ~ prefix
                ~ '_neighbours as neighbours inner join ' ~ ns.last ~ ' as previous on neighbours.neighbour_id = previous.node_id'
                ~ ' group by neighbours.node_id') -%}
            {%- set changed = run_query('select count(*) from ' ~ current ~ ' as current inner join ' ~ ns.last
                ~ ' as previous on current.node_id = previous.node_id where current.label < previous.label').columns[0].values()[0] -%}
            {%- set ns.last = current -%}
            {%- if changed == 0 %}{% break %}{% endif -%}
        {%- endfor -%}
    {%- endif %}
{{ labels_name }} as (

    select node_id as {{ node_column }}, label from {{ ns.last }}

)
{%- endmacro %}

{#- A temporary view `name` holding the rows of `query`, computed now and kept in memory for the session
    (an earlier one of the name, from a retried model, is dropped first). -#}
{% macro spark_cache_view(name, query) -%}
    {%- do run_query('uncache table if exists ' ~ name) -%}
    {%- do run_query('drop view if exists ' ~ name) -%}
    {%- do run_query('cache table ' ~ name ~ ' as ' ~ query) -%}
{%- endmacro %}
