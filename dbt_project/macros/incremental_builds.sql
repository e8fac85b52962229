{#- What an incremental model downstream of the folds remembers of its last build, so that a night
    recomputes only what the night's batches changed.

    Every row of the folds, and of the models built from them, carries the newest batch among the events
    it was computed from (`last_batch_id`). A model remembers the newest batch staged when it was last
    built (`built_through_batch`); the rows upstream with a newer batch are exactly those the batches
    since then changed. It also remembers a digest of the conformance tables it placed and classified
    rows with (`conformance_digest`): when a reference is loaded or the exports derive a new area, every
    row is recomputed, since any of them may be placed differently. A model whose rows depend on the
    command-line settings remembers those too, with the same effect when they change.

    The memory is one row per model in `incremental_builds` beside the schemas of the warehouse (made by
    the project's on-run-start hook), written by the model's post-hook once it is built
    (`remember_incremental_build`). A model built whole (a first or full-refresh build) ignores it. -#}
{% macro incremental_builds_relation() -%}
    {#- Spark has no database above its schemas -#}
    {{ return(api.Relation.create(
        database=target.database if target.database is defined else none,
        schema=target.schema,
        identifier='incremental_builds',
    )) }}
{%- endmacro %}

{% macro create_incremental_builds() -%}
    {%- if not remembers_incremental_builds() %}{{ return('') }}{% endif -%}
    create table if not exists {{ incremental_builds_relation() }} (
        model varchar,
        built_through_batch varchar,
        conformance_digest varchar
    )
{%- endmacro %}

{#- The newest batch staged when this model was last built: its rows upstream with a newer
    `last_batch_id` are the ones to recompute. None when everything is to be computed: not an incremental
    build, no memory of the last one, or the conformance tables (with `conformance`) or the `settings`
    (a text, e.g. the command-line settings a model's rows depend on) changed since. -#}
{% macro incremental_since(conformance=false, settings=none) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set remembered = run_query(
        "select built_through_batch, conformance_digest from " ~ incremental_builds_relation()
        ~ " where model = '" ~ this.identifier ~ "'"
    ) -%}
    {%- if remembered | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set digest = build_digest(conformance, settings) -%}
    {%- if digest is not none and remembered[0][1] != digest -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(remembered[0][0]) }}
{%- endmacro %}

{#- The post-hook that remembers this build: the newest batch staged, and the digest of what else its
    rows depend on (the conformance tables, the settings; see `incremental_since`). -#}
{% macro remember_incremental_build(conformance=false, settings=none) -%}
    {%- if not remembers_incremental_builds() %}{{ return('') }}{% endif -%}
    {%- set digest = build_digest(conformance, settings) -%}
    delete from {{ incremental_builds_relation() }} where model = '{{ this.identifier }}';
    insert into {{ incremental_builds_relation() }}
    select
        '{{ this.identifier }}',
        (select max(batch_id) from {{ ref('stg_log__events') }}),
        {{ "'" ~ digest ~ "'" if digest is not none else 'null' }}
{%- endmacro %}

{#- The digest `incremental_since` compares: the conformance tables' (only computed when asked for:
    on Spark, whose builds are whole, it is DuckDB SQL) and the settings'; none when neither is asked for. -#}
{% macro build_digest(conformance, settings) -%}
    {%- if not conformance and settings is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parts = [conformance_digest() if conformance else ''] -%}
    {%- if settings is not none -%}
        {%- do parts.append(local_md5(settings)) -%}
    {%- endif -%}
    {{ return(parts | join(':')) }}
{%- endmacro %}

{#- A digest of the tables that place and classify cases and sessions: the same tables, the same digest. -#}
{% macro conformance_digest() -%}
    {%- set relations = [
        ref('int_areas__aliases'),
        ref('int_areas__communities'),
        ref('int_areas__grids'),
        ref('int_categories__names'),
        ref('int_categories__taxonomy'),
    ] -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set digests = [] -%}
    {%- for relation in relations -%}
        {%- do digests.append(
            "select '" ~ relation.identifier ~ "' as name, coalesce(" ~ ordered_listagg(
                dbt.hash("cast(r as varchar)"), "''", "order by " ~ dbt.hash("cast(r as varchar)")
            ) ~ ", '') as rows_digest from " ~ relation ~ " as r"
        ) -%}
    {%- endfor -%}
    {%- set query = "select " ~ dbt.hash(ordered_listagg("rows_digest", "'|'", "order by name")) ~ " from ("
        ~ digests | join(" union all ") ~ ")" -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}

{#- The filter on an upstream relation's rows that keeps those changed since `since` (all when none). -#}
{% macro changed_since(since, column='last_batch_id') -%}
    {%- if since is not none %}{{ column }} > '{{ since }}'{% else %}true{% endif -%}
{%- endmacro %}

{#- The pre-hook of a model that only appends batches (the staged log): remembers the newest batch the
    table held before this build appends to it, so that its tests can tell the rows this build added
    (`appended_after`). A whole build remembers none: its tests read every row. -#}
{% macro remember_batches_before_append() -%}
    {%- if not remembers_incremental_builds() %}{{ return('') }}{% endif -%}
    delete from {{ incremental_builds_relation() }} where model = '{{ this.identifier }}';
    insert into {{ incremental_builds_relation() }}
    select
        '{{ this.identifier }}',
        {{ "(select max(batch_id) from " ~ this ~ ")" if is_incremental() else "null" }},
        null
{%- endmacro %}

{#- The newest batch `relation` (a model with `remember_batches_before_append`) held before this build
    appended to it; none when the build was whole (as an engine that does not remember builds always is). -#}
{% macro appended_after(relation) -%}
    {%- if not execute or not remembers_incremental_builds() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set remembered = run_query(
        "select built_through_batch from " ~ incremental_builds_relation()
        ~ " where model = '" ~ relation.identifier ~ "'"
    ) -%}
    {{ return(remembered[0][0] if remembered | length > 0 else none) }}
{%- endmacro %}

{#- The configuration of an incremental model keyed by case: a night replaces the cases its batches
    changed, drops the grid cases whose submission is a case no longer, and remembers the build (with
    the command-line settings too when `settings`). -#}
{% macro case_model_config(settings=false) -%}
    {%- set remember = "remember_incremental_build(conformance=true"
        ~ (", settings=ticket_settings_text()" if settings else "") ~ ")" -%}
    {{ config(
        materialized='incremental',
        unique_key='case_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook=[
            "{{ delete_submissions_no_longer_cases() }}",
            "{{ " ~ remember ~ " }}",
        ]
    ) }}
{%- endmacro %}
