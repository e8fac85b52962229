{#- Each hotline order's current state, folded from its events.
    Attributes come from the latest snapshot (by occurred_at, then recorded_at: a late export of an
    older state never overwrites a newer one); milestones come from the lifecycle events. -#}
with events as (

    select * from {{ ref('stg_log__events') }}
    where stream = 'hotline' and event_type like 'case.%'

),

latest_snapshot as (

    select entity_id, payload
    from events
    where event_type in ('case.updated', 'case.received')
    qualify row_number() over (
        partition by entity_id order by occurred_at desc, recorded_at desc, event_id desc
    ) = 1

),

milestones as (

    select
        entity_id,
        min(source_system) as source_system,
        min(case when event_type = 'case.received' then occurred_at end) as received_at,
        min(case when event_type = 'case.dispatched' then occurred_at end) as dispatched_at,
        min(case when event_type = 'case.accepted' then occurred_at end) as accepted_at,
        min(case when event_type = 'case.contacted' then occurred_at end) as first_contact_at,
        min(case when event_type = 'case.escalated' then occurred_at end) as escalated_at,
        max(case when event_type = 'case.resolved' then occurred_at end) as last_resolved_at,
        max(case when event_type = 'case.rated' then occurred_at end) as rated_at,
        max(case when event_type = 'case.reopened' then occurred_at end) as last_reopened_at,
        count(case when event_type = 'case.reopened' then 1 end) as reopen_count
    from events
    group by entity_id

),

folded as (

    select
        milestones.entity_id as case_id,
        'hotline' as stream,
        milestones.source_system,
        milestones.received_at,
        milestones.dispatched_at,
        milestones.accepted_at,
        milestones.first_contact_at,
        milestones.escalated_at,
        -- a reopening without a later resolution leaves the case unresolved
        case
            when milestones.last_reopened_at is null
                or milestones.last_resolved_at > milestones.last_reopened_at
            then milestones.last_resolved_at
        end as resolved_at,
        milestones.rated_at,
        milestones.reopen_count,
        {{ json_text('latest_snapshot.payload', 'order_id') }} as source_case_id,
        {{ json_text('latest_snapshot.payload', 'channel') }} as channel,
        {{ json_text('latest_snapshot.payload', 'appeal_type') }} as appeal_type,
        {{ json_text('latest_snapshot.payload', 'category_path') }} as category_path,
        {{ json_text('latest_snapshot.payload', 'title') }} as title,
        {{ json_text('latest_snapshot.payload', 'description') }} as description,
        {{ json_text('latest_snapshot.payload', 'district') }} as district_name,
        {{ json_text('latest_snapshot.payload', 'street') }} as street_name,
        {{ json_text('latest_snapshot.payload', 'community') }} as community_name,
        {{ json_text('latest_snapshot.payload', 'grid_code') }} as grid_code_raw,
        {{ json_text('latest_snapshot.payload', 'handling_unit') }} as handling_unit,
        {{ json_text('latest_snapshot.payload', 'status') }} as status,
        {{ json_text('latest_snapshot.payload', 'satisfaction') }} as satisfaction,
        {{ json_text('latest_snapshot.payload', 'caller_key') }} as resident_key
    from milestones
    inner join latest_snapshot on milestones.entity_id = latest_snapshot.entity_id
    where milestones.received_at is not null

)

select * from folded
