{#- A digest per quarter of everything the ticket models read of the quarter's cases: a quarter whose
    digest is unchanged since a ticket model last built it (with the same settings) is not rebuilt (see
    the ticket_quarters macros). -#}
with fingerprints as (

    select * from {{ ref('int_ticket_cases__fingerprints') }}

),

final as (

    -- the sum of the cases' 64-bit fingerprints (in any order, so no sort of a quarter's cases) and their
    -- count: a case added, removed or changed changes it
    select quarter, cast(count(*) as {{ dbt.type_string() }}) || ':' || cast(sum(cast(fingerprint as {{ type_wide_integer() }})) as {{ dbt.type_string() }}) as digest
    from fingerprints
    group by quarter

)

select * from final
