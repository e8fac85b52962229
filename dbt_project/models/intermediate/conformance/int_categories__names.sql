{#- The names a category is known by — its third-level name, then its aliases — one category per name:
    a name that is both one category's own and another's alias means the former. -#}
with categories as (

    select * from {{ ref('stg_reference__categories') }}

),

name_list as (

    select category_code, level3 as name, 1 as preference from categories
    union all
    select categories.category_code, alias.name, 2 as preference
    from categories {{ unnest_join('categories.aliases', 'alias', 'name') }}

),

final as (

    select category_code, name
    from name_list
    {{ qualify_rows("row_number() over (partition by name order by preference, category_code) = 1") }}

)

select * from final
