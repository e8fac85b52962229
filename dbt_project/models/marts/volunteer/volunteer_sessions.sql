with sessions as (

    select * from {{ ref('int_volunteer_sessions__conformed') }}

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
