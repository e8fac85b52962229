{#- Volunteer sessions placed in the community they reported in to, by its typed names (normalised and
    read through the area aliases as for cases); a session whose community cannot be matched keeps its names and a flag. -#}
with sessions as (

    select * from {{ ref('int_volunteer_sessions__folded') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

place_aliases as (

    select * from {{ ref('int_areas__aliases') }}

),

typed_keys as (

    select
        session_id,
        {{ normalise_place('community_name', 'community') }} as community_key,
        {{ normalise_place('street_name', 'street') }} as street_key,
        {{ normalise_place('district_name', 'district') }} as district_key
    from sessions

),

typed_names as (

    select
        typed_keys.session_id,
        coalesce(community_alias.name_key, typed_keys.community_key) as community_key,
        coalesce(street_alias.name_key, typed_keys.street_key) as street_key,
        coalesce(district_alias.name_key, typed_keys.district_key) as district_key
    from typed_keys
    left join place_aliases as community_alias
        on community_alias.level = 'community' and typed_keys.community_key = community_alias.alias_key
    left join place_aliases as street_alias
        on street_alias.level = 'street' and typed_keys.street_key = street_alias.alias_key
    left join place_aliases as district_alias
        on district_alias.level = 'district' and typed_keys.district_key = district_alias.alias_key

),

candidates as (

    select
        typed_names.session_id,
        communities.community_code,
        case when typed_names.street_key = communities.street_key then 2 else 0 end
            + case when typed_names.district_key = communities.district_key then 1 else 0 end as agreement,
        (typed_names.street_key is not null and typed_names.street_key <> communities.street_key)
            or (typed_names.district_key is not null and typed_names.district_key <> communities.district_key)
            as contradicts
    from typed_names
    inner join communities on typed_names.community_key = communities.community_key

),

best as (

    select session_id, community_code, count(*) over (partition by session_id, agreement) as tied
    from candidates
    where not contradicts
    qualify rank() over (partition by session_id order by agreement desc) = 1

),

final as (

    select
        sessions.*,
        communities.community_code,
        coalesce(communities.community, sessions.community_name) as community,
        communities.street_code,
        coalesce(communities.street, sessions.street_name) as street,
        communities.district_code,
        coalesce(communities.district, sessions.district_name) as district,
        communities.community_code is null as is_unplaced,
        {{ quarter_label(to_local('sessions.checked_in_at')) }} as quarter
    from sessions
    left join best on sessions.session_id = best.session_id and best.tied = 1
    left join communities on best.community_code = communities.community_code

)

select * from final
