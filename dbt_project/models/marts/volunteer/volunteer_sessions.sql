{#- Incremental: a night replaces the sessions its batches changed (see `incremental_since`). -#}
{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy=incremental_replace_strategy(),
        on_schema_change='fail',
        post_hook="{{ remember_incremental_build(conformance=true) }}"
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with sessions as (

    select * from {{ ref('int_volunteer_sessions__conformed') }}
    where {{ changed_since(since) }}

),

final as (

    select
        -- ids
        session_id,
        record_id,
        member_key,
        order_id,

        -- who and where
        unit_name,
        unit_type,
        community_code,
        community,
        street_code,
        street,
        district_code,
        district,
        is_unplaced,

        -- what
        activity,
        note,
        cast(hours as double) as hours,

        -- when (UTC) and the period (local)
        checked_in_at,
        checked_out_at,
        quarter

    from sessions

)

select * from final
