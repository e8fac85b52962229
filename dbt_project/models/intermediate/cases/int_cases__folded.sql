{#- Each case's current state, folded from its `case.*` events, whatever the stream or source system.
    Attributes come from the latest `case.updated` snapshot by occurred_at, then
    recorded_at: a late export of an older state never overwrites a newer one, and a correction (the same
    moment re-stated later) wins over what it corrects. Milestones come from the lifecycle events, with
    the snapshot's own timestamps for sources that send snapshots only.

    Incremental: an entity is re-folded whole from all of its events whenever any of its events came in
    a batch staged after the newest one already folded, so late and out-of-order events land exactly as a
    full refresh would fold them. -#}
{{
    config(
        materialized='incremental',
        unique_key='case_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail'
    )
}}

{#- `not materialized`: the events are read twice (for the touched entities, then their events), and a
    materialized copy would hold the whole history's payloads on every night. #}
with events as {{ not_materialized() }} (

    select {{ fold_event_row() }} * from {{ ref('stg_log__events') }}
    where event_type like 'case.%'

),

{% if is_incremental() %}
{{ fold_touched_entities() }}
{% endif %}
{#- the narrow columns of the entities' events: their payloads are read for the two kinds of event the
    fold takes fields from, the latest of each (a whole history's payloads are most of the log's bytes) -#}
{{ fold_scope('case_events', 'touched', columns=[
    'event_id', 'entity_id', 'event_type', 'stream', 'source_system', 'occurred_at', 'recorded_at', 'batch_id'
]) }}

latest_snapshot_event as (

    select *
    from case_events
    where event_type = 'case.updated'
    {{ latest_event_per_entity() }}

),

latest_duplicate_event as (

    select *
    from case_events
    where event_type = 'case.closed_duplicate'
    {{ latest_event_per_entity() }}

),

{{ fold_fetch('latest_snapshot', 'latest_snapshot_event', ['entity_id', 'stream', 'source_system', 'payload']) }}

{{ fold_fetch('latest_duplicate', 'latest_duplicate_event', ['entity_id', 'payload']) }}

milestones as (

    select
        entity_id,
        min(case when event_type = 'case.received' then occurred_at end) as received_at,
        min(case when event_type = 'case.dispatched' then occurred_at end) as dispatched_at,
        min(case when event_type = 'case.accepted' then occurred_at end) as accepted_at,
        min(case when event_type = 'case.contacted' then occurred_at end) as first_contact_at,
        min(case when event_type = 'case.escalated' then occurred_at end) as escalated_at,
        max(case when event_type = 'case.resolved' then occurred_at end) as last_resolved_at,
        max(case when event_type = 'case.rated' then occurred_at end) as rated_at,
        max(case when event_type = 'case.reopened' then occurred_at end) as last_reopened_at,
        count(distinct case when event_type = 'case.reopened' then event_id end) as reopened_events,
        max(case when event_type = 'case.closed_duplicate' then 1 else 0 end) as closed_duplicate,
        max(recorded_at) as last_recorded_at,
        max(batch_id) as last_batch_id
    from case_events
    group by entity_id

),

duplicate_of as (

    select entity_id, {{ json_text('payload', 'duplicate_of') }} as duplicate_of_case_id
    from latest_duplicate

),

snapshot_payloads as (

    -- each snapshot's payload parsed once for all the fields read of it
    select entity_id, stream, source_system, {{ json_fields('payload', [
        'order_id', 'channel', 'appeal_type', 'category_path', 'title', 'description', 'address',
        'district', 'street', 'community', 'grid_code', 'lat', 'lon', 'handling_unit', 'status',
        'satisfaction', 'caller_key', 'caller_name_key', 'reopen_count', 'received_at', 'dispatched_at',
        'accepted_at', 'first_contact_at', 'escalated_at', 'resolved_at', 'rated_at', 'due_at',
        'cancelled_at'
    ]) }} as fields
    from latest_snapshot

),

snapshot_fields as (

    select
        entity_id,
        stream,
        source_system,
        fields.order_id as source_case_id,
        fields.channel as channel,
        fields.appeal_type as appeal_type,
        fields.category_path as category_path,
        fields.title as title,
        fields.description as description,
        fields.address as address,
        fields.district as district_name,
        fields.street as street_name,
        fields.community as community_name,
        fields.grid_code as grid_code_raw,
        cast(fields.lat as double) as latitude,
        cast(fields.lon as double) as longitude,
        fields.handling_unit as handling_unit,
        fields.status as status,
        fields.satisfaction as satisfaction,
        -- the resident: by phone, or by name (pseudonymised) when the source has no phone, as a
        -- message board's account name
        coalesce(nullif(fields.caller_key, ''), nullif(fields.caller_name_key, '')) as resident_key,
        cast(fields.reopen_count as integer) as snapshot_reopen_count,
        cast(fields.received_at as {{ type_instant() }}) as snapshot_received_at,
        cast(fields.dispatched_at as {{ type_instant() }}) as snapshot_dispatched_at,
        cast(fields.accepted_at as {{ type_instant() }}) as snapshot_accepted_at,
        cast(fields.first_contact_at as {{ type_instant() }}) as snapshot_first_contact_at,
        cast(fields.escalated_at as {{ type_instant() }}) as snapshot_escalated_at,
        cast(fields.resolved_at as {{ type_instant() }}) as snapshot_resolved_at,
        cast(fields.rated_at as {{ type_instant() }}) as snapshot_rated_at,
        -- times some sources carry on their snapshots only
        cast(fields.due_at as {{ type_instant() }}) as due_at,
        cast(fields.cancelled_at as {{ type_instant() }}) as cancelled_at
    from snapshot_payloads

),

combined as (

    select
        snapshot_fields.*,
        milestones.last_recorded_at,
        milestones.last_batch_id,
        milestones.last_reopened_at,
        milestones.closed_duplicate,
        duplicate_of.duplicate_of_case_id,
        -- the snapshot is the source's current word on its own timestamps (a corrected receipt time
        -- replaces the mistyped one); lifecycle events fill in what snapshots do not carry
        coalesce(snapshot_fields.snapshot_received_at, milestones.received_at) as received_at,
        coalesce(snapshot_fields.snapshot_dispatched_at, milestones.dispatched_at) as dispatched_at,
        coalesce(snapshot_fields.snapshot_accepted_at, milestones.accepted_at) as accepted_at,
        coalesce(snapshot_fields.snapshot_first_contact_at, milestones.first_contact_at) as first_contact_at,
        coalesce(snapshot_fields.snapshot_escalated_at, milestones.escalated_at) as escalated_at,
        -- greatest() skips nulls (DuckDB, Spark, Postgres alike)
        greatest(snapshot_fields.snapshot_resolved_at, milestones.last_resolved_at) as last_resolved_at,
        coalesce(snapshot_fields.snapshot_rated_at, milestones.rated_at) as rated_at,
        greatest(
            coalesce(snapshot_fields.snapshot_reopen_count, 0), milestones.reopened_events
        ) as reopen_count
    from milestones
    inner join snapshot_fields on milestones.entity_id = snapshot_fields.entity_id
    left join duplicate_of on milestones.entity_id = duplicate_of.entity_id

),

final as (

    select
        -- ids
        entity_id as case_id,
        source_case_id,
        stream,
        source_system,

        -- what and where, as the source gave it
        channel,
        appeal_type,
        category_path,
        title,
        description,
        address,
        district_name,
        street_name,
        community_name,
        grid_code_raw,
        latitude,
        longitude,
        handling_unit,
        resident_key,

        -- state
        status,
        satisfaction,
        cast(reopen_count as bigint) as reopen_count,
        closed_duplicate = 1 as is_duplicate,
        duplicate_of_case_id,

        -- milestones (UTC)
        received_at,
        dispatched_at,
        accepted_at,
        first_contact_at,
        escalated_at,
        -- a reopened case (重办) is open again until it is resolved anew: the source's status says so,
        -- or, when it does not show a closed state, a reopening later than the last resolution does
        case
            when status = '重办' then null
            when last_reopened_at > last_resolved_at
                and coalesce(status, '') not in ('已办结', '已回访', '已关闭') then null
            else last_resolved_at
        end as resolved_at,
        rated_at,
        due_at,
        cancelled_at,

        -- lineage for incremental builds
        last_recorded_at,
        last_batch_id

    from combined
    where received_at is not null

)

select * from final
