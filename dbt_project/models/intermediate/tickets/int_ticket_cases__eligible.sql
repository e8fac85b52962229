{#- The cases that can join a class of problem: placed in a community and classified under a category
    whose problems belong to a place (personal matters never form a class), with their review quarter and their description reduced for comparison (stock phrases, punctuation and the case's own
    place names removed, so two cases resemble each other for what they say, not for where they are). -#}
with place_bound_categories as (

    select category_code from {{ ref('categories') }}
    where is_place_bound

),

cases as (

    select * from {{ ref('int_cases__service_levels') }}
    where community_code is not null
        and category_code in (select category_code from place_bound_categories)

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
        {{ strip_boilerplate('description') }} as stripped_text
    from with_quarter

),

placeless as (

    select
        *,
        -- a building is a 栋 however it is written: 3号楼, 3幢 and 3栋 are one spot
        regexp_replace({{ remove_name(remove_name(remove_name(remove_name(remove_name(
            'stripped_text', 'community'), 'community_name'), 'street'), 'street_name'), 'district') }},
            '号楼|幢', '栋', 'g') as comparable_text
    from stripped

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
        left(category_code, 5) as category_group,
        grid_code,
        community_code,
        street_code,

        -- what the reviewer and the similarity see
        channel,
        description,
        comparable_text as placeless_text,
        -- the spots (building numbers, gates) and places (compounds, roads) the text names: two appeals
        -- naming different ones are about different things, however alike the rest of their words
        {{ address_tokens('comparable_text', var('ticket_spot_token_pattern')) }} as address_tokens,
        {{ place_tokens(
            "regexp_replace(comparable_text, '" ~ var('ticket_not_place_pattern') ~ "', ' ', 'g')",
            var('ticket_place_suffixes'), var('ticket_place_name_chars')
        ) }} as place_tokens,

        -- how it was handled
        is_duplicate,
        reopen_count,
        escalated_at,
        is_resolved,
        is_rated,
        is_satisfied,
        received_at,
        resolved_at

    from placeless

),

final as (

    select
        * exclude (placeless_text),
        -- what the similarity compares: what the appeal says, not where (places and spots are compared
        -- as tokens above; left in, a compound's name alone would make all its appeals look alike)
        list_reduce(
            list_prepend(placeless_text, list_concat(place_tokens, address_tokens)),
            lambda text, name: replace(text, name, ' ')
        ) as comparable_text
    from tokenized

)

select * from final
