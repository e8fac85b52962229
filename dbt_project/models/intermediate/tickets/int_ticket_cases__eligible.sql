{#- The cases that can join a class of problem, with their review quarter, where they happened as their
    columns say it, and what they say reduced for comparison.

    A case filed under a personal-matter category (`is_place_bound` false: a labour contract, a pension)
    never forms a class; an unknown category (null) may, and so may a case with no category at all.

    Where, from the columns: a Chinese address without the case's own area names is the place up to its
    first spot (a building, a gate, a bus route; the spots are kept as `address_tokens`), and what it names
    after its last place suffix or spot is the `address_object` (楼道, 井盖); an English address becomes its
    street line, normalised (`english_address_key`); coordinates are kept as they are (a point shared by
    many cases is a placeholder, see int_ticket_cases__places). Place names in the free text are learned
    from the data in int_ticket_places__vocabulary. The text is the title and the description without
    stock phrases, punctuation and the case's own area names.

    Built case by case (macros/ticket_quarters.sql, level 'placed'): only new and changed cases are
    computed, and every case of a quarter whose common address start changed. -#}
{{ ticket_per_case_config('placed') }}

with cases as (

    select {{ ticket_case_columns() | join(', ') }}
    from {{ ref('int_cases__service_levels') }}
    where coalesce(is_place_bound, true) and {{ ticket_cases_to_build('placed') }}

),

common_starts as (

    select * from {{ ref('int_ticket_quarters__address_starts') }}

),

with_quarter as (

    select
        *,
        {{ quarter_label(to_local('received_at')) }} as quarter
    from cases

),

stripped as (

    select
        *,
        trim({{ strip_boilerplate("coalesce(title, '') || ' ' || coalesce(description, '')", ' ') }}) as stripped_text,
        {{ strip_boilerplate('address') }} as stripped_address,
        {{ is_chinese('address') }} as is_chinese_address
    from with_quarter

),

areas_removed as (

    select
        *,
        {{ without_case_areas('stripped_text') }} as arealess_text,
        {{ without_case_areas('stripped_address') }} as arealess_address
    from stripped

),

city_removed as (

    -- each address without the longest start the quarter's addresses have in common (the city's name,
    -- int_ticket_quarters__address_starts)
    select
        {{ star_replace('areas_removed', {'arealess_address':
            'coalesce(substring(areas_removed.arealess_address, length(common.address_start) + 1),
                areas_removed.arealess_address)'}) }}
    from areas_removed
    left join common_starts as common
        on areas_removed.quarter = common.quarter
        and areas_removed.is_chinese_address
        and {{ starts_with('areas_removed.arealess_address', 'common.address_start') }}
    {{ qualify_rows('row_number() over (
        partition by areas_removed.case_id order by length(common.address_start) desc nulls last
    ) = 1') }}

),

located as (

    select
        *,
        -- the place: the address up to its first spot or number (a grid worker's address may go on to
        -- the thing itself, 凤凰雅居小区绿化带; places are compared by prefix, see int_ticket_cases__links)
        case
            when is_chinese_address
            then regexp_replace(arealess_address, '({{ var("ticket_spot_token_pattern") }}|[0-9]).*$', '')
            else {{ english_address_key('address') }}
        end as address_place,
        -- what the address names after its last place suffix, spot or unit: the object, if any
        case when is_chinese_address then
            substring(arealess_address, length({{ address_up_to_last_place('arealess_address', include_spots=true) }}) + 1)
        end as address_tail
    from city_removed

),

tokenized as (

    select
        -- ids
        case_id,
        stream,
        resident_key,

        -- grouping keys
        quarter,
        cast(left(quarter, 4) as integer) * 4 + cast(right(quarter, 1) as integer) - 1 as quarter_index,
        category_code,
        -- the problem's category as the case carries it: its code, or, where no reference knows the
        -- source's categories, the path the export wrote (Boston's request type)
        coalesce(category_code, nullif(trim(category_path), '')) as problem_category,
        grid_code,
        community_code,
        street_code,
        district_code,

        -- the area names the case carries, for the reviewer
        coalesce(community, community_name) as community_name,
        coalesce(street, street_name) as street_name,
        coalesce(district, district_name) as district_name,

        -- what the reviewer and the similarity see
        channel,
        title,
        category_path,
        coalesce(nullif(description, ''), title) as description,
        arealess_text,

        -- where: two appeals naming different places or spots (buildings, gates) are about different
        -- things, however alike the rest of their words. An address that names no place of its own (only
        -- areas, somewhere near something, a stub too short to be a name) leaves the place to the text.
        case
            when not is_chinese_address then nullif(address_place, '')
            when length(address_place) >= {{ var('ticket_address_place_min_length') }}
                and not {{ regexp_contains('address_place', regexp_pattern(var('ticket_vague_address_pattern'))) }}
            then address_place
        end as address_place,
        latitude,
        longitude,
        case
            when is_chinese_address then {{ list_distinct(list_concat(
                address_tokens('arealess_text', var('ticket_spot_token_pattern')),
                address_tokens('arealess_address', var('ticket_spot_token_pattern'))
            )) }}
            else {{ address_tokens('arealess_text', var('ticket_spot_token_pattern')) }}
        end as address_tokens,
        case
            when length(address_tail) between 2 and 8 and not {{ regexp_contains('address_tail', "'[0-9]'") }}
            then address_tail
        end as address_object,

        -- closed as a duplicate of another case: one with it, not counted again
        is_duplicate,
        received_at

    from located

),

final as (

    select
        {{ star_rename('tokenized', {'arealess_text': 'case_text'}) }},
        -- what the similarity compares: what the appeal says, not where (places and spots are compared
        -- on their own; left in, a compound's name alone would make all its appeals look alike; learned
        -- place names are taken out of the vectors in int_ticket_cases__text_vectors)
        lower({{ replace_each(remove_name('arealess_text', place_head('address_place')), 'address_tokens', "' '") }})
            as comparable_text
    from tokenized

)

select * from final
{{ in_quarter_order() }}
