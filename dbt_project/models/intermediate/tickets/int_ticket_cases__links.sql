{#- Pairs of cases that describe the same problem: the cosine similarity of their descriptions reaches
    the bar for how far apart they are. Candidates share a quarter and a street and a named place or at
    least one distinctive bigram (one in at most `ticket_candidate_max_df` of the quarter's
    descriptions: common words alone make no candidate, which keeps the pairs few at city scale); their
    similarity is then the
    full cosine. Any category may be joined, so one problem filed under neighbouring categories comes
    together, but the bar rises for another category and for another community, the riskier joins. With
    the text signal off there are no links: classes are then whole category-and-community groups. -#}
with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

vectors as (

    select * from {{ ref('int_ticket_cases__text_vectors') }}

),

blocked_terms as (

    select
        vectors.case_id,
        vectors.quarter,
        vectors.bigram,
        vectors.is_distinctive,
        vectors.weight,
        cases.street_code
    from vectors
    inner join cases on vectors.case_id = cases.case_id

),

named_places as (

    select case_id, quarter, street_code, unnest(place_tokens) as place_token
    from cases

),

candidates as (

    select
        left_terms.case_id as case_id,
        right_terms.case_id as linked_case_id
    from blocked_terms as left_terms
    inner join blocked_terms as right_terms
        on left_terms.quarter = right_terms.quarter
        and left_terms.street_code = right_terms.street_code
        and left_terms.bigram = right_terms.bigram
        and left_terms.case_id < right_terms.case_id
    where left_terms.is_distinctive

    union

    -- appeals naming the same place are candidates too: the place's name is left out of the vectors,
    -- and what is said about one place may share no rare word
    select
        left_places.case_id,
        right_places.case_id
    from named_places as left_places
    inner join named_places as right_places
        on left_places.quarter = right_places.quarter
        and left_places.street_code = right_places.street_code
        and left_places.place_token = right_places.place_token
        and left_places.case_id < right_places.case_id

),

similarities as (

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

judged as (

    select
        similarities.case_id,
        similarities.linked_case_id,
        similarities.similarity,
        greatest(
            -- the same category at the same named place (and the same spot, if any is named) needs
            -- less of the rest of the words to agree: residents describe one problem in many ways
            case
                when left_case.category_code = right_case.category_code
                    and {{ lists_overlap('left_case.place_tokens', 'right_case.place_tokens') }}
                    and ({{ lists_overlap('left_case.address_tokens', 'right_case.address_tokens') }}
                        or ({{ list_is_empty('left_case.address_tokens') }}
                            and {{ list_is_empty('right_case.address_tokens') }}))
                then {{ var('ticket_similarity_same_place') }}
                else {{ var('ticket_similarity') }}
            end,
            case
                when left_case.category_code <> right_case.category_code
                then {{ var('ticket_similarity_neighbour_category') }} else 0
            end,
            case
                when left_case.community_code <> right_case.community_code
                then {{ var('ticket_similarity_other_community') }} else 0
            end,
            -- one names a building or gate, the other does not: maybe the same spot, maybe not
            case
                when ({{ list_is_empty('left_case.address_tokens') }}) <> ({{ list_is_empty('right_case.address_tokens') }})
                then {{ var('ticket_similarity_one_sided_address') }} else 0
            end
        ) as bar,
        ({{ lists_overlap('left_case.address_tokens', 'right_case.address_tokens') }}
            or {{ list_is_empty('left_case.address_tokens') }}
            or {{ list_is_empty('right_case.address_tokens') }})
        and ({{ lists_overlap('left_case.place_tokens', 'right_case.place_tokens') }}
            or {{ list_is_empty('left_case.place_tokens') }}
            or {{ list_is_empty('right_case.place_tokens') }}) as addresses_agree
    from similarities
    inner join cases as left_case on similarities.case_id = left_case.case_id
    inner join cases as right_case on similarities.linked_case_id = right_case.case_id

),

final as (

    select case_id, linked_case_id, similarity
    from judged
    where similarity >= bar and addresses_agree

)

select * from final
