{#- One row per class-of-problem ticket per review quarter. The id is derived from the class's place and
    category, so the same class recurring in a later quarter keeps its ticket. A ticket that qualified
    last quarter but not this one is kept for this quarter as `abated`. -#}
with members as (

    select * from {{ ref('int_problem_classes__members') }}

),

cases as (

    select * from {{ ref('cases') }}

),

grid_category_counts as (

    select quarter, grid_code, category_code, count(*) as case_count
    from cases
    group by quarter, grid_code, category_code

),

quarters as (

    select distinct
        quarter,
        cast(left(quarter, 4) as integer) * 4 + cast(right(quarter, 1) as integer) - 1 as quarter_index
    from cases

),

active as (

    select
        ticket_id,
        members.quarter,
        quarters.quarter_index,
        any_value(area_level) as area_level,
        any_value(area_code) as area_code,
        any_value(category_code) as category_code,
        count(*) as case_count
    from members
    inner join quarters on members.quarter = quarters.quarter
    group by ticket_id, members.quarter, quarters.quarter_index

),

previous_appearance as (

    select
        active.*,
        lag(quarter_index) over (partition by ticket_id order by quarter_index) as previous_index
    from active

),

classified as (

    select
        ticket_id,
        quarter,
        quarter_index,
        area_level,
        area_code,
        category_code,
        case_count,
        case when previous_index = quarter_index - 1 then 'persisting' else 'new' end as status
    from previous_appearance

),

abated as (

    select
        last_quarter.ticket_id,
        next_quarter.quarter,
        next_quarter.quarter_index,
        last_quarter.area_level,
        last_quarter.area_code,
        last_quarter.category_code,
        coalesce(counts.case_count, 0) as case_count,
        'abated' as status
    from active as last_quarter
    inner join quarters as next_quarter on next_quarter.quarter_index = last_quarter.quarter_index + 1
    left join active as this_quarter
        on this_quarter.ticket_id = last_quarter.ticket_id
        and this_quarter.quarter_index = next_quarter.quarter_index
    left join grid_category_counts as counts
        on counts.quarter = next_quarter.quarter
        and counts.grid_code = last_quarter.area_code
        and counts.category_code = last_quarter.category_code
    where this_quarter.ticket_id is null

),

final as (

    select ticket_id, quarter, area_level, area_code, category_code, case_count, status from classified
    union all
    select ticket_id, quarter, area_level, area_code, category_code, case_count, status from abated

)

select * from final
