{#- Volunteer sessions placed in the community they reported in to, by its typed names (normalised and
    read through the area aliases as for cases); a session whose community cannot be matched keeps its
    names and a flag. Incremental: a night places the sessions its batches changed, and every session
    when the conformance tables changed (see `incremental_since`). -#}
{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook="{{ remember_incremental_build(conformance=true) }}"
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with sessions as (

    select * from {{ ref('int_volunteer_sessions__folded') }}
    where {{ changed_since(since) }}

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
