{#- The ticket of each class of problem: a `ticket_id` names one recurring problem at one place.

    A class continues last quarter's class — and keeps its ticket — when both are at the same place and
    are about the same problem. The same place: the class's own place (`place_key`, the one most members
    name), or an address or a place name that members of both write (the place a quarter's cases name
    most can change with the quarter's learned names: 茶场村's demolition was placed at 茶场村 in one
    quarter and at 区西湖, a piece of its street's name 西湖街道, in the next, every message naming both).
    The same problem: their profiles' cosine similarity reaches `ticket_recurrence_similarity`, or, when
    either has no words to compare, they share a category. Each class continues at most one, and is
    continued by at most one (the most alike pair wins), so a different problem at the same place or in
    the same area and category starts a ticket of its own, and a class whose area grows from a grid to
    its community, its place unchanged, keeps its ticket.
    A class that continues none starts a ticket: a digest of its place, category, quarter and first case.
    The chain is followed to its start however many quarters it spans. -#}
with recursive classes as (

    select * from {{ ref('int_problem_classes__classes') }}

),

profiles as (

    select * from {{ ref('int_problem_classes__profiles') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}

),

places as (

    select * from {{ ref('int_ticket_cases__places') }}

),

class_places as (

    -- the addresses and place names a class's members write (a cell or a community is too loose to
    -- say two quarters' classes are at one place)
    select distinct classes.cluster_id, classes.quarter_index, places.place_key
    from classes
    inner join clusters on classes.cluster_id = clusters.cluster_id
    inner join places on clusters.case_id = places.case_id
    where places.place_kind in ('address', 'named')

),

placed_pairs as (

    select earlier.cluster_id as earlier_cluster_id, later.cluster_id
    from classes as earlier
    inner join classes as later
        on later.quarter_index = earlier.quarter_index + 1
        and later.place_key = earlier.place_key

    union

    select earlier.cluster_id, later.cluster_id
    from class_places as earlier
    inner join class_places as later
        on later.quarter_index = earlier.quarter_index + 1
        and later.place_key = earlier.place_key

),

pairs as (

    select
        placed_pairs.earlier_cluster_id,
        placed_pairs.cluster_id,
        earlier.problem_category is not distinct from later.problem_category as same_category
    from placed_pairs
    inner join classes as earlier on placed_pairs.earlier_cluster_id = earlier.cluster_id
    inner join classes as later on placed_pairs.cluster_id = later.cluster_id

),

likeness as (

    {{ sparse_similarity('pairs', ['earlier_cluster_id', 'profiles', 'cluster_id'],
                         ['cluster_id', 'profiles', 'cluster_id']) }}

),

worded as (

    select distinct cluster_id from profiles

),

judged as (

    select pairs.*, coalesce(likeness.similarity, 0) as similarity
    from pairs
    left join likeness
        on pairs.earlier_cluster_id = likeness.earlier_cluster_id and pairs.cluster_id = likeness.cluster_id
    left join worded as earlier_words on pairs.earlier_cluster_id = earlier_words.cluster_id
    left join worded as later_words on pairs.cluster_id = later_words.cluster_id
    where coalesce(likeness.similarity, 0) >= {{ var('ticket_recurrence_similarity') }}
        or ((earlier_words.cluster_id is null or later_words.cluster_id is null) and pairs.same_category)

),

best_for_later as (

    select *
    from judged
    {{ qualify_rows("row_number() over (
        partition by cluster_id order by same_category desc, " ~ round_places('similarity', 9) ~ " desc, earlier_cluster_id
    ) = 1") }}

),

continued as (

    select cluster_id, earlier_cluster_id
    from best_for_later
    {{ qualify_rows("row_number() over (
        partition by earlier_cluster_id order by same_category desc, " ~ round_places('similarity', 9) ~ " desc, cluster_id
    ) = 1") }}

),

first_cases as (

    select cluster_id, min(case_id) as first_case_id
    from clusters
    group by cluster_id

),

started as (

    select
        classes.cluster_id,
        'T' || left({{ dbt.hash("classes.place_key || ':' || coalesce(classes.problem_category, '') || ':' || classes.quarter || ':' || first_cases.first_case_id") }}, 12)
            as ticket_id
    from classes
    inner join first_cases on classes.cluster_id = first_cases.cluster_id
    where classes.cluster_id not in (select cluster_id from continued)

),

chained (cluster_id, ticket_id) as (

    select cluster_id, ticket_id from started
    union all
    select continued.cluster_id, chained.ticket_id
    from chained
    inner join continued on chained.cluster_id = continued.earlier_cluster_id

),

final as (

    select
        chained.ticket_id,
        classes.*,
        continued.earlier_cluster_id
    from chained
    inner join classes on chained.cluster_id = classes.cluster_id
    left join continued on chained.cluster_id = continued.cluster_id

)

select * from final
