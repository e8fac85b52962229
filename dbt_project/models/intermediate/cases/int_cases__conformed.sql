{#- Cases placed in the area hierarchy and the category taxonomy.
    Operators type place names by hand and grids are often blank, so a case is placed by its grid code
    when that is known, otherwise by its (district, street, community) names. Whatever cannot be placed
    or classified is kept, with null codes and a flag, never dropped. -#}
with cases as (

    select * from {{ ref('int_hotline_cases__folded') }}

),

areas as (

    select * from {{ ref('areas') }}

),

categories as (

    select * from {{ ref('categories') }}

),

communities as (

    select distinct community_code, community, street_code, street, district_code, district
    from areas

),

category_names as (

    select category_code, level3 as name from categories
    union
    select category_code, trim(alias.name) as name
    from categories, unnest(string_split(coalesce(aliases, ''), '|')) as alias(name)
    where trim(alias.name) <> ''

),

with_leaf as (

    select
        *,
        trim(regexp_extract(category_path, '([^/]+)$', 1)) as category_leaf
    from cases

),

placed as (

    select
        with_leaf.*,
        coalesce(by_grid.grid_code, null) as grid_code,
        coalesce(by_grid.community_code, by_name.community_code) as community_code,
        coalesce(by_grid.street_code, by_name.street_code) as street_code,
        coalesce(by_grid.district_code, by_name.district_code) as district_code,
        coalesce(by_grid.community, by_name.community, with_leaf.community_name) as community,
        coalesce(by_grid.street, by_name.street, with_leaf.street_name) as street,
        coalesce(by_grid.district, by_name.district, with_leaf.district_name) as district
    from with_leaf
    left join areas as by_grid
        on with_leaf.grid_code_raw = by_grid.grid_code
    left join communities as by_name
        on by_grid.grid_code is null
        and replace(with_leaf.community_name, ' ', '') = by_name.community
        and replace(with_leaf.street_name, ' ', '') = by_name.street
        and replace(with_leaf.district_name, ' ', '') = by_name.district

),

classified as (

    select
        placed.*,
        category_names.category_code
    from placed
    left join category_names on placed.category_leaf = category_names.name

),

final as (

    select
        *,
        community_code is null as is_unplaced,
        category_code is null as is_unclassified
    from classified

)

select * from final
