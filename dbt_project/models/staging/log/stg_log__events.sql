{#- The one place the log is read. Replays (`as_of`) see only what had been recorded by then.

    Incremental, so that a night reads the night's batches and not the years behind it: the batches not
    yet in the table are appended, less the events the table already holds (a re-sent fact keeps its first
    recording, as a full refresh would keep it: batches are committed, and built, in recorded order).
    Taking events out (a retraction, a flagged batch) is a full refresh, which `gridline run` starts. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}

with source as (

    select * from {{ source('gridline_log', 'events') }}

),

{% if is_incremental() %}
built_batches as (

    select distinct batch_id from {{ this }}

),

known_events as (

    select event_id from {{ this }}

),
{% endif %}

{#- Decisions about whole batches are `system` events (gridline/batches.py): a retracted batch is out
    for good; a batch the audit flagged stays out until an operator accepts it. -#}
batch_decisions as (

    select
        {{ json_text('payload', 'batch_id') }} as decided_batch_id,
        bool_or(event_type = 'batch.retracted') as is_retracted,
        arg_max(event_type, recorded_at) filter (
            where event_type in ('batch.flagged', 'batch.accepted')
        ) as last_verdict
    from source
    where stream = 'system'
    {% if var('as_of') %}
        and recorded_at <= cast('{{ var("as_of") }}' as timestamp with time zone)
    {% endif %}
    group by 1

),

excluded_batches as (

    select decided_batch_id as batch_id
    from batch_decisions
    where decided_batch_id is not null
        and (is_retracted or last_verdict = 'batch.flagged')

),

renamed as (

    select
        -- ids
        event_id,
        entity_id,
        batch_id,

        -- what happened
        stream,
        event_type,
        source_system,
        payload,
        state_hash,

        -- timestamps (UTC)
        cast(occurred_at as timestamp with time zone) as occurred_at,
        cast(recorded_at as timestamp with time zone) as recorded_at,

        -- lineage
        source_file,
        source_line

    from source
    where stream != 'system'
        and batch_id not in (select batch_id from excluded_batches)
    {% if is_incremental() %}
        and batch_id not in (select batch_id from built_batches)
    {% endif %}
    {% if var('as_of') %}
        and recorded_at <= cast('{{ var("as_of") }}' as timestamp with time zone)
    {% endif %}

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by event_id order by recorded_at, batch_id) = 1

),

new_events as (

    select * from deduplicated
    {% if is_incremental() %}
    where event_id not in (select event_id from known_events)
    {% endif %}

)

select * from new_events
