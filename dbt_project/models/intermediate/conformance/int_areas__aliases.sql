{#- Other names operators type for a place (traditional characters, typos, full official names), keyed
    by their normalised form and pointing at the normalised reference name, per level. -#}
with aliases as (

    select * from {{ ref('area_aliases') }}

),

final as (

    select distinct
        level,
        case level
            when 'community' then {{ normalise_place('alias', 'community') }}
            when 'street' then {{ normalise_place('alias', 'street') }}
            else {{ normalise_place('alias', 'district') }}
        end as alias_key,
        case level
            when 'community' then {{ normalise_place('name', 'community') }}
            when 'street' then {{ normalise_place('name', 'street') }}
            else {{ normalise_place('name', 'district') }}
        end as name_key
    from aliases

)

select * from final
