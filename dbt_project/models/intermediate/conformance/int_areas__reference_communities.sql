{#- The reference's communities, each with its street and district (when the reference has them) and the
    normalised names typed names are matched on. -#}
with areas as (

    select * from {{ ref('stg_reference__areas') }}

),

communities as (

    select * from areas where level = 'community'

),

streets as (

    select * from areas where level = 'street'

),

districts as (

    select * from areas where level = 'district'

),

final as (

    select
        communities.area_code as community_code,
        communities.name as community,
        streets.area_code as street_code,
        streets.name as street,
        districts.area_code as district_code,
        districts.name as district,
        {{ normalise_place('communities.name', 'community') }} as community_key,
        {{ normalise_place('streets.name', 'street') }} as street_key,
        {{ normalise_place('districts.name', 'district') }} as district_key
    from communities
    left join streets on communities.parent_code = streets.area_code
    left join districts on streets.parent_code = districts.area_code

)

select * from final
