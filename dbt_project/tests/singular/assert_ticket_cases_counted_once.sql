{#- A ticket's case_count is exactly its members that are not duplicates: nothing counted twice, no
    member lost between the intermediate classes and the published marts. -#}
with tickets as (

    select * from {{ ref('problem_class_tickets') }}
    where status <> 'abated'

),

members as (

    select ticket_id, quarter, count(case when not is_duplicate then 1 end) as counted
    from {{ ref('problem_class_ticket_cases') }}
    group by ticket_id, quarter

)

select tickets.ticket_id, tickets.quarter, tickets.case_count, members.counted
from tickets
full outer join members on tickets.ticket_id = members.ticket_id and tickets.quarter = members.quarter
where members.counted is null or tickets.case_count is null or tickets.case_count <> members.counted
