{#- Each dual report-in (双报到) service session: who reported in where, doing what, for how long.
    The check-in carries the session; a later check-out may add the hours served. Incremental like the
    other folds: a session is re-folded when any of its events came in a batch after the watermark. -#}
{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail'
    )
}}

{#- `not materialized`: the events are read twice (for the touched entities, then their events), and a
    materialized copy would hold the whole history's payloads on every night. #}
with events as {{ not_materialized() }} (

    select {{ fold_event_row() }} * from {{ ref('stg_log__events') }}
    where event_type in ('volunteer.checked_in', 'volunteer.checked_out')

),

{% if is_incremental() %}
{{ fold_touched_entities() }}
{% endif %}
{{ fold_scope('session_events', 'touched') }}

latest_check_in as (

    select * from session_events
    where event_type = 'volunteer.checked_in'
    {{ latest_event_per_entity() }}

),

check_in as (

    -- its payload parsed once for all the fields read of it
    select *, {{ json_fields('payload', [
        'record_id', 'member_key', 'order_id', 'unit_name', 'unit_type', 'district', 'street', 'community',
        'activity', 'note', 'hours', 'checked_out_at'
    ]) }} as fields
    from latest_check_in

),

check_out as (

    select
        entity_id,
        occurred_at as checked_out_at,
        cast({{ json_text('payload', 'hours') }} as double) as hours
    from session_events
    where event_type = 'volunteer.checked_out'
    {{ latest_event_per_entity() }}

),

lineage as (

    select entity_id, max(recorded_at) as last_recorded_at, max(batch_id) as last_batch_id
    from session_events
    group by entity_id

),

final as (

    select
        -- ids
        check_in.entity_id as session_id,
        check_in.fields.record_id as record_id,
        check_in.source_system,
        check_in.fields.member_key as member_key,
        nullif(trim(check_in.fields.order_id), '') as order_id,

        -- who and where
        check_in.fields.unit_name as unit_name,
        check_in.fields.unit_type as unit_type,
        check_in.fields.district as district_name,
        check_in.fields.street as street_name,
        check_in.fields.community as community_name,

        -- what
        check_in.fields.activity as activity,
        check_in.fields.note as note,
        coalesce(
            check_out.hours,
            cast(check_in.fields.hours as double),
            {{ minutes_between('check_in.occurred_at', 'check_out.checked_out_at') }} / 60.0
        ) as hours,

        -- timestamps (UTC)
        check_in.occurred_at as checked_in_at,
        coalesce(
            check_out.checked_out_at,
            cast(check_in.fields.checked_out_at as {{ type_instant() }})
        ) as checked_out_at,
        lineage.last_recorded_at,
        lineage.last_batch_id

    from check_in
    left join check_out on check_in.entity_id = check_out.entity_id
    inner join lineage on check_in.entity_id = lineage.entity_id

)

select * from final
