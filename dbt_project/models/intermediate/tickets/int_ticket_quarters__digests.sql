{#- A digest per quarter of everything the ticket models read of the quarter's cases (`ticket_case_columns`):
    a quarter whose digest is unchanged since a ticket model last built it is not rebuilt (see the
    ticket_quarters macros). -#}
with cases as (

    select {{ ticket_case_columns() | join(', ') }}
    from {{ ref('int_cases__service_levels') }}

),

fingerprinted as (

    select
        {{ quarter_label(to_local('received_at')) }} as quarter,
        case_id,
        md5(cast(struct_pack({{ ticket_case_columns() | join(', ') }}) as varchar)) as fingerprint
    from cases

),

final as (

    select quarter, md5(string_agg(fingerprint, '' order by case_id)) as digest
    from fingerprinted
    group by quarter

)

select * from final
