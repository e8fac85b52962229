{#- The classes of problem of each quarter, one row per class: a cluster (int_problem_classes__clusters)
    of at least `ticket_min_cases` cases, a case closed as a duplicate not counting again, of which at
    least `ticket_min_named_share` name a place finer than a community or a spot (policy questions that
    name none recur everywhere and are no one place's problem).

    Its place is the one most of its members name (`place_name`, of kind address, named, point or area);
    its area the smallest that holds every member whose area is known: a grid, a community, a street, a
    district, or the city when they span districts or carry no area at all. Its category is the one most
    of its members were filed under (null when none was).

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('objects') }}

with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('objects') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}
    where {{ ticket_quarters_to_build('objects') }}

),

places as (

    select * from {{ ref('int_ticket_cases__places') }}
    where {{ ticket_quarters_to_build('objects') }}

),

clustered as (

    select cases.*, clusters.cluster_id
    from cases
    inner join clusters on cases.case_id = clusters.case_id

),

cluster_sizes as (

    select
        cluster_id,
        quarter,
        min(quarter_index) as quarter_index,
        count(case when not is_duplicate then 1 end) as counted_cases,
        count(distinct grid_code) as grid_count,
        count(distinct community_code) as community_count,
        count(distinct street_code) as street_count,
        count(distinct district_code) as district_count,
        min(grid_code) as grid_code,
        min(community_code) as community_code,
        min(street_code) as street_code,
        min(district_code) as district_code,
        count(case when grid_code is null then 1 end) as gridless_cases,
        min(received_at) as first_seen_at
    from clustered
    group by cluster_id, quarter

),

named_cases as (

    -- members that name a place finer than their community, or a spot
    select clustered.cluster_id, count(distinct clustered.case_id) as named_count, min(cluster_sizes.counted_cases) as counted_cases
    from clustered
    inner join cluster_sizes on clustered.cluster_id = cluster_sizes.cluster_id
    left join places on clustered.case_id = places.case_id and places.place_kind <> 'area'
    where places.case_id is not null or not {{ list_is_empty('clustered.address_tokens') }}
    group by clustered.cluster_id

),

place_votes as (

    select clustered.cluster_id, places.place_kind, places.place_name, places.place_key
    from clustered
    inner join places on clustered.case_id = places.case_id
    group by clustered.cluster_id, places.place_kind, places.place_name, places.place_key, places.place_rank
    qualify row_number() over (
        partition by clustered.cluster_id
        order by count(*) desc, places.place_rank, places.place_key
    ) = 1

),

category_votes as (

    select cluster_id, problem_category, min(category_code) as category_code
    from clustered
    group by cluster_id, problem_category
    qualify row_number() over (
        partition by cluster_id
        order by case when problem_category is null then 1 else 0 end,
            count(case when not is_duplicate then 1 end) desc, problem_category
    ) = 1

),

final as (

    select
        cluster_sizes.cluster_id,
        cluster_sizes.quarter,
        cluster_sizes.quarter_index,
        cluster_sizes.counted_cases,
        cluster_sizes.first_seen_at,
        category_votes.category_code,
        category_votes.problem_category,
        place_votes.place_kind,
        place_votes.place_name,
        place_votes.place_key,
        case
            when cluster_sizes.grid_count = 1 and cluster_sizes.gridless_cases = 0 then 'grid'
            when cluster_sizes.community_count = 1 then 'community'
            when cluster_sizes.street_count = 1 then 'street'
            when cluster_sizes.district_count = 1 then 'district'
            else 'city'
        end as area_level,
        case
            when cluster_sizes.grid_count = 1 and cluster_sizes.gridless_cases = 0 then cluster_sizes.grid_code
            when cluster_sizes.community_count = 1 then cluster_sizes.community_code
            when cluster_sizes.street_count = 1 then cluster_sizes.street_code
            when cluster_sizes.district_count = 1 then cluster_sizes.district_code
        end as area_code
    from cluster_sizes
    inner join category_votes on cluster_sizes.cluster_id = category_votes.cluster_id
    inner join place_votes on cluster_sizes.cluster_id = place_votes.cluster_id
    left join named_cases on cluster_sizes.cluster_id = named_cases.cluster_id
    where cluster_sizes.counted_cases >= {{ var('ticket_min_cases') }}
        {% if var('ticket_text_signal') %}
        and coalesce(named_cases.named_count, 0) >= {{ var('ticket_min_named_share') }} * cluster_sizes.counted_cases
        {% endif %}

)

select * from final
