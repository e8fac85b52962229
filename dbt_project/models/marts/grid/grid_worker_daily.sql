{#- One row per grid worker per local day of work: what their rounds produced, and how they kept the
    grid contact rule on the hotline orders they handled. -#}
with submissions as (

    select * from {{ ref('grid_submissions') }}

),

served as (

    select * from {{ ref('int_cases__service_levels') }}

),

first_handling as (

    -- each hotline order's first grid submission: the worker who made the first contact
    select order_id, worker_key, submitted_at
    from submissions
    where order_id is not null
    qualify row_number() over (partition by order_id order by submitted_at, submission_id) = 1

),

contacts as (

    select
        first_handling.worker_key,
        cast({{ to_local('first_handling.submitted_at') }} as date) as local_day,
        count(*) as orders_first_contacted,
        count(case when served.is_grid_contacted_in_time then 1 end) as orders_contacted_in_time
    from first_handling
    inner join served
        on served.stream = 'hotline' and served.source_case_id = first_handling.order_id
    group by first_handling.worker_key, cast({{ to_local('first_handling.submitted_at') }} as date)

),

daily as (

    select
        worker_key,
        local_day,
        min(grid_code) as grid_code,
        count(distinct grid_code) as grids_worked,
        count(*) as submissions,
        count(case when kind = 'visit' then 1 end) as visits,
        count(case when kind = 'issue' and not is_follow_up then 1 end) as issues_reported,
        count(case when kind = 'dispute' then 1 end) as disputes,
        count(case when kind = 'service' then 1 end) as services,
        count(case when kind = 'info' then 1 end) as infos,
        count(case when is_follow_up then 1 end) as follow_ups,
        count(case when resolved_on_site then 1 end) as resolved_on_site
    from submissions
    group by worker_key, local_day

),

final as (

    select
        daily.worker_key,
        daily.local_day,
        daily.grid_code,
        cast(daily.grids_worked as bigint) as grids_worked,
        cast(daily.submissions as bigint) as submissions,
        cast(daily.visits as bigint) as visits,
        cast(daily.issues_reported as bigint) as issues_reported,
        cast(daily.disputes as bigint) as disputes,
        cast(daily.services as bigint) as services,
        cast(daily.infos as bigint) as infos,
        cast(daily.follow_ups as bigint) as follow_ups,
        cast(daily.resolved_on_site as bigint) as resolved_on_site,
        cast(coalesce(contacts.orders_first_contacted, 0) as bigint) as orders_first_contacted,
        cast(coalesce(contacts.orders_contacted_in_time, 0) as bigint) as orders_contacted_in_time
    from daily
    left join contacts on daily.worker_key = contacts.worker_key and daily.local_day = contacts.local_day

)

select * from final
