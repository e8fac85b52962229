{#- The city's communities with their street and district: what readers show for a community code. -#}
with communities as (

    select * from {{ ref('int_areas__communities') }}

),

final as (

    select
        community_code,
        community,
        street_code,
        street,
        district_code,
        district,
        is_derived
    from communities

)

select * from final
