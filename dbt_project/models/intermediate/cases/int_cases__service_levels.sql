{#- Each conformed case with how it was served: whether the resident was contacted in time (响应), whether
    the case is resolved (办结) and the resident satisfied (满意), whether the grid worker phoned within
    the grid contact rule, and the level at which it was resolved.

    Incremental: a night recomputes the cases its batches changed, and the hotline orders that grid
    submissions of its batches handle; `served_through_batch_id` is the newest batch of the case and of
    those submissions. -#}
{{ case_model_config() }}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with conformed as (

    select * from {{ ref('int_cases__conformed') }}

),

submissions as {{ not_materialized() }} (

    select * from {{ ref('int_grid_submissions__folded') }}

),

handled_orders as (

    -- the orders grid submissions of the new batches handle: their grid contact may have changed
    select distinct order_id
    from submissions
    where order_id is not null
        and {{ changed_since(since) }}

),

cases as (

    select conformed.*
    from conformed
    where {{ changed_since(since, 'conformed.last_batch_id') }}
    {%- if since is not none %}
        or (conformed.stream = 'hotline' and conformed.source_case_id in (select order_id from handled_orders))
    {%- endif %}

),

grid_handling as (

    -- grid workers' submissions that handle a hotline order: the first one is the grid contact
    select
        order_id,
        min(submitted_at) as grid_contact_at,
        max(case when current_status = 'resolved' or resolved_on_site then 1 else 0 end) as resolved_by_grid,
        max(last_batch_id) as last_batch_id
    from submissions
    where order_id in (select source_case_id from cases where stream = 'hotline')
    group by order_id

),

joined as (

    select
        cases.*,
        grid_handling.grid_contact_at,
        coalesce(grid_handling.resolved_by_grid, 0) = 1 or cases.resolved_on_site as resolved_by_grid,
        -- greatest() skips nulls (DuckDB, Spark, Postgres alike)
        greatest(cases.last_batch_id, grid_handling.last_batch_id) as served_through_batch_id
    from cases
    left join grid_handling
        on cases.stream = 'hotline' and cases.source_case_id = grid_handling.order_id

),

final as (

    select
        joined.*,
        {{ dbt.dateadd('hour', var('response_sla_hours'), 'received_at') }} as response_due_at,
        first_contact_at is not null
            and first_contact_at <= {{ dbt.dateadd('hour', var('response_sla_hours'), 'received_at') }}
            as is_responded_in_time,
        resolved_at is not null as is_resolved,
        satisfaction in ('满意', '基本满意', '不满意') as is_rated,
        satisfaction in ('满意', '基本满意') as is_satisfied,
        -- the grid contact rule binds hotline orders of a known grid: the grid worker must phone the
        -- resident within the limit after the order was dispatched (or received, if never dispatched)
        stream = 'hotline' and grid_code is not null as is_grid_contact_due,
        stream = 'hotline' and grid_code is not null and grid_contact_at is not null
            and grid_contact_at <= {{ dbt.dateadd(
                'minute', var('grid_contact_minutes'), 'coalesce(dispatched_at, received_at)'
            ) }} as is_grid_contacted_in_time,
        case
            when resolved_at is null then null
            when resolved_by_grid or stream = 'grid' and escalated_at is null then 'grid'
            when escalated_at is not null then 'department'
            when handling_unit like '%社区%' or handling_unit like '%村委%' then 'community'
            when handling_unit like '%街道%' or handling_unit like '%办事处%'
                or handling_unit like '%镇%' or handling_unit like '%乡%' then 'street'
            else 'department'
        end as resolution_level
    from joined

)

select * from final
