{#- Volunteer sessions placed in the community they reported in to, by its typed names (normalised as
    for cases); a session whose community cannot be matched keeps its names and a flag. -#}
with sessions as (

    select * from {{ ref('int_volunteer_sessions__folded') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

candidates as (

    select
        sessions.session_id,
        communities.community_code,
        case when {{ normalise_place('sessions.street_name', 'street') }} = communities.street_key then 2 else 0 end
            + case when {{ normalise_place('sessions.district_name', 'district') }} = communities.district_key
                then 1 else 0 end as agreement
    from sessions
    inner join communities
        on {{ normalise_place('sessions.community_name', 'community') }} = communities.community_key

),

best as (

    select session_id, community_code, count(*) over (partition by session_id, agreement) as tied
    from candidates
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
