{#- Tickets are quarterly and a quarter's classes depend on that quarter's cases only (and on the objects
    learned up to it), so the heavy ticket models rebuild only the quarters whose inputs changed.

    Each quarter has a digest of what the ticket models read of its cases (int_ticket_quarters__digests,
    level 'cases') and, for the models that use learned objects, of those cases and the objects known by
    then (int_ticket_quarters__object_digests, level 'objects'). `ticket_quarter_builds` records, per model,
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

{% macro ticket_quarter_builds_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier='ticket_quarter_builds')) }}
{%- endmacro %}

{% macro ticket_quarter_digests(level) -%}
    {%- if level == 'cases' -%}
        {{ return(ref('int_ticket_quarters__digests')) }}
    {%- elif level == 'objects' -%}
        {{ return(ref('int_ticket_quarters__object_digests')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("ticket quarter level must be 'cases' or 'objects', not " ~ level) }}
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

{#- A condition on `column` for the model's body: on an incremental run only the quarters to rebuild. -#}
{% macro ticket_quarters_to_build(level, column='quarter') -%}
    {%- if ticket_quarters_incremental() -%}
        {{ column }} not in {{ ticket_quarters_current(level) }}
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

{#- The configuration of a ticket model built quarter by quarter. -#}
{% macro ticket_quarterly_config(level) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ ticket_quarters_clear('" ~ level ~ "') }}",
        post_hook="{{ ticket_quarters_record('" ~ level ~ "') }}"
    ) }}
{%- endmacro %}
