{#- The city's list of which volunteer activities take on which categories, as imported, trimmed. -#}
with source as (

    select * from {{ source('gridline_reference', 'activities') }}

),

final as (

    select
        trim(activity) as activity,
        trim(category_prefix) as category_prefix
    from source

)

select * from final
