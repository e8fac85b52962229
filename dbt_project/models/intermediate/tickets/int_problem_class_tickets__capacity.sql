{#- The dual report-in (双报到) capacity beside each active ticket in its quarter: the units that logged
    volunteer sessions in the communities its member cases are in, their hours, and the sessions whose
    activity matches the problem's category (the city's reference list `stg_reference__activities`). -#}
with summary as (

    select * from {{ ref('int_problem_class_tickets__summary') }}

),

members as (

    select * from {{ ref('int_problem_classes__members') }}

),

eligible as (

    select case_id, community_code from {{ ref('int_ticket_cases__eligible') }}

),

sessions as (

    select * from {{ ref('int_volunteer_sessions__conformed') }}

),

activity_categories as (

    select * from {{ ref('stg_reference__activities') }}

),

ticket_communities as (

    select distinct members.ticket_id, members.quarter, eligible.community_code
    from members
    inner join eligible on members.case_id = eligible.case_id
    where eligible.community_code is not null

),

capacity_sessions as (

    select
        ticket_communities.ticket_id,
        ticket_communities.quarter,
        sessions.session_id,
        sessions.member_key,
        sessions.unit_name,
        sessions.hours,
        sessions.activity
    from ticket_communities
    inner join sessions
        on ticket_communities.community_code = sessions.community_code
        and ticket_communities.quarter = sessions.quarter

),

matching_sessions as (

    select distinct capacity_sessions.ticket_id, capacity_sessions.quarter, capacity_sessions.session_id,
        capacity_sessions.activity
    from capacity_sessions
    inner join summary
        on capacity_sessions.ticket_id = summary.ticket_id
        and capacity_sessions.quarter = summary.quarter
    inner join activity_categories
        on capacity_sessions.activity = activity_categories.activity
        and summary.category_code like activity_categories.category_prefix || '%'

),

matching_summary as (

    select
        ticket_id,
        quarter,
        count(*) as matching_sessions,
        {{ ordered_listagg("distinct activity", "', '", "order by activity") }} as matching_activities
    from matching_sessions
    group by ticket_id, quarter

),

capacity as (

    select
        ticket_id,
        quarter,
        count(distinct unit_name) as units_reported_in,
        count(distinct member_key) as volunteer_members,
        count(distinct session_id) as volunteer_sessions,
        sum(hours) as volunteer_hours
    from capacity_sessions
    group by ticket_id, quarter

),

unit_hours as (

    select ticket_id, quarter, unit_name, {{ round_places('sum(hours)', 1) }} as hours
    from capacity_sessions
    where unit_name is not null
    group by ticket_id, quarter, unit_name

),

top_units as (

    select
        ticket_id,
        quarter,
        {{ ordered_listagg("unit_name || ' ' || cast(hours as " ~ dbt.type_string() ~ ")", "', '", "order by hours desc, unit_name", var('capacity_top_entries')) }}
            as top_units
    from unit_hours
    group by ticket_id, quarter

),

activity_hours as (

    select ticket_id, quarter, activity, {{ round_places('sum(hours)', 1) }} as hours
    from capacity_sessions
    where activity is not null
    group by ticket_id, quarter, activity

),

top_activities as (

    select
        ticket_id,
        quarter,
        {{ ordered_listagg("activity || ' ' || cast(hours as " ~ dbt.type_string() ~ ")", "', '", "order by hours desc, activity", var('capacity_top_entries')) }}
            as top_activities
    from activity_hours
    group by ticket_id, quarter

),

final as (

    select
        capacity.ticket_id,
        capacity.quarter,
        capacity.units_reported_in,
        capacity.volunteer_members,
        capacity.volunteer_sessions,
        capacity.volunteer_hours,
        coalesce(matching_summary.matching_sessions, 0) as matching_sessions,
        matching_summary.matching_activities,
        top_units.top_units,
        top_activities.top_activities
    from capacity
    left join matching_summary
        on capacity.ticket_id = matching_summary.ticket_id and capacity.quarter = matching_summary.quarter
    left join top_units on capacity.ticket_id = top_units.ticket_id and capacity.quarter = top_units.quarter
    left join top_activities
        on capacity.ticket_id = top_activities.ticket_id and capacity.quarter = top_activities.quarter

)

select * from final
