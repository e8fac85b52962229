{#- The city's category taxonomy as imported; aliases split into a list. -#}
with source as (

    select * from {{ source('gridline_reference', 'categories') }}

),

final as (

    select
        trim(code) as category_code,
        trim(level1) as level1,
        trim(level2) as level2,
        trim(level3) as level3,
        is_place_bound,
        {{ split_trimmed_list("coalesce(aliases, '')", '|', 'alias') }} as aliases
    from source

)

select * from final
