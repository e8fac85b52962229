{#- The city's third-level categories: the reference's or, when no taxonomy was imported, the category
    paths the exports carry (`is_derived`), each its own category coded by its path, with its segments
    as levels (a taxonomy is the authority: a path it does not know is flagged unclassified). Whether a derived category is place-bound is unknown (null). -#}
with reference_categories as (

    select * from {{ ref('stg_reference__categories') }}

),

cases as (

    select * from {{ ref('int_cases__folded') }}

),

submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}

),

paths as (

    select category_path from cases
    union
    select category_path from submissions where kind = 'issue'

),

unknown_paths as (

    select distinct {{ category_path_key('category_path') }} as path_key
    from paths
    where {{ category_path_key('category_path') }} is not null
        and not exists (select 1 from reference_categories)

),

derived as (

    select
        path_key as category_code,
        {{ list_item('segments', 1) }} as level1,
        {{ list_item('segments', 'greatest(' ~ list_length('segments') ~ ' - 1, 1)') }} as level2,
        {{ list_item('segments', list_length('segments')) }} as level3,
        cast(null as boolean) as is_place_bound,
        {{ empty_string_list() }} as aliases,
        true as is_derived
    from (select path_key, {{ split_list('path_key', '/') }} as segments from unknown_paths)

),

final as (

    select *, false as is_derived from reference_categories
    union all
    select * from derived

)

select * from final
