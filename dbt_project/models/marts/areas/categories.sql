{#- The city's third-level categories with the levels above them: what readers show for a category code. -#}
with taxonomy as (

    select * from {{ ref('int_categories__taxonomy') }}

),

final as (

    select
        category_code,
        level1,
        level2,
        level3,
        is_place_bound,
        aliases,
        is_derived
    from taxonomy

)

select * from final
