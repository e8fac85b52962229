{#- A digest per quarter of everything the ticket models read of the quarter's cases (`ticket_case_columns`):
    a quarter whose digest is unchanged since a ticket model last built it (with the same settings) is not
    rebuilt (see the ticket_quarters macros). -#}
with cases as (

    select {{ ticket_case_columns() | join(', ') }}
    from {{ ref('int_cases__service_levels') }}

),

fingerprinted as (

    select
        {{ quarter_label(to_local('received_at')) }} as quarter,
        hash({{ ticket_case_columns() | join(', ') }}) as fingerprint
    from cases

),

final as (

    -- the sum of the cases' 64-bit hashes (in any order, so no sort of a quarter's cases) and their count:
    -- a case added, removed or changed changes it
    select quarter, cast(count(*) as varchar) || ':' || cast(sum(cast(fingerprint as hugeint)) as varchar) as digest
    from fingerprinted
    group by quarter

)

select * from final
