{#- Each place-bound case's Chinese address without the case's own area names, with its quarter and
    community: what int_ticket_quarters__address_starts counts the quarter's common start from (the same
    reduction int_ticket_cases__eligible makes, before it takes that start off).

    Built case by case (macros/ticket_quarters.sql): a night computes only its new and changed cases. -#}
{{ ticket_per_case_config('case') }}

with cases as (

    select case_id, received_at, address, community_code, {{ ticket_area_name_columns() | join(', ') }}
    from {{ ref('int_cases__service_levels') }}
    where coalesce(is_place_bound, true) and {{ is_chinese('address') }} and {{ ticket_cases_to_build('case') }}

),

final as (

    select
        case_id,
        {{ quarter_label(to_local('received_at')) }} as quarter,
        community_code,
        {{ without_case_areas(strip_boilerplate('address')) }} as arealess_address
    from cases

)

select * from final
{{ in_quarter_order() }}
