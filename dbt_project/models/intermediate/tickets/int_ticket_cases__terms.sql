{#- The terms of each eligible case's title and description (see `text_terms`), with how many of the
    quarter's cases use each: document frequencies are counted within the case's quarter, so a quarter's
    classes depend on that quarter's cases only and rebuilding later does not move them. -#}
with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

terms as (

    {{ text_terms('cases', ['case_id', 'quarter'], 'case_text') }}

),

term_counts as (

    select case_id, quarter, term, count(*) as term_count
    from terms
    group by case_id, quarter, term

),

quarter_sizes as (

    select quarter, count(*) as case_total
    from cases
    group by quarter

),

document_counts as (

    select quarter, term, count(*) as document_count
    from term_counts
    group by quarter, term

),

final as (

    select
        term_counts.case_id,
        term_counts.quarter,
        term_counts.term,
        term_counts.term_count,
        document_counts.document_count,
        quarter_sizes.case_total
    from term_counts
    inner join document_counts
        on term_counts.quarter = document_counts.quarter and term_counts.term = document_counts.term
    inner join quarter_sizes on term_counts.quarter = quarter_sizes.quarter

)

select * from final
