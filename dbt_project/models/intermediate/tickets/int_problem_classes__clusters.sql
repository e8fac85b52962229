{#- Which class each eligible case falls in: the connected groups of the similarity links, found by
    label propagation (every case takes the smallest case id among itself and its linked cases, for
    `ticket_link_rounds` rounds: plain joins, no recursion, so any SQL engine runs it). With the text
    signal off, a class is a whole category-and-community group of the quarter. -#}
with cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}

),

links as (

    select * from {{ ref('int_ticket_cases__links') }}

),

{% if var('ticket_text_signal') %}
edges as (

    select case_id, linked_case_id from links
    union all
    select linked_case_id as case_id, case_id as linked_case_id from links

),

labels_0 as (

    select case_id, case_id as label from cases

),

{% for round in range(1, var('ticket_link_rounds') + 1) %}
labels_{{ round }} as (

    select
        labels.case_id,
        least(labels.label, coalesce(min(neighbours.label), labels.label)) as label
    from labels_{{ round - 1 }} as labels
    left join edges on labels.case_id = edges.case_id
    left join labels_{{ round - 1 }} as neighbours on edges.linked_case_id = neighbours.case_id
    group by labels.case_id, labels.label

),

{% endfor %}
final as (

    select
        cases.case_id,
        cases.quarter,
        'C' || left({{ dbt.hash("cases.quarter || ':' || labels.label") }}, 16) as cluster_id
    from cases
    inner join labels_{{ var('ticket_link_rounds') }} as labels on cases.case_id = labels.case_id

)
{% else %}
final as (

    select
        case_id,
        quarter,
        'C' || left({{ dbt.hash("quarter || ':' || category_code || ':' || community_code") }}, 16) as cluster_id
    from cases

)
{% endif %}

select * from final
