{#- The city's grids with the names above them: what readers show for a grid code. -#}
with grids as (

    select * from {{ ref('int_areas__grids') }}

),

final as (

    select
        grid_code,
        community_code,
        community,
        street_code,
        street,
        district_code,
        district,
        latitude,
        longitude,
        is_derived
    from grids

)

select * from final
