{#- The objects each eligible case names, in its description or address, among those known by its quarter.
    A name inside a longer one the case also names counts as the longer one only (电梯厅, not 电梯).

    Built case by case (macros/ticket_quarters.sql): a night computes its new and changed cases, and every
    case of a quarter whose known objects changed. -#}
{{ ticket_per_case_config('objects') }}

with cases as (

    select case_id, quarter, comparable_text, address_object from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_cases_to_build('objects') }}

),

vocabulary as (

    select * from {{ ref('int_problem_objects__vocabulary') }}

),

named as (

    select cases.case_id, vocabulary.object_name
    from cases
    inner join vocabulary
        on vocabulary.known_from_quarter <= cases.quarter
        and (contains(cases.comparable_text, vocabulary.object_name)
            or cases.address_object = vocabulary.object_name)

),

longest as (

    select named.case_id, named.object_name
    from named
    where not exists (
        select 1 from named as longer
        where longer.case_id = named.case_id
            and longer.object_name <> named.object_name
            and contains(longer.object_name, named.object_name)
    )

),

final as (

    select longest.case_id, cases.quarter, {{ sorted_list_agg('longest.object_name') }} as object_names
    from longest
    inner join cases on longest.case_id = cases.case_id
    group by longest.case_id, cases.quarter

)

select * from final
{{ in_quarter_order() }}
