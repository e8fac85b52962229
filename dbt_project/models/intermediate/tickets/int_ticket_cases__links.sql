{#- Pairs of cases that describe the same problem at the same place, each with its reasons: the place
    they share, how alike their texts are and the words they share.

    Candidates share a quarter and a place (int_ticket_cases__places: an address, a place name in the
    text, a coordinate cell, or a community when nothing finer is known) and either a category or a
    distinctive term (one in at most `ticket_candidate_max_df` of the quarter's texts): blocking by place
    keeps the pairs few at city scale. A pair is linked when its spots and objects do not disagree and the
    cosine similarity of its texts reaches the bar for how much else already agrees:
    - the same category at the same address and spot, and the same object or none named by either (the
      place is then the thing: a road, a river): `ticket_similarity_same_object`;
    - the same category at the same address and spot, or at the same named place or cell:
      `ticket_similarity_same_place`;
    - an unknown category on either side (a source without categories) at a named place, address or
      cell: `ticket_similarity_uncategorised` — the text alone says what the problem is;
    - two different categories: `ticket_similarity_neighbour_category` (one problem filed under two
      categories is joined this way; two problems at one compound are not);
    - only a community in common: `ticket_similarity`;
    - one names a building or gate and the other does not: at least `ticket_similarity_one_sided_address`.
    Two cases with addresses must not name different ones (a name in the text, 枫林公寓, does not make
    丹桂枫林公寓 and 凤凰枫林公寓 one place), nor different spots; nor may two that meet at an address,
    one of them placed there by its text; two placed by coordinates only must be within
    `ticket_point_max_metres`.
    With the text signal off there are no links: classes are then whole category-and-community groups.

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('objects') }}

with cases as (

    -- only what the pairs are judged on: the texts are compared through their vectors
    select
        eligible.case_id,
        eligible.problem_category,
        eligible.address_place,
        eligible.address_tokens,
        eligible.latitude,
        eligible.longitude,
        coalesce(objects.object_names, {{ empty_string_list() }}) as object_names,
        -- the pairs are counted in tens of millions on a megacity's quarter: numbers, not ids, keep them
        -- small (numbered in id order, so a pair's lower number is its lower id)
        row_number() over (order by eligible.case_id) as case_number
    from {{ ref('int_ticket_cases__eligible') }} as eligible
    left join {{ ref('int_ticket_cases__objects') }} as objects on eligible.case_id = objects.case_id
    where {{ ticket_quarters_to_build('objects', 'eligible.quarter') }}
    {% if not var('ticket_text_signal') %}
        and false
    {% endif %}

),

places as (

    select * from {{ ref('int_ticket_cases__places') }}
    where {{ ticket_quarters_to_build('objects') }}

),

vectors as (

    select * from {{ ref('int_ticket_cases__text_vectors') }}
    where {{ ticket_quarters_to_build('objects') }}

),

placed as (

    select
        places.*,
        cases.case_number,
        cases.problem_category,
        dense_rank() over (order by places.place_key) as place_number
    from places
    inner join cases on places.case_id = cases.case_id

),

placed_terms as (

    -- the distinctive terms of each case at each of its places
    select placed.case_number, placed.quarter, placed.place_number, vectors.term
    from placed
    inner join vectors on placed.case_id = vectors.case_id
    where vectors.is_distinctive

),

paired as (

    -- at one place, the same category ...
    select left_place.case_number, right_place.case_number as linked_case_number, left_place.place_number
    from placed as left_place
    inner join placed as right_place
        on left_place.quarter = right_place.quarter
        and left_place.place_number = right_place.place_number
        and left_place.problem_category = right_place.problem_category
        and left_place.case_number < right_place.case_number

    union

    -- ... or a distinctive term (never every pair of a busy place)
    select left_terms.case_number, right_terms.case_number, left_terms.place_number
    from placed_terms as left_terms
    inner join placed_terms as right_terms
        on left_terms.quarter = right_terms.quarter
        and left_terms.place_number = right_terms.place_number
        and left_terms.term = right_terms.term
        and left_terms.case_number < right_terms.case_number

),

candidates as (

    -- the most specific place each pair shares
    select paired.case_number, paired.linked_case_number, placed.quarter, placed.place_kind, placed.place_name
    from paired
    inner join placed
        on paired.case_number = placed.case_number and paired.place_number = placed.place_number
    {{ qualify_rows("row_number() over (
        partition by paired.case_number, paired.linked_case_number
        order by placed.place_rank, placed.place_name
    ) = 1") }}

),

compared as (

    -- where the two cases are and what they are about, before their texts are compared
    select
        left_case.case_id,
        right_case.case_id as linked_case_id,
        candidates.quarter,
        candidates.place_kind,
        candidates.place_name,
        left_case.problem_category = right_case.problem_category as same_category,
        left_case.problem_category is null or right_case.problem_category is null as category_unknown,
        -- both have an address: it decides where (a grid worker's may go on past the place, 凤凰雅居小区绿化带
        -- against 凤凰雅居), and their spots are theirs
        left_case.address_place is not null and right_case.address_place is not null as both_addressed,
        coalesce({{ starts_with('left_case.address_place', 'right_case.address_place') }}
            or {{ starts_with('right_case.address_place', 'left_case.address_place') }}, true) as addresses_agree,
        {{ list_is_empty('left_case.address_tokens') }} as left_spotless,
        {{ list_is_empty('right_case.address_tokens') }} as right_spotless,
        {{ lists_overlap('left_case.address_tokens', 'right_case.address_tokens') }} as same_spot,
        {{ list_is_empty('left_case.object_names') }} as left_objectless,
        {{ list_is_empty('right_case.object_names') }} as right_objectless,
        {{ lists_overlap('left_case.object_names', 'right_case.object_names') }} as same_object,
        {{ distance_metres('left_case.latitude', 'left_case.longitude', 'right_case.latitude', 'right_case.longitude') }}
            as distance_metres
    from candidates
    inner join cases as left_case on candidates.case_number = left_case.case_number
    inner join cases as right_case on candidates.linked_case_number = right_case.case_number

),

judged as (

    select
        *,
        greatest(
            case
                when place_kind = 'area' then {{ var('ticket_similarity') }}
                when category_unknown then {{ var('ticket_similarity_uncategorised') }}
                when not same_category then {{ var('ticket_similarity_neighbour_category') }}
                when place_kind = 'address' and (same_spot or (left_spotless and right_spotless))
                    -- the same thing, or the place itself (a road, a river) when neither names a thing
                    and (same_object or (left_objectless and right_objectless))
                then {{ var('ticket_similarity_same_object') }}
                else {{ var('ticket_similarity_same_place') }}
            end,
            -- one names a building or gate, the other does not: maybe the same spot, maybe not
            case
                when both_addressed and left_spotless <> right_spotless
                then {{ var('ticket_similarity_one_sided_address') }} else 0
            end
        ) as bar,
        -- spots count where addresses say where, or where a text names a place an address names; in free
        -- text alone a number with 号 is as often a date
        addresses_agree
        and (not (both_addressed or place_kind = 'address') or same_spot or left_spotless or right_spotless)
        and (same_object or left_objectless or right_objectless)
        and (place_kind <> 'point' or distance_metres <= {{ var('ticket_point_max_metres') }}) as whereabouts_agree
    from compared

),

placed_alike as (

    -- only the pairs whose whereabouts agree can link, so only their texts are compared: on a megacity
    -- quarter about one candidate in eighteen, and each compared pair holds its left case's every term
    select * from judged
    where whereabouts_agree

),

shared_terms as (

    -- shared_words is what the reviewer reads: the words that weigh most in the likeness
    {{ sparse_similarity('placed_alike', ['case_id', 'vectors', 'case_id'], ['linked_case_id', 'vectors', 'case_id'],
                         extra=ordered_listagg('left_terms.term', "' '", 'order by ' ~ round_places('left_terms.weight * right_terms.weight', 9) ~ ' desc, left_terms.term', var('ticket_reason_terms')) ~ ' as shared_words') }}

),

final as (

    select
        placed_alike.case_id,
        placed_alike.linked_case_id,
        placed_alike.quarter,
        placed_alike.place_kind,
        placed_alike.place_name,
        coalesce(shared_terms.similarity, 0) as similarity,
        placed_alike.bar,
        placed_alike.same_category,
        shared_terms.shared_words
    from placed_alike
    left join shared_terms
        on placed_alike.case_id = shared_terms.case_id and placed_alike.linked_case_id = shared_terms.linked_case_id
    where coalesce(shared_terms.similarity, 0) >= placed_alike.bar

)

select * from final
{{ in_quarter_order() }}
