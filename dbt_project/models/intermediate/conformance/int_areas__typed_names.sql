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

    -- each address read once, however many submissions wrote it: the parsing is the costly part. The
    -- address is taken as an aggregate, not as the grouping key, so that the filter on the community
    -- parsed from it stays above the grouping: pushed below it (DuckDB does), every submission's address
    -- is parsed (1.2 M at city scale, not 140 k)
    select min(submissions.address) as address, count(*) as times_typed
    from submissions
    group by submissions.address

),

typed as (

    select district_name, street_name, community_name, 1 as times_typed from cases
    union all
    select district_name, street_name, community_name, 1 as times_typed from sessions
    union all
    select
        {{ address_district('address') }},
        {{ address_street('address') }},
        {{ address_community('address') }},
        times_typed
    from submission_addresses

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
