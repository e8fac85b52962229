{#- Volunteer sessions placed in the community they reported in to, by its typed names (normalised and
    read through the area aliases as for cases); a session whose community cannot be matched keeps its names and a flag. -#}
with sessions as (

    select * from {{ ref('int_volunteer_sessions__folded') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

best as (

    {{ community_by_typed_names('sessions', 'session_id') }}

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
