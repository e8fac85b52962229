{#- The classes of problem of each quarter, one row per class: a cluster (int_problem_classes__clusters)
    of at least `ticket_min_cases` reports, of which at least `ticket_min_named_share` name a place finer
    than a community or a spot (policy questions that name none recur everywhere and are no one place's
    problem). A case closed as a duplicate of an open request is a report: another resident raised the
    problem again (Boston closes the second and third report of one pothole that way), so it counts
    towards the size, though not in the ticket's `case_count`; a class needs one report that is not a
    duplicate (`counted_cases`), the one the others repeat.

    Its place is the one most of its members name (`place_name`, of kind address, named, point or area);
    its area the smallest that holds every member whose area is known: a grid, a community, a street, a
    district, or the city when they span districts or carry no area at all. Its category is the one most
    of its members were filed under (null when none was).

    A problem raised slowly, across a quarter boundary, still forms a class: a cluster too small on its
    own counts the cases of last quarter's cluster of the same problem at the same place
    (`carried_cluster_id`) when that one was too small as well. Both must be clusters of at least two
    reports: each quarter has raised the problem more than once. The two share a place named in the
    text or an address, and their summed text vectors (centroids) are alike by at least
    `ticket_recurrence_similarity`, the bar a class continuing last quarter's ticket meets. Each earlier
    cluster is carried by at most one later one (the most alike). The class is this quarter's, and
    lists the earlier cases among its members.

    Built quarter by quarter (macros/ticket_quarters.sql); a quarter reads the previous quarter too, so
    its digest is of both (level 'window'). -#}
{{ ticket_quarterly_config('window') }}

with cases as (

    -- what a class is counted, placed and categorised by
    select
        case_id,
        quarter,
        quarter_index,
        received_at,
        is_duplicate,
        problem_category,
        category_code,
        address_tokens,
        grid_code,
        community_code,
        street_code,
        district_code
    from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_read_with_next('window') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}
    where {{ ticket_quarters_to_read_with_next('window') }}

),

places as (

    select * from {{ ref('int_ticket_cases__places') }}
    where {{ ticket_quarters_to_read_with_next('window') }}

),

vectors as (

    select * from {{ ref('int_ticket_cases__text_vectors') }}
    where {{ ticket_quarters_to_read_with_next('window') }}

),

clustered as (

    select cases.*, clusters.cluster_id
    from cases
    inner join clusters on cases.case_id = clusters.case_id
    {% if var('ticket_min_cases') > 1 %}
    -- a lone case is never a class: too few on its own, and only clusters of two or more are carried
    -- (most clusters are lone cases: 4.4 M of a megacity year's 4.5 M cases)
    where clusters.cluster_id in (select cluster_id from clusters group by cluster_id having count(*) > 1)
    {% endif %}

),

own_sizes as (

    select cluster_id, min(quarter) as quarter, min(quarter_index) as quarter_index,
        count(*) as reports
    from clustered
    group by cluster_id

),

small_clusters as (

    -- too small to be a class on their own, but linked cases, not a lone one: a lone case next to a pair
    -- of the same kind at a busy place recurs by chance (on a generated city every such carry was noise)
    select * from own_sizes
    where reports between 2 and {{ var('ticket_min_cases') }} - 1

),

small_cluster_places as (

    -- the places a small cluster's members name or are addressed at (a coordinate cell or a whole
    -- community is too loose to say that two quarters' cases meant one thing)
    select distinct small_clusters.cluster_id, places.place_key
    from small_clusters
    inner join clustered on small_clusters.cluster_id = clustered.cluster_id
    inner join places on clustered.case_id = places.case_id
    where places.place_kind in ('address', 'named')

),

carry_candidates as (

    -- this quarter's small cluster and last quarter's at a place both name, together enough for a class
    select distinct later.cluster_id, earlier.cluster_id as earlier_cluster_id
    from small_clusters as later
    inner join small_clusters as earlier
        on earlier.quarter_index = later.quarter_index - 1
        and earlier.reports + later.reports >= {{ var('ticket_min_cases') }}
    inner join small_cluster_places as later_places on later.cluster_id = later_places.cluster_id
    inner join small_cluster_places as earlier_places
        on earlier.cluster_id = earlier_places.cluster_id
        and later_places.place_key = earlier_places.place_key
    where {{ ticket_quarters_to_build('window', 'later.quarter') }}

),

candidate_terms as (

    -- the summed vectors of the candidates' counted members, scaled to unit length below
    select clustered.cluster_id, vectors.term, sum(vectors.weight) as weight
    from clustered
    inner join vectors on clustered.case_id = vectors.case_id
    where not clustered.is_duplicate
        and clustered.cluster_id in (
            select cluster_id from carry_candidates
            union all
            select earlier_cluster_id from carry_candidates
        )
    group by clustered.cluster_id, vectors.term

),

centroids as (

    select cluster_id, term, weight / sqrt(sum(weight * weight) over (partition by cluster_id)) as weight
    from candidate_terms

),

carry_likeness as (

    select * from (
        {{ sparse_similarity('carry_candidates', ['cluster_id', 'centroids', 'cluster_id'],
                             ['earlier_cluster_id', 'centroids', 'cluster_id']) }}
    )
    where similarity >= {{ var('ticket_recurrence_similarity') }}

),

best_for_later as (

    select *
    from carry_likeness
    {{ qualify_rows("row_number() over (partition by cluster_id order by " ~ round_places('similarity', 9) ~ " desc, earlier_cluster_id) = 1") }}

),

carried as (

    select cluster_id, earlier_cluster_id
    from best_for_later
    {{ qualify_rows("row_number() over (
        partition by earlier_cluster_id order by " ~ round_places('similarity', 9) ~ " desc, cluster_id
    ) = 1") }}

),

grouped as (

    -- each class's members: its own cluster's cases of the quarters to build, and the cases of the
    -- earlier cluster it carries, counted in its quarter
    -- (the three columns the carried cases take from their class are named in both branches, so the
    -- branches line up on an engine that puts replaced columns last)
    select {{ star_replace('clustered', {'cluster_id': 'cluster_id', 'quarter': 'quarter', 'quarter_index': 'quarter_index'}) }}
    from clustered
    where {{ ticket_quarters_to_build('window') }}

    union all

    select {{ star_replace('clustered', {
        'cluster_id': 'carried.cluster_id', 'quarter': 'later.quarter', 'quarter_index': 'later.quarter_index'}) }}
    from clustered
    inner join carried on clustered.cluster_id = carried.earlier_cluster_id
    inner join own_sizes as later on carried.cluster_id = later.cluster_id

),

cluster_sizes as (

    select
        cluster_id,
        quarter,
        min(quarter_index) as quarter_index,
        count(*) as reports,
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
    from grouped
    group by cluster_id, quarter

),

named_cases as (

    -- members that name a place finer than their community, or a spot
    select grouped.cluster_id, count(distinct grouped.case_id) as named_count
    from grouped
    inner join cluster_sizes on grouped.cluster_id = cluster_sizes.cluster_id
    left join places on grouped.case_id = places.case_id and places.place_kind <> 'area'
    where places.case_id is not null or not {{ list_is_empty('grouped.address_tokens') }}
    group by grouped.cluster_id

),

place_votes as (

    -- the votes counted in the select: Spark's qualify takes no aggregate of its own
    select grouped.cluster_id, places.place_kind, places.place_name, places.place_key, count(*) as votes
    from grouped
    inner join places on grouped.case_id = places.case_id
    group by grouped.cluster_id, places.place_kind, places.place_name, places.place_key, places.place_rank
    {{ qualify_rows("row_number() over (
        partition by grouped.cluster_id
        order by votes desc, places.place_rank, places.place_key
    ) = 1") }}

),

category_votes as (

    select cluster_id, problem_category, min(category_code) as category_code,
        count(case when not is_duplicate then 1 end) as votes
    from grouped
    group by cluster_id, problem_category
    {{ qualify_rows("row_number() over (
        partition by cluster_id
        order by case when problem_category is null then 1 else 0 end,
            votes desc, problem_category
    ) = 1") }}

),

final as (

    select
        cluster_sizes.cluster_id,
        cluster_sizes.quarter,
        cluster_sizes.quarter_index,
        carried.earlier_cluster_id as carried_cluster_id,
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
    left join carried on cluster_sizes.cluster_id = carried.cluster_id
    where cluster_sizes.reports >= {{ var('ticket_min_cases') }}
        and cluster_sizes.counted_cases >= 1
        {% if var('ticket_text_signal') %}
        and coalesce(named_cases.named_count, 0) >= {{ var('ticket_min_named_share') }} * cluster_sizes.reports
        {% endif %}

)

select * from final
{{ in_quarter_order() }}
