{#- The city's areas as imported; aliases split into a list. -#}
with source as (

    select * from {{ source('gridline_reference', 'areas') }}

),

final as (

    select
        trim(code) as area_code,
        trim(name) as name,
        lower(trim(level)) as level,
        nullif(trim(parent_code), '') as parent_code,
        {{ split_trimmed_list("coalesce(aliases, '')", '|', 'alias') }} as aliases,
        lat as latitude,
        lon as longitude
    from source

)

select * from final
