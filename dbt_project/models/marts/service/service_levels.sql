{#- Service levels per area and period: the city, each district, street and community, by quarter and by
    month of receipt (local time). Rates are shares of the cases received in the period, as of the build;
    their denominators are published beside them so rates can be re-aggregated. Duplicates are left out:
    a request closed as a duplicate was served through the one it duplicates.

    Incremental by quarter: a night recounts the quarters (with their months) of the cases its batches
    changed, and of any month whose count of cases is no longer the published one (a case whose receipt
    was corrected into another month left it: it lost a case no changed case now sits in). -#}
{{
    config(
        materialized='incremental',
        unique_key=['period_type', 'period'],
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook="{{ remember_incremental_build(conformance=true) }}"
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

{#- CTEs read more than once are `not materialized`: a copy of every case on every night would cost more
    than the night's quarters. #}
with served_cases as {{ not_materialized() }} (

    select * from {{ ref('int_cases__service_levels') }}

),

served as {{ not_materialized() }} (

    select * from served_cases
    where not is_duplicate

),

with_periods as {{ not_materialized() }} (

    select
        *,
        {{ quarter_label(to_local('received_at')) }} as quarter,
        {{ dbt.concat([
            "cast(extract(year from " ~ to_local('received_at') ~ ") as " ~ dbt.type_string() ~ ")",
            "'-'",
            "lpad(cast(extract(month from " ~ to_local('received_at') ~ ") as " ~ dbt.type_string() ~ "), 2, '0')"
        ]) }} as month
    from served

),

{% if since is not none %}
changed_quarters as (

    select distinct {{ quarter_label(to_local('received_at')) }} as quarter
    from served_cases
    where {{ changed_since(since, 'served_through_batch_id') }}

),

month_counts as (

    select quarter, month, count(*) as cases
    from with_periods
    group by quarter, month

),

published_month_counts as (

    select
        period as month,
        -- 2025-07 is in 2025Q3
        {{ dbt.concat([
            "substr(period, 1, 4)",
            "'Q'",
            "cast((cast(substr(period, 6, 2) as integer) + 2) / 3 as " ~ dbt.type_string() ~ ")"
        ]) }} as quarter,
        cases
    from {{ this }}
    where period_type = 'month' and area_level = 'city'

),

recounted_quarters as (

    select coalesce(month_counts.quarter, published_month_counts.quarter) as quarter
    from month_counts
    full outer join published_month_counts on month_counts.month = published_month_counts.month
    where month_counts.cases is distinct from published_month_counts.cases

),

touched_quarters as (

    select quarter from changed_quarters
    union
    select quarter from recounted_quarters

),

in_scope as (

    select * from with_periods
    where quarter in (select quarter from touched_quarters)

),
{% else %}
in_scope as (

    select * from with_periods

),
{% endif %}

by_period as (

    select 'quarter' as period_type, quarter as period, in_scope.* from in_scope
    union all
    select 'month' as period_type, month as period, in_scope.* from in_scope

),

by_area as (

    select 'city' as area_level, 'city' as area_code, by_period.* from by_period
    union all
    select 'district', district_code, by_period.* from by_period where district_code is not null
    union all
    select 'street', street_code, by_period.* from by_period where street_code is not null
    union all
    select 'community', community_code, by_period.* from by_period where community_code is not null

),

counted as (

    select
        period_type,
        period,
        area_level,
        area_code,
        count(*) as cases,
        count(case when stream = 'hotline' then 1 end) as hotline_cases,
        count(case when stream = 'grid' then 1 end) as grid_cases,
        count(case when is_responded_in_time then 1 end) as responded_in_time,
        -- a source without first-contact times cannot show a response rate (it is unknown, not 0)
        count(first_contact_at) as with_contact_time,
        count(case when is_resolved then 1 end) as resolved,
        count(case when is_rated then 1 end) as rated,
        count(case when is_satisfied then 1 end) as satisfied,
        count(case when is_grid_contact_due then 1 end) as grid_contact_due,
        count(case when is_grid_contacted_in_time then 1 end) as grid_contacted_in_time,
        count(case when resolution_level = 'grid' then 1 end) as resolved_at_grid,
        count(case when resolution_level = 'community' then 1 end) as resolved_at_community,
        count(case when resolution_level = 'street' then 1 end) as resolved_at_street,
        count(case when resolution_level = 'department' then 1 end) as resolved_at_department,
        count(case when reopen_count > 0 then 1 end) as reopened
    from by_area
    group by period_type, period, area_level, area_code

),

final as (

    select
        period_type,
        period,
        area_level,
        area_code,
        cast(cases as bigint) as cases,
        cast(hotline_cases as bigint) as hotline_cases,
        cast(grid_cases as bigint) as grid_cases,
        cast(responded_in_time as bigint) as responded_in_time,
        cast(resolved as bigint) as resolved,
        cast(rated as bigint) as rated,
        cast(satisfied as bigint) as satisfied,
        cast(grid_contact_due as bigint) as grid_contact_due,
        cast(grid_contacted_in_time as bigint) as grid_contacted_in_time,
        cast(reopened as bigint) as reopened,
        cast(resolved_at_grid as bigint) as resolved_at_grid,
        cast(resolved_at_community as bigint) as resolved_at_community,
        cast(resolved_at_street as bigint) as resolved_at_street,
        cast(resolved_at_department as bigint) as resolved_at_department,
        -- shares as doubles on every engine (Spark reads 1.0 as a decimal), rounded as DuckDB rounds them
        case when with_contact_time > 0
            then {{ round_places('cast(responded_in_time as double) / cases', 4) }} end as response_rate,
        {{ round_places('cast(resolved as double) / cases', 4) }} as resolution_rate,
        case when rated > 0 then {{ round_places('cast(satisfied as double) / rated', 4) }} end as satisfaction_rate,
        case when grid_contact_due > 0
            then {{ round_places('cast(grid_contacted_in_time as double) / grid_contact_due', 4) }} end as grid_contact_rate,
        case when resolved > 0
            then {{ round_places('cast(resolved_at_grid as double) / resolved', 4) }} end as grid_resolution_share,
        -- the limits the rates were measured against, so a reader states them from the build itself
        cast({{ var('response_sla_hours') }} as integer) as response_sla_hours,
        cast({{ var('grid_contact_minutes') }} as integer) as grid_contact_minutes
    from counted

)

select * from final
