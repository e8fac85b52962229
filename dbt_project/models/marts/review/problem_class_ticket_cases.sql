with members as (

    select * from {{ ref('int_problem_classes__members') }}

),

final as (

    select ticket_id, quarter, case_id, is_duplicate from members

)

select * from final
