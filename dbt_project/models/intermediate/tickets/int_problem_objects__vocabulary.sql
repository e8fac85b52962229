{#- The things appeals are about (楼道, 电梯厅, 井盖, 物业费, KTV), learned from addresses: a grid worker
    records where a problem is down to the thing itself (凤凰雅居31栋楼道), so what an address names after
    its place and spot is an object. A name becomes an object once addresses in
    `ticket_object_min_streets` streets have used it: one shop's name is not a kind of thing. Each object
    is known from the quarter that happened in, so later data never changes an earlier quarter's tickets. -#}
with named as (

    select address_object as object_name, street_code, quarter
    from {{ ref('int_ticket_cases__eligible') }}
    where address_object is not null

),

first_named_per_street as (

    select object_name, street_code, min(quarter) as first_quarter
    from named
    group by object_name, street_code

),

ranked as (

    select
        object_name,
        first_quarter,
        row_number() over (partition by object_name order by first_quarter, street_code) as street_rank
    from first_named_per_street

),

final as (

    select object_name, first_quarter as known_from_quarter
    from ranked
    where street_rank = {{ var('ticket_object_min_streets') }}

)

select * from final
