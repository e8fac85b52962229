{#- One row per class-of-problem ticket per review quarter, with what its reviewer needs to judge it:
    how big and how widespread it is, how it was handled, examples of what residents said, and the dual
    report-in capacity in its area that could take it on.

    Status: `new` (no ticket of this id last quarter), `persisting` (there was), `escalated` (either, but
    at least `ticket_escalate_reopened_cases` member cases were reopened or `ticket_escalate_whistled_cases`
    were whistle-blown, 吹哨), `abated` (a ticket last quarter that no longer qualifies; its case_count is
    what remained of its place and category). -#}
with members as (

    select * from {{ ref('int_problem_classes__members') }}

),

eligible as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

areas as (

    select * from {{ ref('int_areas__grids') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

categories as (

    select * from {{ ref('int_categories__taxonomy') }}

),

sessions as (

    select * from {{ ref('int_volunteer_sessions__conformed') }}

),

activity_categories as (

    select * from {{ ref('activity_categories') }}

),

quarters as (

    select distinct quarter, quarter_index from eligible

),

member_cases as (

    select members.ticket_id, members.area_level, members.area_code, eligible.*
    from members
    inner join eligible on members.case_id = eligible.case_id

),

channel_counts as (

    select ticket_id, quarter, coalesce(channel, '未知') as channel, count(*) as cases
    from member_cases
    where not is_duplicate
    group by ticket_id, quarter, coalesce(channel, '未知')

),

channel_mix as (

    select
        ticket_id,
        quarter,
        {{ dbt.listagg("channel || ' ' || cast(cases as varchar)", "', '", "order by cases desc, channel") }}
            as channel_mix
    from channel_counts
    group by ticket_id, quarter

),

examples as (

    select
        ticket_id,
        quarter,
        {{ dbt.listagg("description", "' | '", "order by received_at, case_id", var('ticket_examples')) }}
            as example_descriptions
    from member_cases
    where not is_duplicate and description is not null
    group by ticket_id, quarter

),

case_summary as (

    select
        ticket_id,
        quarter,
        min(quarter_index) as quarter_index,
        min(area_level) as area_level,
        min(area_code) as area_code,
        min(category_code) as category_code,
        count(case when not is_duplicate then 1 end) as case_count,
        count(case when is_duplicate then 1 end) as duplicate_count,
        count(distinct resident_key) as distinct_residents,
        count(case when not is_duplicate and stream = 'hotline' then 1 end) as hotline_cases,
        count(case when not is_duplicate and stream = 'grid' then 1 end) as grid_cases,
        count(case when not is_duplicate and reopen_count > 0 then 1 end) as reopened_cases,
        sum(case when not is_duplicate then reopen_count else 0 end) as reopenings,
        count(case when not is_duplicate and escalated_at is not null then 1 end) as whistled_cases,
        count(case when not is_duplicate and is_resolved then 1 end) as resolved_cases,
        count(case when not is_duplicate and is_rated then 1 end) as rated_cases,
        count(case when not is_duplicate and is_satisfied then 1 end) as satisfied_cases,
        percentile_cont(0.5) within group (
            order by case when not is_duplicate then
                {{ dbt.datediff('received_at', 'resolved_at', 'minute') }} / 60.0 end
        ) as median_hours_to_resolve,
        min(received_at) as first_seen_at,
        max(received_at) as last_seen_at
    from member_cases
    group by ticket_id, quarter

),

ticket_communities as (

    -- the communities whose reported-in units could take the ticket on
    select distinct case_summary.ticket_id, case_summary.quarter, communities.community_code
    from case_summary
    left join areas
        on case_summary.area_level = 'grid' and case_summary.area_code = areas.grid_code
    inner join communities
        on communities.community_code = case
            when case_summary.area_level = 'grid' then areas.community_code
            when case_summary.area_level = 'community' then case_summary.area_code
        end
        or (case_summary.area_level = 'street' and communities.street_code = case_summary.area_code)

),

capacity_sessions as (

    select
        ticket_communities.ticket_id,
        ticket_communities.quarter,
        sessions.session_id,
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
    inner join case_summary
        on capacity_sessions.ticket_id = case_summary.ticket_id
        and capacity_sessions.quarter = case_summary.quarter
    inner join activity_categories
        on capacity_sessions.activity = activity_categories.activity
        and case_summary.category_code like activity_categories.category_prefix || '%'

),

matching_summary as (

    select
        ticket_id,
        quarter,
        count(*) as matching_sessions,
        {{ dbt.listagg("distinct activity", "', '", "order by activity") }} as matching_activities
    from matching_sessions
    group by ticket_id, quarter

),

capacity as (

    select
        ticket_id,
        quarter,
        count(distinct unit_name) as units_reported_in,
        sum(hours) as volunteer_hours
    from capacity_sessions
    group by ticket_id, quarter

),

previous as (

    select
        case_summary.*,
        lag(quarter_index) over (partition by ticket_id order by quarter_index) as previous_index
    from case_summary

),

active as (

    select
        previous.ticket_id,
        previous.quarter,
        previous.quarter_index,
        previous.area_level,
        previous.area_code,
        previous.category_code,
        previous.case_count,
        case
            when previous.reopened_cases >= {{ var('ticket_escalate_reopened_cases') }}
                or previous.whistled_cases >= {{ var('ticket_escalate_whistled_cases') }}
            then 'escalated'
            when previous.previous_index = previous.quarter_index - 1 then 'persisting'
            else 'new'
        end as status,
        previous.previous_index = previous.quarter_index - 1 as was_ticket_last_quarter,
        previous.duplicate_count,
        previous.distinct_residents,
        previous.hotline_cases,
        previous.grid_cases,
        previous.reopened_cases,
        previous.reopenings,
        previous.whistled_cases,
        previous.resolved_cases,
        previous.rated_cases,
        previous.satisfied_cases,
        previous.median_hours_to_resolve,
        previous.first_seen_at,
        previous.last_seen_at
    from previous

),

place_category_counts as (

    -- what remains of an abated ticket's place and category: cases in the grid, community or street
    select eligible.quarter, 'grid' as area_level, eligible.grid_code as area_code, eligible.category_code,
        count(case when not eligible.is_duplicate then 1 end) as case_count
    from eligible
    where eligible.grid_code is not null
    group by eligible.quarter, eligible.grid_code, eligible.category_code
    union all
    select quarter, 'community', community_code, category_code, count(case when not is_duplicate then 1 end)
    from eligible
    group by quarter, community_code, category_code
    union all
    select quarter, 'street', street_code, category_code, count(case when not is_duplicate then 1 end)
    from eligible
    group by quarter, street_code, category_code

),

abated as (

    select
        last_quarter.ticket_id,
        next_quarter.quarter,
        next_quarter.quarter_index,
        last_quarter.area_level,
        last_quarter.area_code,
        last_quarter.category_code,
        coalesce(remaining.case_count, 0) as case_count,
        'abated' as status,
        true as was_ticket_last_quarter,
        0 as duplicate_count,
        0 as distinct_residents,
        0 as hotline_cases,
        0 as grid_cases,
        0 as reopened_cases,
        0 as reopenings,
        0 as whistled_cases,
        0 as resolved_cases,
        0 as rated_cases,
        0 as satisfied_cases,
        cast(null as double) as median_hours_to_resolve,
        cast(null as timestamp with time zone) as first_seen_at,
        cast(null as timestamp with time zone) as last_seen_at
    from active as last_quarter
    inner join quarters as next_quarter on next_quarter.quarter_index = last_quarter.quarter_index + 1
    left join active as this_quarter
        on last_quarter.ticket_id = this_quarter.ticket_id
        and next_quarter.quarter_index = this_quarter.quarter_index
    left join place_category_counts as remaining
        on next_quarter.quarter = remaining.quarter
        and last_quarter.area_level = remaining.area_level
        and last_quarter.area_code = remaining.area_code
        and last_quarter.category_code = remaining.category_code
    where this_quarter.ticket_id is null

),

all_rows as (

    select * from active
    union all
    select * from abated

),

area_names as (

    select grid_code as area_code, community || ' ' || grid_code as area_name from areas
    union all
    select community_code, street || community from communities
    union all
    select distinct street_code, district || street from communities

),

final as (

    select
        -- ids and place
        all_rows.ticket_id,
        all_rows.quarter,
        all_rows.area_level,
        all_rows.area_code,
        area_names.area_name,
        all_rows.category_code,
        categories.level1 || '/' || categories.level2 || '/' || categories.level3 as category_path,

        -- verdict
        all_rows.status,
        all_rows.was_ticket_last_quarter,

        -- size and reach
        cast(all_rows.case_count as bigint) as case_count,
        cast(all_rows.duplicate_count as bigint) as duplicate_count,
        cast(all_rows.distinct_residents as bigint) as distinct_residents,
        cast(all_rows.hotline_cases as bigint) as hotline_cases,
        cast(all_rows.grid_cases as bigint) as grid_cases,
        -- an abated ticket has no members: its shares and rates are unknown, not zero
        case when all_rows.case_count > 0 and all_rows.status <> 'abated'
            then round(1.0 * all_rows.hotline_cases / all_rows.case_count, 3) end as hotline_share,
        case when all_rows.case_count > 0 and all_rows.status <> 'abated'
            then round(1.0 * all_rows.grid_cases / all_rows.case_count, 3) end as grid_share,
        channel_mix.channel_mix,

        -- handling
        cast(all_rows.reopened_cases as bigint) as reopened_cases,
        cast(all_rows.reopenings as bigint) as reopenings,
        cast(all_rows.whistled_cases as bigint) as whistled_cases,
        case when all_rows.case_count > 0 and all_rows.status <> 'abated'
            then round(1.0 * all_rows.resolved_cases / all_rows.case_count, 3) end as resolution_rate,
        case when all_rows.rated_cases > 0
            then round(1.0 * all_rows.satisfied_cases / all_rows.rated_cases, 3) end as satisfaction_rate,
        round(all_rows.median_hours_to_resolve, 1) as median_hours_to_resolve,
        all_rows.first_seen_at,
        all_rows.last_seen_at,
        examples.example_descriptions,

        -- dual report-in capacity in the area this quarter
        cast(coalesce(capacity.units_reported_in, 0) as bigint) as units_reported_in,
        round(coalesce(capacity.volunteer_hours, 0), 1) as volunteer_hours,
        cast(coalesce(matching_summary.matching_sessions, 0) as bigint) as matching_sessions,
        matching_summary.matching_activities

    from all_rows
    left join area_names on all_rows.area_code = area_names.area_code
    left join categories on all_rows.category_code = categories.category_code
    left join channel_mix
        on all_rows.ticket_id = channel_mix.ticket_id and all_rows.quarter = channel_mix.quarter
    left join examples on all_rows.ticket_id = examples.ticket_id and all_rows.quarter = examples.quarter
    left join capacity on all_rows.ticket_id = capacity.ticket_id and all_rows.quarter = capacity.quarter
    left join matching_summary
        on all_rows.ticket_id = matching_summary.ticket_id and all_rows.quarter = matching_summary.quarter

)

select * from final
