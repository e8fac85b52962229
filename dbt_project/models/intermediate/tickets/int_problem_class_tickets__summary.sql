{#- What each ticket holds in each quarter it is active: its place, area and category, why its members
    belong together, how big and widespread it is, how its cases were handled, and examples of what
    residents said. -#}
with tickets as (

    select * from {{ ref('int_problem_classes__tickets') }}

),

profiles as (

    select * from {{ ref('int_problem_classes__profiles') }}

),

members as (

    select * from {{ ref('int_problem_classes__members') }}

),

eligible as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

handling as (

    -- how each case was handled changes every day, so it is read from the cases themselves, not from
    -- int_ticket_cases__eligible (rebuilt only when a quarter's cases change)
    select case_id, reopen_count, escalated_at, is_resolved, is_rated, is_satisfied, resolved_at
    from {{ ref('int_cases__service_levels') }}

),

member_cases as (

    -- in the ticket's quarter: a slow problem's class also lists last quarter's cases it carries
    select members.ticket_id, members.quarter, {{ star_except('eligible', ['quarter']) }}, {{ star_except('handling', ['case_id']) }}
    from members
    inner join eligible on members.case_id = eligible.case_id
    inner join handling on members.case_id = handling.case_id

),

shared_words as (

    select
        cluster_id,
        {{ ordered_listagg('term', "' '", 'order by member_count desc, ' ~ round_places('weight', 9) ~ ' desc, term', var('ticket_reason_terms')) }}
            as shared_words
    from profiles
    where member_count >= 2
    group by cluster_id

),

category_paths as (

    -- the count in the select: Spark's qualify takes no aggregate of its own
    select ticket_id, quarter, category_path, count(*) as path_cases
    from member_cases
    where category_path is not null
    group by ticket_id, quarter, category_path
    {{ qualify_rows("row_number() over (partition by ticket_id, quarter order by path_cases desc, category_path) = 1") }}

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
        {{ ordered_listagg("channel || ' ' || cast(cases as " ~ dbt.type_string() ~ ")", "', '", "order by cases desc, channel") }}
            as channel_mix
    from channel_counts
    group by ticket_id, quarter

),

examples as (

    select
        ticket_id,
        quarter,
        {{ ordered_listagg("description", "' | '", "order by received_at, case_id", var('ticket_examples')) }}
            as example_descriptions
    from member_cases
    where not is_duplicate and description is not null
    group by ticket_id, quarter

),

case_counts as (

    select
        ticket_id,
        quarter,
        count(case when not is_duplicate then 1 end) as case_count,
        count(case when is_duplicate then 1 end) as duplicate_count,
        count(distinct resident_key) as distinct_residents,
        count(case when not is_duplicate and stream = 'hotline' then 1 end) as hotline_cases,
        count(case when not is_duplicate and stream = 'grid' then 1 end) as grid_cases,
        count(case when not is_duplicate and reopen_count > 0 then 1 end) as reopened_cases,
        sum(case when not is_duplicate then reopen_count else 0 end) as reopenings,
        count(case when not is_duplicate and escalated_at is not null then 1 end) as whistled_cases,
        count(case when not is_duplicate and (reopen_count > 0 or escalated_at is not null) then 1 end)
            as reopened_or_whistled_cases,
        count(case when not is_duplicate and is_resolved then 1 end) as resolved_cases,
        count(case when not is_duplicate and is_rated then 1 end) as rated_cases,
        count(case when not is_duplicate and is_satisfied then 1 end) as satisfied_cases,
        count(case when not is_duplicate and is_rated and not is_satisfied then 1 end) as dissatisfied_cases,
        percentile_cont(0.5) within group (
            order by case when not is_duplicate then
                cast({{ minutes_between('received_at', 'resolved_at') }} as double) / 60 end
        ) as median_hours_to_resolve,
        min(received_at) as first_seen_at,
        max(received_at) as last_seen_at
    from member_cases
    group by ticket_id, quarter

),

active_runs as (

    -- quarters in a row share one run: the quarter's index less its rank among the ticket's quarters
    select
        ticket_id,
        quarter,
        quarter_index,
        quarter_index - row_number() over (partition by ticket_id order by quarter_index) as run_id
    from tickets

),

prior_active as (

    select
        ticket_id,
        quarter,
        row_number() over (partition by ticket_id, run_id order by quarter_index) - 1 as prior_active_quarters
    from active_runs

),

final as (

    select
        tickets.ticket_id,
        tickets.quarter,
        tickets.quarter_index,
        tickets.cluster_id,
        tickets.area_level,
        tickets.area_code,
        tickets.place_kind,
        tickets.place_name,
        tickets.place_key,
        tickets.category_code,
        tickets.problem_category,
        category_paths.category_path,
        shared_words.shared_words,
        {{ star_except('case_counts', ['ticket_id', 'quarter']) }},
        prior_active.prior_active_quarters,
        channel_mix.channel_mix,
        examples.example_descriptions
    from tickets
    inner join case_counts on tickets.ticket_id = case_counts.ticket_id and tickets.quarter = case_counts.quarter
    left join shared_words on tickets.cluster_id = shared_words.cluster_id
    left join category_paths
        on tickets.ticket_id = category_paths.ticket_id and tickets.quarter = category_paths.quarter
    left join channel_mix on tickets.ticket_id = channel_mix.ticket_id and tickets.quarter = channel_mix.quarter
    left join examples on tickets.ticket_id = examples.ticket_id and tickets.quarter = examples.quarter
    inner join prior_active
        on tickets.ticket_id = prior_active.ticket_id and tickets.quarter = prior_active.quarter

)

select * from final
