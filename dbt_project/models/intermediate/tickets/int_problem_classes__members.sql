{#- Which cases form a class of problem in each quarter: the same category in the same grid, at least
    `ticket_min_cases` of them. A case has one category and one grid, so it joins at most one class. -#}
with cases as (

    select * from {{ ref('cases') }}
    where category_code is not null and grid_code is not null

),

grouped as (

    select
        *,
        count(*) over (partition by quarter, category_code, grid_code) as class_size
    from cases

),

members as (

    select
        'T' || left(md5('grid:' || grid_code || ':' || category_code), 12) as ticket_id,
        quarter,
        'grid' as area_level,
        grid_code as area_code,
        category_code,
        case_id
    from grouped
    where class_size >= {{ var('ticket_min_cases') }}

)

select * from members
