{#- Each grid-worker submission with where its matter stands now. A follow-up names the submission it
    continues (`related_submission_id`); the matter's current status is the latest of the submission
    and its follow-ups, and it counts as resolved when the first of them says so.

    Incremental: a submission is re-folded when it, or a follow-up of it, came in a batch staged after
    the newest one already folded. Only the events of those submissions and of their
    follow-ups (the earlier ones found in the model itself) are unpacked. -#}
{{
    config(
        materialized='incremental',
        unique_key='submission_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail'
    )
}}

{#- `not materialized`: the events are read twice (for the touched entities, then their events), and a
    materialized copy would hold the whole history's payloads on every night. #}
with events as {{ not_materialized() }} (

    select {{ fold_event_row() }} * from {{ ref('stg_log__events') }}
    where event_type = 'grid.submitted'

),

{% if is_incremental() %}
watermark as (

    {{ fold_watermark() }}

),

recent_events as (

    select events.entity_id, events.payload
    from events
    where {{ fold_after_watermark('events.batch_id') }}

),

touched as (

    -- what came in batches after the watermark, and the submissions it follows up now and followed before
    select entity_id as submission_id from recent_events
    union
    select 'grid:' || nullif(trim({{ json_text('payload', 'related_submission_id') }}), '') as submission_id
    from recent_events
    union
    select folded.related_submission_id as submission_id
    from {{ this }} as folded
    inner join recent_events on folded.submission_id = recent_events.entity_id

),

earlier_follow_ups as (

    -- follow-ups of the touched submissions folded on earlier runs: their steps belong to the matter
    select folded.submission_id
    from {{ this }} as folded
    inner join touched on folded.related_submission_id = touched.submission_id

),

scope as (

    select submission_id from touched where submission_id is not null
    union
    select submission_id from earlier_follow_ups

),

{% endif %}
{{ fold_scope('scoped_events', 'scope', 'submission_id') }}

submission_payloads as (

    -- each payload parsed once for all the fields read of it
    select scoped_events.*, {{ json_fields('payload', [
        'submission_id', 'worker_key', 'grid_code', 'lat', 'lon', 'kind', 'category_path', 'description',
        'address', 'status', 'resolved_on_site', 'related_submission_id', 'order_id', 'resident_key', 'photos'
    ]) }} as fields
    from scoped_events

),

submissions as (

    select
        entity_id as submission_id,
        source_system,
        occurred_at as submitted_at,
        recorded_at,
        batch_id,
        fields.submission_id as source_submission_id,
        fields.worker_key as worker_key,
        fields.grid_code as grid_code_raw,
        cast(fields.lat as double) as latitude,
        cast(fields.lon as double) as longitude,
        fields.kind as kind,
        fields.category_path as category_path,
        fields.description as description,
        fields.address as address,
        fields.status as reported_status,
        lower(fields.resolved_on_site) in ('true', '1') as resolved_on_site,
        'grid:' || nullif(trim(fields.related_submission_id), '') as related_submission_id,
        nullif(trim(fields.order_id), '') as order_id,
        fields.resident_key as resident_key,
        cast(fields.photos as integer) as photos
    from submission_payloads
    -- a submission re-sent with changes: its latest word counts
    {{ latest_event_per_entity() }}

),

in_scope as (

    select submissions.*
    from submissions
    {% if is_incremental() %}
    inner join touched on submissions.submission_id = touched.submission_id
    {% endif %}

),

follow_ups as (

    select
        related_submission_id as submission_id,
        submitted_at,
        recorded_at,
        batch_id,
        reported_status
    from submissions
    where related_submission_id is not null

),

matter_steps as (

    select submission_id, submitted_at, recorded_at, batch_id, reported_status, resolved_on_site from in_scope
    union all
    select
        follow_ups.submission_id,
        follow_ups.submitted_at,
        follow_ups.recorded_at,
        follow_ups.batch_id,
        follow_ups.reported_status,
        false as resolved_on_site
    from follow_ups
    inner join in_scope on follow_ups.submission_id = in_scope.submission_id

),

latest_step as (

    select submission_id, reported_status as current_status
    from matter_steps
    {{ qualify_rows("row_number() over (partition by submission_id order by submitted_at desc, recorded_at desc) = 1") }}

),

matter_summary as (

    select
        submission_id,
        count(*) - 1 as follow_up_count,
        min(case when reported_status = 'resolved' or resolved_on_site then submitted_at end) as resolved_at,
        min(case when reported_status = 'escalated' then submitted_at end) as escalated_at,
        max(recorded_at) as last_recorded_at,
        max(batch_id) as last_batch_id
    from matter_steps
    group by submission_id

),

final as (

    select
        -- ids
        in_scope.submission_id,
        in_scope.source_submission_id,
        in_scope.source_system,
        in_scope.worker_key,
        in_scope.related_submission_id,
        in_scope.order_id,
        in_scope.resident_key,

        -- what and where
        in_scope.kind,
        in_scope.category_path,
        in_scope.description,
        in_scope.address,
        in_scope.grid_code_raw,
        in_scope.latitude,
        in_scope.longitude,
        in_scope.photos,

        -- state
        in_scope.reported_status,
        latest_step.current_status,
        in_scope.resolved_on_site,
        cast(matter_summary.follow_up_count as bigint) as follow_up_count,
        in_scope.related_submission_id is not null as is_follow_up,

        -- timestamps (UTC)
        in_scope.submitted_at,
        matter_summary.resolved_at,
        matter_summary.escalated_at,
        matter_summary.last_recorded_at,
        matter_summary.last_batch_id

    from in_scope
    inner join latest_step on in_scope.submission_id = latest_step.submission_id
    inner join matter_summary on in_scope.submission_id = matter_summary.submission_id

)

select * from final
