{#- What each class of problem is about: the sum of its counted members' text vectors (a carried
    earlier cluster's members too), scaled to unit
    length (its centroid, what later quarters are compared with), and the words most of its members share
    (`shared_words`: up to `ticket_reason_terms` terms used by at least two members, most used first),
    which with its place tell the reviewer why its members belong together. -#}
with classes as (

    select * from {{ ref('int_problem_classes__classes') }}

),

clusters as (

    select * from {{ ref('int_problem_classes__clusters') }}

),

cases as (

    select case_id, is_duplicate from {{ ref('int_ticket_cases__eligible') }}

),

vectors as (

    select * from {{ ref('int_ticket_cases__text_vectors') }}

),

class_clusters as (

    {{ class_clusters('classes') }}

),

member_terms as (

    select class_clusters.cluster_id, vectors.case_id, vectors.term, vectors.weight
    from class_clusters
    inner join clusters on clusters.cluster_id = class_clusters.member_cluster_id
    inner join cases on clusters.case_id = cases.case_id and not cases.is_duplicate
    inner join vectors on clusters.case_id = vectors.case_id

),

summed as (

    select cluster_id, term, sum(weight) as weight, count(distinct case_id) as member_count
    from member_terms
    group by cluster_id, term

),

norms as (

    select cluster_id, sqrt(sum(weight * weight)) as norm
    from summed
    group by cluster_id

),

final as (

    select summed.cluster_id, summed.term, summed.weight / norms.norm as weight, summed.member_count
    from summed
    inner join norms on summed.cluster_id = norms.cluster_id
    where norms.norm > 0

)

select * from final
