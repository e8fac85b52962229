{#- A readable name for every area a ticket can be held by, from the names the cases themselves carry
    (so a city with no area reference loaded still reads its tickets): a grid as its community and code,
    a community as its street and name, a street as its district and name, a district by its name. -#}
with eligible as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

named as (

    select 'grid' as area_level, grid_code as area_code,
        coalesce(community_name || ' ', '') || grid_code as area_name
    from eligible where grid_code is not null
    union all
    select 'community', community_code, coalesce(street_name, '') || coalesce(community_name, community_code)
    from eligible where community_code is not null
    union all
    select 'street', street_code, coalesce(district_name, '') || coalesce(street_name, street_code)
    from eligible where street_code is not null
    union all
    select 'district', district_code, coalesce(district_name, district_code)
    from eligible where district_code is not null

),

counted as (

    select area_level, area_code, area_name, count(*) as cases
    from named
    group by area_level, area_code, area_name

),

final as (

    -- the name most cases give the area (counted first: Spark's qualify takes no aggregate of its own)
    select area_level, area_code, area_name
    from counted
    {{ qualify_rows("row_number() over (partition by area_level, area_code order by cases desc, area_name) = 1") }}

)

select * from final
