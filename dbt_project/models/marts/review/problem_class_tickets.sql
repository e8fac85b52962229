{#- One row per class-of-problem ticket per review quarter, with what its reviewer needs to judge it:
    where (the named place and the smallest area holding it), what and why (category and the words its
    members share), how big and widespread, how it was handled, examples of what residents said, its
    status, and the dual report-in capacity beside it. Each part is built in its own intermediate model;
    an abated ticket reads its place, area and category from the quarter it was last active. -#}
with status as (

    select * from {{ ref('int_problem_class_tickets__status') }}

),

summary as (

    select * from {{ ref('int_problem_class_tickets__summary') }}

),

capacity as (

    select * from {{ ref('int_problem_class_tickets__capacity') }}

),

area_names as (

    select * from {{ ref('int_problem_class_tickets__area_names') }}

),

described as (

    -- the quarter's own summary, or, for an abated ticket, that of the last quarter it was active
    select status.*, {{ star_except('summary', ['ticket_id', 'quarter', 'case_count']) }}
    from status
    inner join summary
        on status.ticket_id = summary.ticket_id and status.described_by_quarter = summary.quarter

),

final as (

    select
        -- ids and place
        described.ticket_id,
        described.quarter,
        described.area_level,
        described.area_code,
        area_names.area_name,
        described.place_kind,
        described.place_name,
        described.category_code,
        described.category_path,
        described.shared_words,

        -- verdict
        described.status,
        described.was_ticket_last_quarter,

        -- size and reach; an abated ticket has no members: its counts are zero, its shares and rates
        -- unknown, not zero
        cast(described.case_count as bigint) as case_count,
        {% for column in ['duplicate_count', 'distinct_residents', 'hotline_cases', 'grid_cases'] -%}
        cast(case when described.status = 'abated' then 0 else described.{{ column }} end as bigint) as {{ column }},
        {% endfor -%}
        case when described.status <> 'abated' and described.case_count > 0
            then {{ round_places('cast(described.hotline_cases as double) / described.case_count', 3) }} end as hotline_share,
        case when described.status <> 'abated' and described.case_count > 0
            then {{ round_places('cast(described.grid_cases as double) / described.case_count', 3) }} end as grid_share,
        case when described.status <> 'abated' then described.channel_mix end as channel_mix,

        -- handling
        {% for column in ['reopened_cases', 'reopenings', 'whistled_cases', 'reopened_or_whistled_cases',
                          'dissatisfied_cases', 'prior_active_quarters'] -%}
        cast(case when described.status = 'abated' then 0 else described.{{ column }} end as bigint) as {{ column }},
        {% endfor -%}
        case when described.status <> 'abated' and described.case_count > 0
            then {{ round_places('cast(described.resolved_cases as double) / described.case_count', 3) }} end as resolution_rate,
        case when described.status <> 'abated' and described.rated_cases > 0
            then {{ round_places('cast(described.satisfied_cases as double) / described.rated_cases', 3) }} end as satisfaction_rate,
        case when described.status <> 'abated' then {{ round_places('described.median_hours_to_resolve', 1) }} end
            as median_hours_to_resolve,
        case when described.status <> 'abated' then described.first_seen_at end as first_seen_at,
        case when described.status <> 'abated' then described.last_seen_at end as last_seen_at,
        case when described.status <> 'abated' then described.example_descriptions end as example_descriptions,

        -- dual report-in capacity in the area this quarter
        cast(coalesce(capacity.units_reported_in, 0) as bigint) as units_reported_in,
        {{ round_places('coalesce(capacity.volunteer_hours, 0)', 1) }} as volunteer_hours,
        cast(coalesce(capacity.matching_sessions, 0) as bigint) as matching_sessions,
        capacity.matching_activities,
        cast(coalesce(capacity.volunteer_members, 0) as bigint) as volunteer_members,
        cast(coalesce(capacity.volunteer_sessions, 0) as bigint) as volunteer_sessions,
        capacity.top_units,
        capacity.top_activities

    from described
    left join area_names
        on described.area_level = area_names.area_level and described.area_code = area_names.area_code
    left join capacity on described.ticket_id = capacity.ticket_id and described.quarter = capacity.quarter

)

select * from final
