{#- Incremental: a night replaces the cases its batches changed (see `incremental_since`). -#}
{{ case_model_config() }}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with served as (

    select * from {{ ref('int_cases__service_levels') }}
    where {{ changed_since(since, 'served_through_batch_id') }}

),

final as (

    select
        -- ids
        case_id,
        source_case_id,
        stream,
        source_system,

        -- what and where
        category_code,
        category_path,
        channel,
        appeal_type,
        title,
        description,
        district_code,
        district,
        street_code,
        street,
        community_code,
        community,
        grid_code,
        handling_unit,
        resident_key,

        -- state
        status,
        satisfaction,
        reopen_count,
        is_duplicate,
        duplicate_of_case_id,
        is_unplaced,
        is_unclassified,
        resolution_level,
        is_responded_in_time,
        is_grid_contacted_in_time,

        -- milestones (UTC)
        received_at,
        dispatched_at,
        accepted_at,
        first_contact_at,
        grid_contact_at,
        escalated_at,
        resolved_at,
        rated_at,

        -- review period, cut in local time
        {{ quarter_label(to_local('received_at')) }} as quarter

    from served

)

select * from final
