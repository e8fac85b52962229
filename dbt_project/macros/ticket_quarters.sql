{#- Tickets are quarterly and a quarter's clusters depend on that quarter's cases only (and on the objects
    learned up to it; its classes on the previous quarter's too), so the heavy ticket models rebuild only
    the quarters whose inputs changed.

    Each quarter has a digest of what the ticket models read of its cases (int_ticket_quarters__digests,
    level 'cases') and, for the models that use learned objects, of those cases and the objects known by
    then (int_ticket_quarters__object_digests, level 'objects'); the classes, which also read the previous
    quarter, use both quarters' 'objects' digests (level 'window'). `ticket_quarter_builds` records, per model,
    the digest each quarter was last built from. On an incremental run a model's pre-hook deletes its rows
    of every quarter whose digest changed (or that has no cases any more), its body computes only those
    quarters, and its post-hook records the digests it is now built from. A run that fails in between
    leaves the record as it was, so the next run rebuilds the same quarters. -#}

{#- The columns of int_cases__service_levels the ticket models read: a change to any of them changes the
    case's quarter digest. How a case was handled (resolved, rated, reopened) is not among them: it changes
    every day and no class depends on it; the ticket summary reads it from the cases themselves. -#}
{% macro ticket_case_columns() -%}
    {{ return(['case_id', 'stream', 'resident_key', 'received_at', 'category_code', 'category_path',
               'is_place_bound', 'grid_code', 'community_code', 'street_code', 'district_code',
               'community', 'community_name', 'street', 'street_name', 'district', 'district_name',
               'channel', 'title', 'description', 'address', 'latitude', 'longitude', 'is_duplicate']) }}
{%- endmacro %}

{#- The settings given on the command line (`--vars`), as text: part of every quarter's digest, so a
    build with other settings (the text signal off, another bar) rebuilds every quarter. The settings in
    dbt_project.yml need no such care: `gridline run` rebuilds everything when the project changes. -#}
{% macro ticket_settings_text() -%}
    {{ return(tojson(invocation_args_dict.get('vars') or {}, sort_keys=true)) }}
{%- endmacro %}

{% macro ticket_quarter_builds_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier='ticket_quarter_builds')) }}
{%- endmacro %}

{#- The label of the quarter before the `YYYYQn` label in `column`. -#}
{% macro previous_quarter_label(column) -%}
    case when right({{ column }}, 1) = '1'
        then cast(cast(left({{ column }}, 4) as integer) - 1 as {{ dbt.type_string() }}) || 'Q4'
        else left({{ column }}, 5) || cast(cast(right({{ column }}, 1) as integer) - 1 as {{ dbt.type_string() }})
    end
{%- endmacro %}

{#- Each quarter's digest for a model of `level`, with the settings of this invocation: read when the
    model itself is built, so a build of only some models with other settings rebuilds those.
    Level 'window' is for a model whose quarter also reads the previous quarter (the classes: a slow
    problem's cases of last quarter count toward this quarter's minimum): its digest is the quarter's
    'objects' digest and the previous quarter's, so a change to a quarter also rebuilds the next.
    Level 'chain' is for a model that reads the tickets: a ticket id continues from quarter to quarter, so
    a change to any quarter can change the ids of every later one. Its digest is the 'objects' digests of
    the quarter and of every quarter before it: a change rebuilds its quarter and all later ones, and
    never an earlier one. -#}
{% macro ticket_quarter_digests(level) -%}
    {%- if level == 'cases' -%}
        {%- set digests = ref('int_ticket_quarters__digests') -%}
    {%- elif level in ('objects', 'window', 'chain') -%}
        {%- set digests = ref('int_ticket_quarters__object_digests') -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("ticket quarter level must be 'cases', 'objects', 'window' or 'chain', not " ~ level) }}
    {%- endif -%}
    {%- if level == 'chain' -%}
    (
        select digests.quarter,
            md5({{ ordered_listagg('earlier.digest', "':'", 'order by earlier.quarter') }}) || ':'
                || md5({{ dbt.string_literal(ticket_settings_text()) }}) as digest
        from {{ digests }} as digests
        inner join {{ digests }} as earlier on earlier.quarter <= digests.quarter
        group by digests.quarter
    )
    {%- elif level == 'window' -%}
    (
        select digests.quarter,
            digests.digest || ':' || coalesce(previous.digest, '') || ':'
                || md5({{ dbt.string_literal(ticket_settings_text()) }}) as digest
        from {{ digests }} as digests
        left join {{ digests }} as previous on previous.quarter = {{ previous_quarter_label('digests.quarter') }}
    )
    {%- else -%}
    (select quarter, digest || ':' || md5({{ dbt.string_literal(ticket_settings_text()) }}) as digest from {{ digests }})
    {%- endif -%}
{%- endmacro %}

{#- The quarters whose rows this model holds and are still current (built from today's digest). -#}
{% macro ticket_quarters_current(level) -%}
    (
        select digests.quarter
        from {{ ticket_quarter_digests(level) }} as digests
        inner join {{ ticket_quarter_builds_relation() }} as builds
            on builds.model_name = '{{ this.identifier }}'
            and builds.quarter = digests.quarter
            and builds.digest = digests.digest
    )
{%- endmacro %}

{#- Whether this is an incremental build of a ticket model (a unit test has no `this`: never). -#}
{% macro ticket_quarters_incremental() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- The quarters an incremental run rebuilds: those whose digest differs from the one the model was built
    from. Read from the database when the model runs (dbt compiles a model's body just before running
    it, after the digests were built and before its hooks change anything), so the body filters on a
    list of labels: a scan that skips what it does not need, not a comparison of every row of every
    quarter with a subquery. -#}
{% macro ticket_quarters_pending(level) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- do run_query(ticket_quarters_create_builds()) -%}
    {%- set pending_sql -%}
        select digests.quarter from {{ ticket_quarter_digests(level) }} as digests
        where digests.quarter not in {{ ticket_quarters_current(level) }}
        order by digests.quarter
    {%- endset -%}
    {{ return(run_query(pending_sql).columns[0].values() | list) }}
{%- endmacro %}

{#- `column` is one of `quarters` (false when there are none). -#}
{% macro ticket_quarter_in(column, quarters) -%}
    {%- if quarters | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for quarter in quarters %}{{ dbt.string_literal(quarter) }}{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- A condition on `column` for the model's body: on an incremental run only the quarters to rebuild. -#}
{% macro ticket_quarters_to_build(level, column='quarter') -%}
    {%- if ticket_quarters_incremental() -%}
        {{ ticket_quarter_in(column, ticket_quarters_pending(level)) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The condition for reading the inputs of a 'window' model: the quarters to rebuild and the quarter
    before each (read, not rebuilt). -#}
{% macro ticket_quarters_to_read_with_next(level, column='quarter') -%}
    {%- if ticket_quarters_incremental() -%}
        {%- set pending = ticket_quarters_pending(level) -%}
        {%- set ns = namespace(quarters=pending) -%}
        {%- for quarter in pending -%}
            {%- set year, number = quarter[:4] | int, quarter[-1:] | int -%}
            {%- set ns.quarters = ns.quarters + [(year - 1) ~ 'Q4' if number == 1 else year ~ 'Q' ~ (number - 1)] -%}
        {%- endfor -%}
        {{ ticket_quarter_in(column, ns.quarters | unique | list) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro ticket_quarters_create_builds() -%}
    create table if not exists {{ ticket_quarter_builds_relation() }} (
        model_name varchar, quarter varchar, digest varchar
    )
{%- endmacro %}

{#- Pre-hook: drop the rows of the quarters about to be rebuilt. -#}
{% macro ticket_quarters_clear(level) -%}
    {{ ticket_quarters_create_builds() }};
    {% if ticket_quarters_incremental() -%}
    delete from {{ this }} where quarter not in {{ ticket_quarters_current(level) }};
    {%- endif %}
{%- endmacro %}

{#- Post-hook: every quarter is now built from its current digest. -#}
{% macro ticket_quarters_record(level) -%}
    {{ ticket_quarters_create_builds() }};
    delete from {{ ticket_quarter_builds_relation() }} where model_name = '{{ this.identifier }}';
    insert into {{ ticket_quarter_builds_relation() }}
        select '{{ this.identifier }}', quarter, digest from {{ ticket_quarter_digests(level) }};
{%- endmacro %}

{#- Rows in quarter order, for the ticket models built quarter by quarter or case by case (their rows
    then sit in storage blocks of one quarter each). A night's `quarter in (...)` filters then skip every
    block of the other quarters by its min/max statistics. Without the order a full build leaves every
    block holding cases of every quarter, and a night read the whole history of terms and vectors to
    find its own quarter's: after 10 months of a city, its peak was 1,067 MB against 932 MB in order.
    The sort costs a few seconds of a full build. An engine whose builds are always whole (Spark) has no
    night to filter by quarter, so no order. -#}
{% macro in_quarter_order() -%}
    {%- if remembers_incremental_builds() %}order by quarter{% endif -%}
{%- endmacro %}

{#- The configuration of a ticket model built quarter by quarter. -#}
{% macro ticket_quarterly_config(level) -%}
    {{ return(adapter.dispatch('ticket_quarterly_config', 'gridline')(level)) }}
{%- endmacro %}

{% macro default__ticket_quarterly_config(level) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ ticket_quarters_clear('" ~ level ~ "') }}",
        post_hook="{{ ticket_quarters_record('" ~ level ~ "') }}"
    ) }}
{%- endmacro %}

{#- Per case. The ticket models that compute each case on its own (its reduced text, its terms, the place
    names it writes) are built case by case rather than quarter by quarter: a night recomputes only its
    new and changed cases, not the whole quarter they fall in.

    Each case has a key per level: level 'case' is the case's fingerprint (int_ticket_cases__fingerprints:
    its columns and the command-line settings); level 'placed' adds the quarter's common address starts
    (int_ticket_quarters__address_starts), which int_ticket_cases__eligible takes off every address of the
    quarter, so a change to them recomputes the quarter's cases; level 'objects' adds the objects known by
    the case's quarter (int_ticket_quarters__object_digests). `ticket_case_builds` records, per model,
    the key each case was last built from. On an incremental run a model's pre-hook deletes the rows of
    every case whose key changed (or that is gone), its body computes only those cases, and its post-hook
    records the keys it is now built from.

    Every key of a quarter's cases is a function of what its quarter digest covers (the quarter's cases,
    the settings and, at level 'objects', the objects known by then), so only the cases of quarters whose
    digest changed since the model's last build are compared: the model also records the digests it was
    built from in `ticket_quarter_builds`, as the quarterly models do. -#}
{% macro ticket_case_keys(level) -%}
    {%- if level == 'case' -%}
    (select case_id, quarter, fingerprint from {{ ref('int_ticket_cases__fingerprints') }})
    {%- elif level == 'placed' -%}
    (
        select fingerprints.case_id, fingerprints.quarter,
            hash(fingerprints.fingerprint, coalesce(starts.address_starts, '')) as fingerprint
        from {{ ref('int_ticket_cases__fingerprints') }} as fingerprints
        left join (
            select quarter, {{ ordered_listagg('address_start', "'|'", 'order by address_start') }} as address_starts
            from {{ ref('int_ticket_quarters__address_starts') }}
            group by quarter
        ) as starts on fingerprints.quarter = starts.quarter
    )
    {%- elif level == 'objects' -%}
    (
        select placed.case_id, placed.quarter, hash(placed.fingerprint, coalesce(known.known_objects, '')) as fingerprint
        from {{ ticket_case_keys('placed') }} as placed
        left join {{ ref('int_ticket_quarters__object_digests') }} as known on placed.quarter = known.quarter
    )
    {%- else -%}
        {{ exceptions.raise_compiler_error("ticket case level must be 'case', 'placed' or 'objects', not " ~ level) }}
    {%- endif -%}
{%- endmacro %}

{% macro ticket_case_builds_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier='ticket_case_builds')) }}
{%- endmacro %}

{% macro ticket_cases_create_builds() -%}
    create table if not exists {{ ticket_case_builds_relation() }} (
        model_name varchar, case_id varchar, quarter varchar, fingerprint ubigint
    )
{%- endmacro %}

{#- The level of quarter digest that covers a per-case key of `level`. -#}
{% macro ticket_case_quarter_level(level) -%}
    {{ return('objects' if level == 'objects' else 'cases') }}
{%- endmacro %}

{#- The cases whose key differs from the one this model last recorded, for an incremental run: a new
    case (no old rows), a changed one (old rows to drop, new ones to compute) or a gone one (old rows to
    drop, none to compute). Only the cases of the quarters whose digest changed are compared (and of those
    that have no cases any more): a night's, not the year's. It is done once per run, into a table the
    body, the pre-hook and the post-hook all read. -#}
{% macro ticket_case_changes_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
                                  identifier='ticket_case_changes__' ~ this.identifier)) }}
{%- endmacro %}

{#- Written when the body is compiled: after the keys' inputs were built this run, before the pre-hook
    touches this model or its record. `fingerprint` is the case's new key (null: the case is gone),
    `was_built` whether the model holds rows and a record of it. The post-hook drops the table; a run
    that fails before it leaves the table behind, and the next run replaces it. -#}
{% macro ticket_cases_find_changes(level) -%}
    {%- set quarter_level = ticket_case_quarter_level(level) -%}
    {%- set pending = ticket_quarters_pending(quarter_level) -%}
    create or replace table {{ ticket_case_changes_relation() }} as
    select
        coalesce(keys.case_id, builds.case_id) as case_id,
        keys.quarter,
        keys.fingerprint,
        builds.case_id is not null as was_built
    from (
        select * from {{ ticket_case_keys(level) }} as all_keys
        where {{ ticket_quarter_in('quarter', pending) }}
    ) as keys
    full outer join (
        select case_id, fingerprint from {{ ticket_case_builds_relation() }}
        where model_name = '{{ this.identifier }}'
            and ({{ ticket_quarter_in('quarter', pending) }}
                 or quarter not in (select quarter from {{ ticket_quarter_digests(quarter_level) }} as digests))
    ) as builds on builds.case_id = keys.case_id
    where keys.fingerprint is distinct from builds.fingerprint
{%- endmacro %}

{#- A condition on `column` for the model's body: on an incremental run only the cases to recompute
    (false, read when the model runs, when there are none: nothing to scan). -#}
{% macro ticket_cases_to_build(level, column='case_id') -%}
    {%- if ticket_quarters_incremental() -%}
        {%- set to_compute -%}
            (select case_id from {{ ticket_case_changes_relation() }} where fingerprint is not null)
        {%- endset -%}
        {%- if execute -%}
            {%- do run_query(ticket_cases_create_builds()) -%}
            {%- do run_query(ticket_cases_find_changes(level)) -%}
        {%- endif -%}
        {%- if execute and run_query('select count(*) from ' ~ to_compute).columns[0].values()[0] == 0 -%}
            false
        {%- else -%}
            {{ column }} in {{ to_compute }}
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The cases this model holds rows and a record of that are no longer current: their key changed, or
    they are gone. -#}
{% macro ticket_cases_stale() -%}
    (select case_id from {{ ticket_case_changes_relation() }} where was_built)
{%- endmacro %}

{#- Pre-hook: drop the rows of the cases about to be recomputed (a new case has none). -#}
{% macro ticket_cases_clear(level) -%}
    {{ ticket_cases_create_builds() }};
    {% if ticket_quarters_incremental() -%}
    delete from {{ this }} where case_id in {{ ticket_cases_stale() }};
    {%- endif %}
{%- endmacro %}

{#- Post-hook: every case is now built from its current key. Only the cases computed now change their
    record (a full build records every case anew). -#}
{% macro ticket_cases_record(level) -%}
    {{ ticket_cases_create_builds() }};
    {% if ticket_quarters_incremental() -%}
    delete from {{ ticket_case_builds_relation() }}
        where model_name = '{{ this.identifier }}' and case_id in {{ ticket_cases_stale() }};
    insert into {{ ticket_case_builds_relation() }}
        select '{{ this.identifier }}', case_id, quarter, fingerprint
        from {{ ticket_case_changes_relation() }}
        where fingerprint is not null;
    drop table {{ ticket_case_changes_relation() }};
    {%- else -%}
    delete from {{ ticket_case_builds_relation() }} where model_name = '{{ this.identifier }}';
    insert into {{ ticket_case_builds_relation() }}
        select '{{ this.identifier }}', keys.case_id, keys.quarter, keys.fingerprint
        from {{ ticket_case_keys(level) }} as keys
        {{ in_quarter_order() }};
    {%- endif %}
    {{ ticket_quarters_record(ticket_case_quarter_level(level)) }}
{%- endmacro %}

{#- The configuration of a ticket model built case by case. -#}
{% macro ticket_per_case_config(level) -%}
    {{ return(adapter.dispatch('ticket_per_case_config', 'gridline')(level)) }}
{%- endmacro %}

{% macro default__ticket_per_case_config(level) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ ticket_cases_clear('" ~ level ~ "') }}",
        post_hook="{{ ticket_cases_record('" ~ level ~ "') }}"
    ) }}
{%- endmacro %}

{#- On Spark the ticket models are whole tables: a Spark build on Parquet is always whole (no table to
    delete a quarter's or a case's rows from), so there is no bookkeeping to keep, and with `is_incremental()`
    false the bodies compute every quarter and every case. -#}
{% macro spark__ticket_quarterly_config(level) -%}
    {{ config(materialized='table') }}
{%- endmacro %}

{% macro spark__ticket_per_case_config(level) -%}
    {{ config(materialized='table') }}
{%- endmacro %}
