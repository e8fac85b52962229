{#- Each ticket's status in each quarter, and the tickets that abated.

    `new` (no ticket of this id last quarter), `persisting` (there was), `escalated` (either, but at least
    `ticket_escalate_reopened_cases` member cases were reopened or `ticket_escalate_whistled_cases` were
    whistle-blown, 吹哨), `abated` (a ticket last quarter that did not recur as a class this quarter: its
    rows and what remains of its problem come from int_problem_class_tickets__abated).
    `described_by_quarter` is the quarter whose summary describes the row: its own, or for an abated
    ticket the last it was active.

    The active rows are computed whole every night from the summary (how a ticket's cases were handled
    changes daily); the abated ones, which read the quarters' cases, are kept quarter by quarter. -#}
with summary as (

    select * from {{ ref('int_problem_class_tickets__summary') }}

),

abated as (

    select * from {{ ref('int_problem_class_tickets__abated') }}

),

previous as (

    select
        summary.*,
        lag(quarter_index) over (partition by ticket_id order by quarter_index) as previous_index
    from summary

),

active as (

    select
        ticket_id,
        quarter,
        case
            when reopened_cases >= {{ var('ticket_escalate_reopened_cases') }}
                or whistled_cases >= {{ var('ticket_escalate_whistled_cases') }}
            then 'escalated'
            when previous_index = quarter_index - 1 then 'persisting'
            else 'new'
        end as status,
        coalesce(previous_index = quarter_index - 1, false) as was_ticket_last_quarter,
        case_count,
        quarter as described_by_quarter
    from previous

),

final as (

    select * from active
    union all
    select ticket_id, quarter, status, was_ticket_last_quarter, case_count, described_by_quarter from abated

)

select * from final
