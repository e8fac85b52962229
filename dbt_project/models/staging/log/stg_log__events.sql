{#- The one place the log is read. Replays (`as_of`) see only what had been recorded by then.

    Incremental, so that a night reads the night's batches and not the years behind it: the batches
    committed after the newest one in the table are appended, less the events the table already holds (a
    re-sent fact keeps its first recording, as a full refresh would keep it). Batch ids rise in commit
    order and a run builds every batch committed before it, so "after the newest" is "not yet built";
    the newest id is read first and written into the query as a constant, so the Parquet scan skips the
    older batches' files by their statistics instead of reading them. Taking events out (a retraction, a
    flagged batch) or putting a held batch back is a full refresh, which `gridline run` starts. The
    pre-hook remembers the newest batch the table held before the night appends, so its tests check the
    night's rows against the whole table (tests/generic/unique_appended.sql). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ remember_batches_before_append() }}"
    )
}}

{#- `not materialized`: the source is read twice (the exclusion lists, the new batches), and a
    materialized copy would read every batch's every column, payloads included, on every night. #}
with source as {{ not_materialized() }} (

    select * from {{ source('gridline_log', 'events') }}

),

{% if is_incremental() %}
{%- set newest_built = run_query('select max(batch_id) from ' ~ this).columns[0].values()[0] if execute else none %}
{% endif %}

{#- Which batches to leave out is decided by gridline, not here (ingestion/log.py owns the rule: a
    retracted batch, or one the audit flagged and no operator accepted). Every system batch records the
    list in force once it is committed; the latest list recorded by `as_of` applies, so a replay leaves
    out what was left out then. -#}
exclusion_lists as (

    select batch_id, recorded_at, payload
    from source
    where stream = 'system'
        and event_type = 'log.excluded_batches'
    {% if var('as_of') %}
        and recorded_at <= cast('{{ var("as_of") }}' as {{ type_instant() }})
    {% endif %}

),

latest_exclusion_list as (

    select payload
    from exclusion_lists
    order by recorded_at desc, batch_id desc
    limit 1

),

excluded_batches as (

    select {{ unnest_json_strings('payload', 'excluded_batch_ids') }} as batch_id
    from latest_exclusion_list

),

renamed as {{ not_materialized() }} (

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
        cast(occurred_at as {{ type_instant() }}) as occurred_at,
        cast(recorded_at as {{ type_instant() }}) as recorded_at,

        -- lineage
        source_file,
        source_line

    from source
    where stream != 'system'
        and batch_id not in (select batch_id from excluded_batches)
    {% if is_incremental() and newest_built is not none %}
        and batch_id > '{{ newest_built }}'
    {% endif %}
    {% if var('as_of') %}
        and recorded_at <= cast('{{ var("as_of") }}' as {{ type_instant() }})
    {% endif %}

),

{#- A fact is committed once, but the events of a batch held back (flagged, then accepted) can meet a
    re-ingested copy of them: the first recording is kept. Repeats are found on the ids alone, narrowed by
    a fixed-size hash first: a window over every event partitioned by id would hold all their columns,
    payloads included (a megacity's first build, 57 M events, spilled more than 20 GB for it). A batch
    holds an id once (the ingest keeps its first sighting), so (id, batch) names one event. -#}
repeated_hashes as (

    select hash(event_id) as id_hash
    from renamed
    group by hash(event_id)
    having count(*) > 1

),

later_sightings as (

    select event_id, batch_id
    from (
        select
            event_id,
            batch_id,
            row_number() over (partition by event_id order by recorded_at, batch_id) as sighting
        from renamed
        where hash(event_id) in (select id_hash from repeated_hashes)
    ) as repeats
    where sighting > 1

),

deduplicated as (

    select renamed.*
    from renamed
    left join later_sightings
        on renamed.event_id = later_sightings.event_id and renamed.batch_id = later_sightings.batch_id
    where later_sightings.event_id is null

),

{% if is_incremental() %}
known_events as (

    -- the new batches' events the table already holds (re-sent facts): the table is probed with the
    -- night's ids, so the work and memory follow the night, not the years of history
    select event_id from {{ this }}
    where event_id in (select event_id from deduplicated)

),
{% endif %}

new_events as (

    select * from deduplicated
    {% if is_incremental() %}
    where event_id not in (select event_id from known_events)
    {% endif %}

)

select * from new_events
