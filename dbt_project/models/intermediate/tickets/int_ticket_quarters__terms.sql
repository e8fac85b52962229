{#- Each term of a quarter's eligible cases with how many of them use it (`document_count`) and how many
    eligible cases the quarter has (`case_total`): document frequencies are counted within the quarter, so
    a quarter's classes depend on that quarter's cases only and rebuilding later does not move them.

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('cases') }}

with terms as (

    select * from {{ ref('int_ticket_cases__terms') }}
    where {{ ticket_quarters_to_build('cases') }}

),

cases as (

    select quarter from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('cases') }}

),

quarter_sizes as (

    select quarter, count(*) as case_total
    from cases
    group by quarter

),

document_counts as (

    select quarter, term, count(*) as document_count
    from terms
    group by quarter, term

),

final as (

    select document_counts.quarter, document_counts.term, document_counts.document_count, quarter_sizes.case_total
    from document_counts
    inner join quarter_sizes on document_counts.quarter = quarter_sizes.quarter

)

select * from final
{{ in_quarter_order() }}
