{#- Incremental: a night replaces the submissions its batches changed (see `incremental_since`). -#}
{{
    config(
        materialized='incremental',
        unique_key='submission_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook="{{ remember_incremental_build(conformance=true) }}"
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}
    where {{ changed_since(since) }}

),

areas as (

    select * from {{ ref('int_areas__grids') }}

),

final as (

    select
        -- ids
        submissions.submission_id,
        submissions.source_submission_id,
        submissions.worker_key,
        submissions.related_submission_id,
        submissions.order_id,
        submissions.resident_key,

        -- what and where
        submissions.kind,
        submissions.category_path,
        submissions.description,
        areas.grid_code,
        areas.community_code,
        areas.street_code,
        areas.district_code,
        areas.grid_code is null as is_unplaced,
        submissions.photos,

        -- state
        submissions.reported_status,
        submissions.current_status,
        submissions.resolved_on_site,
        submissions.is_follow_up,
        submissions.follow_up_count,

        -- timestamps (UTC) and period (local)
        submissions.submitted_at,
        submissions.resolved_at,
        submissions.escalated_at,
        cast({{ to_local('submissions.submitted_at') }} as date) as local_day,
        {{ quarter_label(to_local('submissions.submitted_at')) }} as quarter

    from submissions
    left join areas on trim(submissions.grid_code_raw) = areas.grid_code

)

select * from final
