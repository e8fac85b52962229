{#- One row per community of the area reference, with the normalised names that typed names are matched
    on. -#}
with areas as (

    select * from {{ ref('areas') }}

),

communities as (

    select distinct community_code, community, street_code, street, district_code, district
    from areas

),

final as (

    select
        *,
        {{ normalise_place('community', 'community') }} as community_key,
        {{ normalise_place('street', 'street') }} as street_key,
        {{ normalise_place('district', 'district') }} as district_key
    from communities

)

select * from final
