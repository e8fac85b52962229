{#- The terms of each eligible case's title and description (see `text_terms`) and how often it uses each;
    a title's terms count `ticket_title_weight` times. How many of the quarter's cases use a term is
    counted apart (int_ticket_quarters__terms), so a case's terms do not change when its quarter grows.

    Built case by case (macros/ticket_quarters.sql): a night computes only its new and changed cases. -#}
{{ ticket_per_case_config('case') }}

with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_cases_to_build('case') }}

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

final as (

    -- a title says in a line what the problem is: its terms count `ticket_title_weight` times (once
    -- already as part of the case's text)
    select case_id, quarter, term, sum(weight) as term_count
    from (
        select case_id, quarter, term, 1.0 as weight from terms
        union all
        select case_id, quarter, term, {{ var('ticket_title_weight') }} - 1.0 from title_terms
    ) as weighted_terms
    group by case_id, quarter, term

)

select * from final
{{ in_quarter_order() }}
