{#- Every distinct combination of place names the exports typed (cases and volunteer sessions, and the
    names grid workers' addresses write out, as those submissions have no place columns), with its
    normalised keys read through the aliases: what areas are derived from when the reference does not
    know them. -#}
with cases as (

    select * from {{ ref('int_cases__folded') }}

),

sessions as (

    select * from {{ ref('int_volunteer_sessions__folded') }}

),

submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}

),

submission_addresses as (

    -- each address counted once, however many submissions wrote it, and read once ever
    -- (int_areas__address_names)
    select address, count(*) as times_typed
    from submissions
    where address is not null
    group by address

),

address_names as (

    select * from {{ ref('int_areas__address_names') }}

),

typed as (

    select district_name, street_name, community_name, 1 as times_typed from cases
    union all
    select district_name, street_name, community_name, 1 as times_typed from sessions
    union all
    select address_names.district_name, address_names.street_name, address_names.community_name,
        submission_addresses.times_typed
    from submission_addresses
    inner join address_names on submission_addresses.address = address_names.address

),

combinations as (

    select
        {{ dbt.hash(
            "coalesce(district_name, '') || '|' || coalesce(street_name, '') || '|' || coalesce(community_name, '')"
        ) }} as row_id,
        district_name,
        street_name,
        community_name,
        cast(sum(times_typed) as bigint) as times_typed
    from typed
    where nullif(trim(community_name), '') is not null
    group by district_name, street_name, community_name

),

keys as (

    {{ typed_place_keys('combinations', 'row_id') }}

),

final as (

    select combinations.*, keys.community_key, keys.street_key, keys.district_key
    from combinations
    inner join keys on combinations.row_id = keys.row_id
    where keys.community_key is not null

)

select * from final
