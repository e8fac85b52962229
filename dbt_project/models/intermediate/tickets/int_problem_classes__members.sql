{#- The member cases of each class of problem per quarter, with the class's ticket.

    A cluster of cases becomes a class when it holds at least `ticket_min_cases` cases, a case closed as
    a duplicate not counting again, and (with the text signal) at least `ticket_min_named_share` of them
    name a spot or a place. Its place is the smallest area that holds it whole: its grid when all
    members with a known grid share one, otherwise its community, otherwise its street (members whose
    grid is unknown are held by their community). Its category is the one most of its members were filed
    under. The ticket id is a digest of place level, place and category, so the same class recurring in a
    later quarter keeps its ticket; two classes of one place and category in a quarter (the text told them
    apart) are numbered by size. -#}
with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}

),

clustered as (

    select cases.*, clusters.cluster_id
    from cases
    inner join clusters on cases.case_id = clusters.case_id

),

cluster_places as (

    select
        cluster_id,
        quarter,
        count(case when not is_duplicate then 1 end) as counted_cases,
        count(distinct grid_code) as grid_count,
        count(distinct community_code) as community_count,
        min(grid_code) as grid_code,
        min(community_code) as community_code,
        min(street_code) as street_code,
        count(distinct street_code) as street_count,
        min(received_at) as first_seen_at,
        avg(case when {{ list_is_empty('address_tokens') }} and place_name is null
            then 0.0 else 1.0 end) as named_share
    from clustered
    group by cluster_id, quarter

),

category_votes as (

    select cluster_id, category_code
    from clustered
    group by cluster_id, category_code
    qualify row_number() over (
        partition by cluster_id
        order by count(case when not is_duplicate then 1 end) desc, category_code
    ) = 1

),

classes as (

    select
        cluster_places.cluster_id,
        cluster_places.quarter,
        cluster_places.counted_cases,
        cluster_places.first_seen_at,
        category_votes.category_code,
        case
            when cluster_places.community_count = 1 and cluster_places.grid_count = 1 then 'grid'
            when cluster_places.community_count = 1 then 'community'
            else 'street'
        end as area_level,
        case
            when cluster_places.community_count = 1 and cluster_places.grid_count = 1
            then cluster_places.grid_code
            when cluster_places.community_count = 1 then cluster_places.community_code
            else cluster_places.street_code
        end as area_code
    from cluster_places
    inner join category_votes on cluster_places.cluster_id = category_votes.cluster_id
    -- a class spread over several streets is not one place's problem: the blocking keeps that from
    -- happening, and this keeps it so
    where cluster_places.counted_cases >= {{ var('ticket_min_cases') }}
        and cluster_places.street_count = 1
        {% if var('ticket_text_signal') %}
        -- a class of problem is a problem of a place: most of its appeals name the spot or the place
        -- (policy questions that name none recur everywhere and are no one place's problem)
        and cluster_places.named_share >= {{ var('ticket_min_named_share') }}
        {% endif %}

),

identified as (

    select
        classes.*,
        'T' || left({{ dbt.hash("area_level || ':' || area_code || ':' || category_code") }}, 12)
            as base_ticket_id,
        row_number() over (
            partition by quarter, area_level, area_code, category_code
            order by counted_cases desc, first_seen_at, cluster_id
        ) as place_rank
    from classes

),

final as (

    select
        case
            when identified.place_rank = 1 then identified.base_ticket_id
            else identified.base_ticket_id || '-' || cast(identified.place_rank as varchar)
        end as ticket_id,
        identified.quarter,
        identified.area_level,
        identified.area_code,
        identified.category_code,
        clustered.case_id,
        clustered.is_duplicate
    from identified
    inner join clustered on identified.cluster_id = clustered.cluster_id

)

select * from final
