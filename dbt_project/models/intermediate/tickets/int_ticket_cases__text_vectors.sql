{#- Each eligible case's description as a TF-IDF vector over character bigrams, scaled to unit length,
    so the dot product of two vectors is their cosine similarity. Document frequencies are counted within
    the case's quarter: a quarter's classes depend on that quarter's cases only, and rebuilding later
    does not move them. -#}
with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    {% if not var('ticket_text_signal') %}
    -- the text signal is switched off: no vectors
    where false
    {% endif %}

),

bigrams as (

    {{ char_bigrams('cases', ['case_id', 'quarter'], 'comparable_text') }}

),

term_counts as (

    select case_id, quarter, bigram, count(*) as term_count
    from bigrams
    group by case_id, quarter, bigram

),

quarter_sizes as (

    select quarter, count(*) as case_total
    from cases
    group by quarter

),

document_counts as (

    select quarter, bigram, count(*) as document_count
    from term_counts
    group by quarter, bigram

),

weighted as (

    select
        term_counts.case_id,
        term_counts.quarter,
        term_counts.bigram,
        document_counts.document_count,
        quarter_sizes.case_total,
        term_counts.term_count * ln(1.0 * quarter_sizes.case_total / document_counts.document_count) as weight
    from term_counts
    inner join document_counts
        on term_counts.quarter = document_counts.quarter and term_counts.bigram = document_counts.bigram
    inner join quarter_sizes on term_counts.quarter = quarter_sizes.quarter
    -- bigrams in more than `ticket_stopword_max_df` of the quarter's descriptions are stock phrases
    -- ("意见很大", "反映过"): they say nothing about which problem a case is
    where document_counts.document_count <= greatest(3, {{ var('ticket_stopword_max_df') }} * quarter_sizes.case_total)

),

norms as (

    select case_id, sqrt(sum(weight * weight)) as norm
    from weighted
    group by case_id

),

final as (

    select
        weighted.case_id,
        weighted.quarter,
        weighted.bigram,
        weighted.weight / norms.norm as weight,
        -- rare enough to propose a candidate pair (see int_ticket_cases__links)
        weighted.document_count <= greatest(
            2, {{ var('ticket_candidate_max_df') }} * weighted.case_total
        ) as is_distinctive
    from weighted
    inner join norms on weighted.case_id = norms.case_id
    where norms.norm > 0 and weighted.weight > 0

)

select * from final
