{#- The member cases of each class of problem per quarter, with the class's ticket: its cluster's cases
    and, for a slow problem, those of last quarter's cluster it carries (listed in the class's quarter). -#}
with tickets as (

    select * from {{ ref('int_problem_classes__tickets') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}

),

cases as (

    select case_id, is_duplicate from {{ ref('int_ticket_cases__eligible') }}

),

ticket_clusters as (

    {{ class_clusters('tickets') }}

),

final as (

    select
        tickets.ticket_id,
        tickets.quarter,
        tickets.area_level,
        tickets.area_code,
        tickets.category_code,
        clusters.case_id,
        cases.is_duplicate
    from tickets
    inner join ticket_clusters on tickets.cluster_id = ticket_clusters.cluster_id
    inner join clusters on clusters.cluster_id = ticket_clusters.member_cluster_id
    inner join cases on clusters.case_id = cases.case_id

)

select * from final
