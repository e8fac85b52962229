{#- One row per grid of the city with its community, street and district: the reference's grids, and
    when the reference lists no grids, the grid codes the exports carry (`is_derived`: a 网格 column, a
    mapping's grid codes or `grid_cell` cells), placed in the community named most often with that grid
    code: by the typed names of cases, or in the addresses of grid workers' submissions (which name no
    area in columns of their own), when one community's full name, with its street's and district's if
    known, is written in it. -#}
with reference_areas as (

    select * from {{ ref('stg_reference__areas') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

cases as (

    select * from {{ ref('int_cases__folded') }}

),

submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}

),

reference_grids as (

    select area_code as grid_code, parent_code as community_code, latitude, longitude
    from reference_areas
    where level = 'grid'

),

typed_with_grid as (

    select case_id, trim(grid_code_raw) as grid_code, district_name, street_name, community_name
    from cases
    where nullif(trim(grid_code_raw), '') is not null
        and not exists (select 1 from reference_grids)

),

named as (

    {{ community_by_typed_names('typed_with_grid', 'case_id') }}

),

addresses_with_grid as (

    -- a few addresses per grid suffice to read its community (and keep the name search small)
    select grid_code, address
    from (
        select distinct trim(grid_code_raw) as grid_code, address
        from submissions
        where nullif(trim(grid_code_raw), '') is not null
            and address is not null
            and not exists (select 1 from reference_grids)
    )
    {{ qualify_rows("row_number() over (partition by grid_code order by address) <= 5") }}

),

written as (

    -- the communities whose full names an address writes; a longer name (太平白沙社区) wins over one it
    -- contains (白沙社区), and a written street or district name counts for more
    select addresses_with_grid.grid_code, addresses_with_grid.address, communities.community_code
    from addresses_with_grid
    inner join communities
        on contains(addresses_with_grid.address, communities.community)
        and (communities.street is null or contains(addresses_with_grid.address, communities.street))
        and (communities.district is null or contains(addresses_with_grid.address, communities.district))
    {{ qualify_rows("rank() over (
        partition by addresses_with_grid.grid_code, addresses_with_grid.address
        order by length(communities.community) desc
    ) = 1
        and count(*) over (
            partition by addresses_with_grid.grid_code, addresses_with_grid.address,
                length(communities.community)
        ) = 1") }}

),

grid_named as (

    select typed_with_grid.grid_code, named.community_code
    from typed_with_grid
    inner join named on typed_with_grid.case_id = named.case_id and named.tied = 1
    union all
    select grid_code, community_code from written

),

grid_community_mentions as (

    select grid_code, community_code, count(*) as mentions
    from grid_named
    group by grid_code, community_code

),

{#- the count is a column before the window reads it: Spark's qualify takes no aggregate of its own -#}
grid_communities as (

    select grid_code, community_code
    from grid_community_mentions
    {{ qualify_rows("row_number() over (partition by grid_code order by mentions desc, community_code) = 1") }}

),

unknown_codes as (

    select distinct trim(grid_code_raw) as grid_code from cases where nullif(trim(grid_code_raw), '') is not null
    union
    select distinct trim(grid_code_raw) from submissions where nullif(trim(grid_code_raw), '') is not null

),

derived_grids as (

    select
        unknown_codes.grid_code,
        grid_communities.community_code,
        cast(null as double) as latitude,
        cast(null as double) as longitude
    from unknown_codes
    left join grid_communities on unknown_codes.grid_code = grid_communities.grid_code
    -- a reference that lists grids is the authority on them: a code it does not know is no grid
    where not exists (select 1 from reference_grids)

),

grids as (

    select *, false as is_derived from reference_grids
    union all
    select *, true as is_derived from derived_grids

),

final as (

    select
        grids.grid_code,
        grids.community_code,
        communities.community,
        communities.street_code,
        communities.street,
        communities.district_code,
        communities.district,
        grids.latitude,
        grids.longitude,
        grids.is_derived
    from grids
    left join communities on grids.community_code = communities.community_code

)

select * from final
