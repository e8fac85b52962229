{#- The terms of each eligible case's title and description (see `text_terms`), with how many of the
    quarter's cases use each: document frequencies are counted within the case's quarter, so a quarter's
    classes depend on that quarter's cases only and rebuilding later does not move them.

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('cases') }}

with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('cases') }}

),

terms as (

    {{ text_terms('cases', ['case_id', 'quarter'], 'case_text') }}

),

titles as (

    select case_id, quarter, {{ strip_boilerplate('title', ' ') }} as title from cases

),

title_terms as (

    {{ text_terms('titles', ['case_id', 'quarter'], 'title') }}

),

term_counts as (

    -- a title says in a line what the problem is: its terms count `ticket_title_weight` times (once
    -- already as part of the case's text)
    select case_id, quarter, term, sum(weight) as term_count
    from (
        select case_id, quarter, term, 1.0 as weight from terms
        union all
        select case_id, quarter, term, {{ var('ticket_title_weight') }} - 1.0 from title_terms
    ) as weighted_terms
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
