{#- Each eligible case's title and description as a TF-IDF vector over its terms (see `text_terms`),
    scaled to unit length, so the dot product of two vectors is their cosine similarity. Left out: stock
    terms (in more than `ticket_stopword_max_df` of the quarter's texts: "意见很大", "please help") and
    the terms of the places the case names (int_ticket_cases__places), so two cases resemble each other
    for what they say, not for where: the place is compared on its own.

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('cases') }}

with case_terms as (

    select * from {{ ref('int_ticket_cases__terms') }}
    where {{ ticket_quarters_to_build('cases') }}
    {% if not var('ticket_text_signal') %}
    -- the text signal is switched off: no vectors
        and false
    {% endif %}

),

quarter_terms as (

    select * from {{ ref('int_ticket_quarters__terms') }}
    where {{ ticket_quarters_to_build('cases') }}

),

terms as (

    -- each case's terms with how many of the quarter's cases use them
    select case_terms.*, quarter_terms.document_count, quarter_terms.case_total
    from case_terms
    inner join quarter_terms on case_terms.quarter = quarter_terms.quarter and case_terms.term = quarter_terms.term

),

places as (

    select * from {{ ref('int_ticket_cases__places') }}
    where place_kind in ('address', 'named') and {{ ticket_quarters_to_build('cases') }}

),

weighted as (

    select
        case_id,
        quarter,
        term,
        document_count,
        case_total,
        term_count * ln(cast(case_total as double) / document_count) as weight
    from terms
    where document_count <= greatest(3, {{ var('ticket_stopword_max_df') }} * case_total)

),

placeless as (

    select weighted.*
    from weighted
    where not exists (
        select 1 from places
        where places.case_id = weighted.case_id and contains(lower(places.place_name), weighted.term)
    )

),

norms as (

    select case_id, sqrt(sum(weight * weight)) as norm
    from placeless
    group by case_id

),

final as (

    select
        placeless.case_id,
        placeless.quarter,
        placeless.term,
        placeless.weight / norms.norm as weight,
        -- rare enough to propose a candidate pair (see int_ticket_cases__links)
        placeless.document_count <= greatest(
            2, {{ var('ticket_candidate_max_df') }} * placeless.case_total
        ) as is_distinctive
    from placeless
    inner join norms on placeless.case_id = norms.case_id
    where norms.norm > 0 and placeless.weight > 0

)

select * from final
{{ in_quarter_order() }}
