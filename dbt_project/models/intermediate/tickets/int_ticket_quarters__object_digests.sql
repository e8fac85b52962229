{#- A digest per quarter of its cases and of the objects known by then (int_problem_objects__vocabulary):
    an object first named in a second street in an earlier quarter, by a late case, changes what every
    later quarter's cases name, and so rebuilds those quarters' links and classes. -#}
with digests as (

    select * from {{ ref('int_ticket_quarters__digests') }}

),

vocabulary as (

    select * from {{ ref('int_problem_objects__vocabulary') }}

),

known as (

    select digests.quarter, {{ ordered_listagg('vocabulary.object_name', "'|'", 'order by vocabulary.object_name') }} as objects
    from digests
    inner join vocabulary on vocabulary.known_from_quarter <= digests.quarter
    group by digests.quarter

),

final as (

    select
        digests.quarter,
        md5(digests.digest || ':' || coalesce(known.objects, '')) as digest,
        -- the objects alone: what a case's objects depend on besides the case (int_ticket_cases__objects)
        md5(coalesce(known.objects, '')) as known_objects
    from digests
    left join known on digests.quarter = known.quarter

)

select * from final
