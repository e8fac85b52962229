{#- How a quarter's Chinese addresses start, once their case's area names are gone: a start that many of
    them write all over the city (the city's own name, which no area column carries) is where they all
    are, not a place, and int_ticket_cases__eligible takes it off every address of the quarter.

    A start is common when at least `ticket_common_address_start_share` of the quarter's addresses begin
    with it (2 to `ticket_place_max_head` characters) in more than `ticket_place_max_communities`
    communities (one busy compound of a small city is in one community; the city's name is in all of
    them); of common starts that begin one another only the longest is kept (石城市, not its start 石城,
    which 石城路 also has).

    Built quarter by quarter (macros/ticket_quarters.sql): a change here recomputes the quarter's
    eligible cases. -#}
{{ ticket_quarterly_config('cases') }}

with addresses as (

    select * from {{ ref('int_ticket_cases__addresses') }}
    where {{ ticket_quarters_to_build('cases') }}

),

address_starts as (

    select quarter, start_length, left(arealess_address, start_length) as address_start,
        count(*) as address_count,
        count(distinct community_code) as community_count,
        sum(count(*)) over (partition by quarter, start_length) as address_total
    from addresses {{ unnest_join(integer_range('2', var('ticket_place_max_head') ~ ' + 1'), 'starts', 'start_length') }}
    where length(arealess_address) > start_length
    group by quarter, start_length, left(arealess_address, start_length)

),

frequent_starts as (

    select quarter, address_start
    from address_starts
    where address_count >= {{ var('ticket_common_address_start_share') }} * address_total
        and community_count > {{ var('ticket_place_max_communities') }}

),

final as (

    -- the whole name only
    select quarter, address_start
    from frequent_starts
    where not exists (
        select 1 from frequent_starts as longer
        where longer.quarter = frequent_starts.quarter
            and longer.address_start <> frequent_starts.address_start
            and {{ starts_with('longer.address_start', 'frequent_starts.address_start') }}
    )

)

select * from final
{{ in_quarter_order() }}
