{#- The tickets that abated: active last quarter, with no class this quarter. Its `case_count` is what
    remains of its problem: this quarter's cases at its place (`place_key`) that describe the same problem
    — as alike to its last profile as a recurrence must be (`ticket_recurrence_similarity`), or, when
    either has no words, filed under its category — and not every case of its area and category.
    `described_by_quarter` is the last quarter it was active, whose summary describes the row.

    Finding what remains reads a quarter's cases, places and vectors, so this model is built quarter by
    quarter (macros/ticket_quarters.sql) at level 'chain': a ticket id can continue through every earlier
    quarter, so a changed quarter rebuilds itself and the quarters after it, and a night that changes
    only the latest quarter reads only that quarter's cases. -#}
{{ ticket_quarterly_config('chain') }}

with summary as (

    -- the ticket's quarters: those to rebuild and the quarter before each
    select ticket_id, quarter, quarter_index, cluster_id, place_key, problem_category
    from {{ ref('int_problem_class_tickets__summary') }}
    where {{ ticket_quarters_to_read_with_next('chain') }}

),

profiles as (

    select * from {{ ref('int_problem_classes__profiles') }}

),

eligible as (

    select case_id, quarter, quarter_index, problem_category, is_duplicate
    from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('chain') }}

),

places as (

    select case_id, quarter, place_key
    from {{ ref('int_ticket_cases__places') }}
    where {{ ticket_quarters_to_build('chain') }}

),

vectors as (

    select case_id, term, weight
    from {{ ref('int_ticket_cases__text_vectors') }}
    where {{ ticket_quarters_to_build('chain') }}

),

quarters as (

    select distinct quarter, quarter_index from eligible

),

previous as (

    select
        summary.*,
        lead(quarter_index) over (partition by ticket_id order by quarter_index) as next_index
    from summary

),

lapsed as (

    -- a ticket of last quarter with no class this quarter
    select previous.ticket_id, previous.cluster_id, previous.place_key, previous.problem_category,
        next_quarter.quarter, previous.quarter as last_active_quarter
    from previous
    inner join quarters as next_quarter on next_quarter.quarter_index = previous.quarter_index + 1
    where previous.next_index is distinct from previous.quarter_index + 1

),

remaining_cases as (

    select distinct lapsed.ticket_id, lapsed.quarter, lapsed.cluster_id, lapsed.problem_category, eligible.case_id,
        eligible.problem_category as case_category, eligible.is_duplicate
    from lapsed
    inner join places on lapsed.quarter = places.quarter and lapsed.place_key = places.place_key
    inner join eligible on places.case_id = eligible.case_id

),

likeness as (

    select remaining_cases.ticket_id, remaining_cases.case_id, sum(profiles.weight * vectors.weight) as similarity
    from remaining_cases
    inner join profiles on remaining_cases.cluster_id = profiles.cluster_id
    inner join vectors on remaining_cases.case_id = vectors.case_id and profiles.term = vectors.term
    group by remaining_cases.ticket_id, remaining_cases.case_id

),

worded_cases as (

    -- of the cases that may remain, those with words (not a distinct over every case's vector)
    select distinct vectors.case_id
    from vectors
    where vectors.case_id in (select case_id from remaining_cases)

),

worded_profiles as (

    select distinct cluster_id from profiles
    where cluster_id in (select cluster_id from lapsed)

),

same_problem as (

    select remaining_cases.ticket_id, remaining_cases.quarter, remaining_cases.case_id, remaining_cases.is_duplicate
    from remaining_cases
    left join likeness
        on remaining_cases.ticket_id = likeness.ticket_id and remaining_cases.case_id = likeness.case_id
    left join worded_cases on remaining_cases.case_id = worded_cases.case_id
    left join worded_profiles on remaining_cases.cluster_id = worded_profiles.cluster_id
    where coalesce(likeness.similarity, 0) >= {{ var('ticket_recurrence_similarity') }}
        or ((worded_cases.case_id is null or worded_profiles.cluster_id is null)
            and remaining_cases.problem_category = remaining_cases.case_category)

),

final as (

    select
        lapsed.ticket_id,
        lapsed.quarter,
        'abated' as status,
        true as was_ticket_last_quarter,
        count(case when not same_problem.is_duplicate then 1 end) as case_count,
        lapsed.last_active_quarter as described_by_quarter
    from lapsed
    left join same_problem on lapsed.ticket_id = same_problem.ticket_id and lapsed.quarter = same_problem.quarter
    group by lapsed.ticket_id, lapsed.quarter, lapsed.last_active_quarter

)

select * from final
{{ in_quarter_order() }}
