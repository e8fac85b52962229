{#- Pairs of cases that describe the same problem. Candidates share a quarter and a street and either at
    least one distinctive bigram (one in at most `ticket_candidate_max_df` of the quarter's descriptions:
    common words alone make no candidate, which keeps the pairs few at city scale) or a category and a
    place. A pair is linked when its places, spots and objects do not disagree and the cosine similarity
    of the descriptions reaches the bar for how far apart the two are:
    - the same category, place and spot, and the same object or none named by either (the place is then
      the thing: a road, a river): `ticket_similarity_same_object` (residents describe one problem in
      many ways; what it is and where already agree);
    - the same category, place and spot: `ticket_similarity_same_place`;
    - otherwise `ticket_similarity`, raised for another category (one problem filed under neighbouring
      categories is joined this way), another community unless both name the place, or a spot only one
      of the two names.
    With the text signal off there are no links: classes are then whole category-and-community groups. -#}
with cases as (

    select eligible.*, coalesce(objects.object_names, []) as object_names
    from {{ ref('int_ticket_cases__eligible') }} as eligible
    left join {{ ref('int_ticket_cases__objects') }} as objects on eligible.case_id = objects.case_id
    {% if not var('ticket_text_signal') %}
    where false
    {% endif %}

),

vectors as (

    select * from {{ ref('int_ticket_cases__text_vectors') }}

),

distinctive_terms as (

    select vectors.case_id, vectors.quarter, vectors.bigram, cases.street_code
    from vectors
    inner join cases on vectors.case_id = cases.case_id
    where vectors.is_distinctive

),

candidates as (

    select left_terms.case_id, right_terms.case_id as linked_case_id
    from distinctive_terms as left_terms
    inner join distinctive_terms as right_terms
        on left_terms.quarter = right_terms.quarter
        and left_terms.street_code = right_terms.street_code
        and left_terms.bigram = right_terms.bigram
        and left_terms.case_id < right_terms.case_id

    union

    -- the same category at (the start of) the same place's name: what is said about one place may share
    -- no rare word, and the place's name is not in the vectors
    select left_case.case_id, right_case.case_id
    from cases as left_case
    inner join cases as right_case
        on left_case.quarter = right_case.quarter
        and left_case.street_code = right_case.street_code
        and left_case.category_code = right_case.category_code
        and left(left_case.place_name, 3) = left(right_case.place_name, 3)
        and left_case.case_id < right_case.case_id

),

shared_terms as (

    select
        candidates.case_id,
        candidates.linked_case_id,
        sum(left_terms.weight * right_terms.weight) as similarity
    from candidates
    inner join vectors as left_terms on candidates.case_id = left_terms.case_id
    inner join vectors as right_terms
        on candidates.linked_case_id = right_terms.case_id
        and left_terms.bigram = right_terms.bigram
    group by candidates.case_id, candidates.linked_case_id

),

compared as (

    select
        candidates.case_id,
        candidates.linked_case_id,
        coalesce(shared_terms.similarity, 0) as similarity,
        left_case.category_code = right_case.category_code as same_category,
        left_case.community_code = right_case.community_code as same_community,
        -- a grid worker's address may go on past the place (凤凰雅居小区绿化带 against 凤凰雅居)
        coalesce(starts_with(left_case.place_name, right_case.place_name)
            or starts_with(right_case.place_name, left_case.place_name), false) as same_place,
        left_case.place_name is null or right_case.place_name is null as place_unknown,
        {{ list_is_empty('left_case.address_tokens') }} as left_spotless,
        {{ list_is_empty('right_case.address_tokens') }} as right_spotless,
        {{ lists_overlap('left_case.address_tokens', 'right_case.address_tokens') }} as same_spot,
        {{ list_is_empty('left_case.object_names') }} as left_objectless,
        {{ list_is_empty('right_case.object_names') }} as right_objectless,
        {{ lists_overlap('left_case.object_names', 'right_case.object_names') }} as same_object
    from candidates
    left join shared_terms
        on candidates.case_id = shared_terms.case_id and candidates.linked_case_id = shared_terms.linked_case_id
    inner join cases as left_case on candidates.case_id = left_case.case_id
    inner join cases as right_case on candidates.linked_case_id = right_case.case_id

),

judged as (

    select
        case_id,
        linked_case_id,
        similarity,
        greatest(
            case
                when same_category and same_place
                    and (same_spot or (left_spotless and right_spotless))
                then
                    -- the same thing, or the place itself (a road, a river) when neither names a thing
                    case when same_object or (left_objectless and right_objectless)
                    then {{ var('ticket_similarity_same_object') }}
                    else {{ var('ticket_similarity_same_place') }} end
                else {{ var('ticket_similarity') }}
            end,
            case when not same_category then {{ var('ticket_similarity_neighbour_category') }} else 0 end,
            -- a named road or river runs through several communities: only unnamed places are held apart
            case
                when not same_community and not same_place
                then {{ var('ticket_similarity_other_community') }} else 0
            end,
            -- one names a building or gate, the other does not: maybe the same spot, maybe not
            case when left_spotless <> right_spotless then {{ var('ticket_similarity_one_sided_address') }} else 0 end
        ) as bar,
        (same_place or place_unknown)
        and (same_spot or left_spotless or right_spotless)
        and (same_object or left_objectless or right_objectless) as whereabouts_agree
    from compared

),

final as (

    select case_id, linked_case_id, similarity
    from judged
    where similarity >= bar and whereabouts_agree

)

select * from final
