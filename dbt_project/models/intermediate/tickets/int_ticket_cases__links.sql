{#- Pairs of cases that describe the same problem: the cosine similarity of their descriptions reaches
    the bar for how far apart they are. Candidates share a quarter, a street and a second-level category
    (so one problem filed under neighbouring categories can be joined); the bar rises for a neighbouring
    category and for another community, the riskier joins. With the text signal off there are no links:
    classes are then whole category-and-community groups. -#}
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
        vectors.weight,
        cases.street_code,
        cases.category_group
    from vectors
    inner join cases on vectors.case_id = cases.case_id

),

similarities as (

    select
        left_terms.case_id as case_id,
        right_terms.case_id as linked_case_id,
        sum(left_terms.weight * right_terms.weight) as similarity
    from blocked_terms as left_terms
    inner join blocked_terms as right_terms
        on left_terms.quarter = right_terms.quarter
        and left_terms.street_code = right_terms.street_code
        and left_terms.category_group = right_terms.category_group
        and left_terms.bigram = right_terms.bigram
        and left_terms.case_id < right_terms.case_id
    group by left_terms.case_id, right_terms.case_id

),

judged as (

    select
        similarities.case_id,
        similarities.linked_case_id,
        similarities.similarity,
        greatest(
            {{ var('ticket_similarity') }},
            case
                when left_case.category_code <> right_case.category_code
                then {{ var('ticket_similarity_neighbour_category') }} else 0
            end,
            case
                when left_case.community_code <> right_case.community_code
                then {{ var('ticket_similarity_other_community') }} else 0
            end
        ) as bar
    from similarities
    inner join cases as left_case on similarities.case_id = left_case.case_id
    inner join cases as right_case on similarities.linked_case_id = right_case.case_id

),

final as (

    select case_id, linked_case_id, similarity
    from judged
    where similarity >= bar

)

select * from final
