{#- Every member case of a ticket lies inside the ticket's area wherever the case's own area is known: a
    grid ticket's cases in its grid, a community ticket's in its community, a street's in its street, a
    district's in its district; a city ticket holds every case. -#}
with members as (

    select * from {{ ref('problem_class_ticket_cases') }}

),

tickets as (

    select * from {{ ref('problem_class_tickets') }}

),

cases as (

    select * from {{ ref('cases') }}

)

select members.ticket_id, members.quarter, members.case_id, tickets.area_level, tickets.area_code
from members
inner join tickets on members.ticket_id = tickets.ticket_id and members.quarter = tickets.quarter
inner join cases on members.case_id = cases.case_id
where not (
    tickets.area_level = 'city'
    or (tickets.area_level = 'grid' and cases.grid_code = tickets.area_code)
    or (tickets.area_level = 'community' and coalesce(cases.community_code, tickets.area_code) = tickets.area_code)
    or (tickets.area_level = 'street' and coalesce(cases.street_code, tickets.area_code) = tickets.area_code)
    or (tickets.area_level = 'district' and coalesce(cases.district_code, tickets.area_code) = tickets.area_code)
)
