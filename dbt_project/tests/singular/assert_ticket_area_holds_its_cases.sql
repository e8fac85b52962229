{#- Every member case of a ticket lies inside the ticket's area: a grid ticket's cases in its grid (or, grid
    unknown, its community), a community ticket's in its community, a street ticket's in its street. -#}
with members as (

    select * from {{ ref('problem_class_ticket_cases') }}

),

tickets as (

    select * from {{ ref('problem_class_tickets') }}

),

cases as (

    select * from {{ ref('cases') }}

),

areas as (

    select * from {{ ref('int_areas__grids') }}

)

select members.ticket_id, members.quarter, members.case_id, tickets.area_level, tickets.area_code
from members
inner join tickets on members.ticket_id = tickets.ticket_id and members.quarter = tickets.quarter
inner join cases on members.case_id = cases.case_id
left join areas on tickets.area_level = 'grid' and tickets.area_code = areas.grid_code
where not (
    (tickets.area_level = 'grid' and (cases.grid_code = tickets.area_code
        or (cases.grid_code is null and cases.community_code = areas.community_code)))
    or (tickets.area_level = 'community' and cases.community_code = tickets.area_code)
    or (tickets.area_level = 'street' and cases.street_code = tickets.area_code)
)
