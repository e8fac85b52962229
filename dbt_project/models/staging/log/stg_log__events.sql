{#- The one place the log is read. Replays (`as_of`) see only what had been recorded by then. -#}
with source as (

    select * from {{ source('gridline_log', 'events') }}

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
    {% if var('as_of') %}
    where recorded_at <= cast('{{ var("as_of") }}' as timestamp with time zone)
    {% endif %}

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by event_id order by recorded_at, batch_id) = 1

)

select * from deduplicated
