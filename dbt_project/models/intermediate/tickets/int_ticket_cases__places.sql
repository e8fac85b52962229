{#- The places each eligible case names, one row per place, from everything it carries, most specific
    first (`place_rank`):
    1. `address`: its address, read as int_ticket_cases__eligible does (a Chinese address without its
       area names, up to the first spot; an English street line, normalised), and each shorter Chinese
       address of the quarter it starts with; with no address naming a place (none, or a vague one),
       each Chinese address of the quarter its title or text writes;
    2. `named`: each learned place name (int_ticket_places__vocabulary) its title or text writes;
    3. `point`: with neither, its coordinates' cell of `ticket_point_cell_degrees`, unless the exact point
       is shared by more than `ticket_point_placeholder_share` of the quarter's cases (an export's
       stand-in for "not geocoded", such as a city hall);
    4. `area`: with none of these, its community (a class that spreads over a community's grids is
       still one place's).
    `place_key` is what two cases must share to be compared at all (for a learned name, its shortest
    form); `place_name` is what the reader sees.

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('cases') }}

with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('cases') }}

),

mentions as (

    select * from {{ ref('int_ticket_cases__place_mentions') }}
    where {{ ticket_quarters_to_build('cases') }}

),

vocabulary as (

    select * from {{ ref('int_ticket_places__vocabulary') }}
    where {{ ticket_quarters_to_build('cases') }}

),

addressed as (

    select case_id, quarter, 'address' as place_kind, 1 as place_rank, address_place as place_name,
        address_place as place_id
    from cases
    where address_place is not null

),

address_names as (

    -- the places the quarter's Chinese addresses name: a case whose address names none (or that has no
    -- address) and whose text writes one of them is at that place, as if its address said so
    select distinct quarter, address_place
    from cases
    where address_place is not null and {{ is_chinese('address_place') }}

),

shortened as (

    -- an address also places its case at each shorter address of the quarter it starts with: 高桥丰乐里小区
    -- and 高桥丰乐 are one place written at two lengths (addresses agree by prefix, int_ticket_cases__links)
    select cases.case_id, cases.quarter, 'address' as place_kind, 1 as place_rank,
        address_names.address_place as place_name, address_names.address_place as place_id
    from cases
    inner join address_names
        on cases.quarter = address_names.quarter
        -- an equal start first, so the join hashes instead of comparing every pair
        and left(cases.address_place, {{ var('ticket_address_place_min_length') }})
            = left(address_names.address_place, {{ var('ticket_address_place_min_length') }})
        and {{ starts_with('cases.address_place', 'address_names.address_place') }}
        and cases.address_place <> address_names.address_place

),

written_hits as (

    select cases.case_id, cases.quarter, address_names.address_place
    from cases
    inner join address_names
        on cases.quarter = address_names.quarter
        and contains(cases.case_text, address_names.address_place)
    where cases.address_place is null

),

written as (

    -- a name inside a longer one the text also writes (二组 in 玉带二组) is that one's part, not a place;
    -- a name the longer one starts with is the same place less precisely written (青青家园 of 青青家园东区),
    -- and addresses written either way meet there
    select case_id, quarter, 'address' as place_kind, 1 as place_rank, address_place as place_name,
        address_place as place_id
    from written_hits
    where not exists (
        select 1 from written_hits as longer
        where longer.case_id = written_hits.case_id
            and longer.address_place <> written_hits.address_place
            and contains(longer.address_place, written_hits.address_place)
            and not {{ starts_with('longer.address_place', 'written_hits.address_place') }}
    )

),

named as (

    -- the learned places a case writes, each by its shortest name
    select distinct mentions.case_id, mentions.quarter, 'named' as place_kind, 2 as place_rank,
        vocabulary.place_name, vocabulary.place_id
    from mentions
    inner join vocabulary
        on mentions.quarter = vocabulary.quarter and mentions.place_name = vocabulary.place_id

),

point_usage as (

    select quarter,
        {{ round_places('latitude', 5) }} as latitude,
        {{ round_places('longitude', 5) }} as longitude,
        count(*) as case_count,
        max(count(*)) over (partition by quarter) as most_used,
        sum(count(*)) over (partition by quarter) as case_total
    from cases
    where latitude is not null and longitude is not null
    group by quarter, {{ round_places('latitude', 5) }}, {{ round_places('longitude', 5) }}

),

pointed as (

    select
        cases.case_id,
        cases.quarter,
        'point' as place_kind,
        3 as place_rank,
        cast(cast(floor(cases.latitude / {{ var('ticket_point_cell_degrees') }}) as bigint) as {{ dbt.type_string() }}) || ','
            || cast(cast(floor(cases.longitude / {{ var('ticket_point_cell_degrees') }}) as bigint) as {{ dbt.type_string() }}) as place_name,
        cast(cast(floor(cases.latitude / {{ var('ticket_point_cell_degrees') }}) as bigint) as {{ dbt.type_string() }}) || ','
            || cast(cast(floor(cases.longitude / {{ var('ticket_point_cell_degrees') }}) as bigint) as {{ dbt.type_string() }}) as place_id
    from cases
    inner join point_usage
        on cases.quarter = point_usage.quarter
        and {{ round_places('cases.latitude', 5) }} = point_usage.latitude
        and {{ round_places('cases.longitude', 5) }} = point_usage.longitude
    where cases.address_place is null
        and cases.case_id not in (select case_id from written)
        and point_usage.case_count <= greatest(
            {{ var('ticket_min_cases') }}, {{ var('ticket_point_placeholder_share') }} * point_usage.case_total)
        and cases.case_id not in (select case_id from named)

),

areas as (

    select case_id, quarter, 'area' as place_kind, 4 as place_rank, community_code as place_name,
        community_code as place_id
    from cases
    where community_code is not null
        and address_place is null
        and case_id not in (select case_id from written)
        and case_id not in (select case_id from named)
        and case_id not in (select case_id from pointed)

),

all_places as (

    select * from addressed
    union all
    select * from shortened
    union all
    select * from written
    union all
    select * from named
    union all
    select * from pointed
    union all
    select * from areas

),

final as (

    select
        case_id,
        quarter,
        place_kind,
        place_rank,
        place_name,
        place_kind || ':' || place_id as place_key
    from all_places

)

select * from final
{{ in_quarter_order() }}
