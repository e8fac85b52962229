{#- One row per grid worker per local day of work: what their rounds produced, and how they kept the
    grid contact rule on the hotline orders they handled.

    Incremental by day: a night recounts the days of the submissions its batches changed, the days of
    every submission handling an order whose first contact may have changed (a new submission for it, or
    its hotline case changed), and any day whose count of submissions is no longer the published one (a
    re-sent submission moved to another day left it); a day left without submissions has no rows to
    replace the published ones, and the post-hook drops them. -#}
{{
    config(
        materialized='incremental',
        unique_key='local_day',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook=[
            "{{ delete_stale_rows('local_day not in (select local_day from ' ~ ref('grid_submissions') ~ ')') }}",
            "{{ remember_incremental_build(conformance=true) }}",
        ]
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

{#- Import CTEs read more than once are `not materialized`: a copy of a whole table on every night
    would cost more than the night's days. #}
with all_submissions as {{ not_materialized() }} (

    select * from {{ ref('grid_submissions') }}

),

served as {{ not_materialized() }} (

    select * from {{ ref('int_cases__service_levels') }}

),

folded_submissions as {{ not_materialized() }} (

    select * from {{ ref('int_grid_submissions__folded') }}

),

{% if since is not none %}
changed_submissions as (

    select submission_id, submitted_at, order_id
    from folded_submissions
    where {{ changed_since(since) }}

),

touched_orders as (

    select order_id from changed_submissions where order_id is not null
    union
    select source_case_id from served
    where stream = 'hotline' and {{ changed_since(since, 'served_through_batch_id') }}

),

day_counts as (

    select local_day, count(*) as submissions
    from all_submissions
    group by local_day

),

published_day_counts as (

    select local_day, sum(submissions) as submissions
    from {{ this }}
    group by local_day

),

touched_days as (

    select cast({{ to_local('submitted_at') }} as date) as local_day from changed_submissions
    union
    select local_day from all_submissions where order_id in (select order_id from touched_orders)
    union
    select coalesce(day_counts.local_day, published_day_counts.local_day)
    from day_counts
    full outer join published_day_counts on day_counts.local_day = published_day_counts.local_day
    where day_counts.submissions is distinct from published_day_counts.submissions

),

submissions as (

    select * from all_submissions
    where local_day in (select local_day from touched_days)

),

handling as (

    -- every submission of the orders handled on those days: the first contact may be on another day
    select * from all_submissions
    where order_id in (select order_id from submissions)

),
{% else %}
submissions as (

    select * from all_submissions

),

handling as (

    select * from all_submissions

),
{% endif %}

first_handling as (

    -- each hotline order's first grid submission: the worker who made the first contact
    select order_id, worker_key, submitted_at
    from handling
    where order_id is not null
    {{ qualify_rows("row_number() over (partition by order_id order by submitted_at, submission_id) = 1") }}

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
