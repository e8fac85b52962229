{#- Each case's fingerprint: a 64-bit hash of everything the ticket models read of it (`ticket_case_columns`)
    and of the settings given on the command line. A case whose fingerprint is unchanged since a per-case
    ticket model last computed it is not computed again (`ticket_per_case_config` in
    macros/ticket_quarters.sql); a quarter's digest is its cases' fingerprints summed.

    Incremental: those columns are the conformed case's, so a night hashes the cases its batches changed,
    and every case when the conformance tables or the settings changed (see `incremental_since`). -#}
{{ case_model_config(settings=true) }}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true, settings=ticket_settings_text()) %}

with cases as (

    select {{ ticket_case_columns() | join(', ') }}
    from {{ ref('int_cases__service_levels') }}
    where {{ changed_since(since) }}

),

final as (

    select
        case_id,
        {{ quarter_label(to_local('received_at')) }} as quarter,
        hash({{ ticket_case_columns() | join(', ') }}, {{ dbt.string_literal(ticket_settings_text()) }}) as fingerprint
    from cases

)

select * from final
{{ in_quarter_order() }}
