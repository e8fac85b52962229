{#- Which cluster each eligible case falls in: the connected groups of the links that hold, followed to
    the end (a spread of the smallest case id that stops when no label changes — however long a chain;
    `component_labels` says how each engine runs it).

    A link holds when it is strong (similarity at least `ticket_strong_link`), confirmed (the two cases
    share a third case they are both linked to) or a lone pair at a named place: both texts write the
    same learned place name (a rare one, int_ticket_places__vocabulary) and neither case links to any
    other, so the link can chain nothing; two residents naming one place and one thing is what a pair of
    the quarter before may carry into a class (int_problem_classes__classes). At an address, a cell or
    an area two cases of one category meet by chance: their lone pairs do not hold. Between two groups
    of near copies (each case of the weak link has a strong partner) where the text alone says what the
    problem is (no category both were filed under), the shared cases must include a strong partner of
    each: both groups confirm the link. One text of a group weakly like each case of another group, its
    own copies like none of them, is another problem sharing words with the second in passing (a plan
    for the whole city's bus network naming route 805 is not the residents' request to reroute 805);
    where residents of both groups write alike across, both confirm. A category both cases were filed
    under is a second witness beside the words, and such a link is confirmed as before. A chain of weak
    links (a–x, x–b, each barely over its bar) thus cannot carry one problem into another; a problem
    many residents describe links as a web, not a chain, and keeps its links. Each case's label is the
    smallest case id it is connected to, spread along the held links until nothing changes. With the
    text signal off, a cluster is a whole category-and-community group of the quarter (category and
    place where no community is known).

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('objects') }}

{%- set cases_cte -%}
cases as (

    select * from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('objects') }}

)
{%- endset %}

with {{ recursive_ctes() }} {{ cases_cte }},

{% if var('ticket_text_signal') %}
{%- set graph_ctes -%}
links as (

    select * from {{ ref('int_ticket_cases__links') }}
    where {{ ticket_quarters_to_build('objects') }}

),

both_ways as (

    select case_id, linked_case_id, similarity from links
    union all
    select linked_case_id, case_id, similarity from links

),

weak as (

    select case_id, linked_case_id, place_kind, coalesce(same_category, false) as same_category
    from links
    where similarity < {{ var('ticket_strong_link') }}

),

link_counts as (

    -- how many cases each case links to, and whether it has a near copy (a strong partner)
    select
        case_id,
        count(*) as link_count,
        max(similarity) >= {{ var('ticket_strong_link') }} as has_strong_partner
    from both_ways
    group by case_id

),

confirmed as (

    -- weak links whose two cases have a linked case in common (looked up per weak link, so a large web
    -- of strong links is never searched for triangles); between two groups of near copies (each case
    -- has a strong partner) whose text is all that says what the problem is (no category both were
    -- filed under), a partner of each must be among them: both groups confirm the link
    select weak.case_id, weak.linked_case_id
    from weak
    inner join both_ways as left_side on weak.case_id = left_side.case_id
    inner join both_ways as right_side
        on weak.linked_case_id = right_side.case_id
        and left_side.linked_case_id = right_side.linked_case_id
    inner join link_counts as left_count on weak.case_id = left_count.case_id
    inner join link_counts as right_count on weak.linked_case_id = right_count.case_id
    group by weak.case_id, weak.linked_case_id, weak.same_category,
        left_count.has_strong_partner, right_count.has_strong_partner
    having weak.same_category
        or not (left_count.has_strong_partner and right_count.has_strong_partner)
        or (max(left_side.similarity) >= {{ var('ticket_strong_link') }}
            and max(right_side.similarity) >= {{ var('ticket_strong_link') }})

),

lone_pairs as (

    -- weak links at a place both texts name whose two cases link to nothing else
    select weak.case_id, weak.linked_case_id
    from weak
    inner join link_counts as left_count on weak.case_id = left_count.case_id
    inner join link_counts as right_count on weak.linked_case_id = right_count.case_id
    where weak.place_kind = 'named' and left_count.link_count = 1 and right_count.link_count = 1

),

edges as (

    select case_id, linked_case_id
    from both_ways
    where similarity >= {{ var('ticket_strong_link') }}
        or exists (
            select 1 from lone_pairs
            where lone_pairs.case_id = least(both_ways.case_id, both_ways.linked_case_id)
                and lone_pairs.linked_case_id = greatest(both_ways.case_id, both_ways.linked_case_id)
        )
        or exists (
            select 1 from confirmed
            where confirmed.case_id = least(both_ways.case_id, both_ways.linked_case_id)
                and confirmed.linked_case_id = greatest(both_ways.case_id, both_ways.linked_case_id)
        )

)
{%- endset %}
{{ graph_ctes }},

{{ component_labels('labels', 'cases', 'case_id', 'edges', 'case_id', 'linked_case_id', cases_cte ~ ',\n' ~ graph_ctes) }},

final as (

    select
        cases.case_id,
        cases.quarter,
        'C' || left({{ dbt.hash("cases.quarter || ':' || labels.label") }}, 16) as cluster_id
    from cases
    inner join labels on cases.case_id = labels.case_id

)
{% else %}
-- depends_on: {{ ref('int_ticket_cases__links') }} (so a run of the text models' descendants rebuilds this)
places as (

    select * from {{ ref('int_ticket_cases__places') }}
    where {{ ticket_quarters_to_build('objects') }}

),

main_places as (

    select case_id, place_key
    from places
    {{ qualify_rows("row_number() over (partition by case_id order by place_rank, place_key) = 1") }}

),

final as (

    select
        cases.case_id,
        cases.quarter,
        'C' || left({{ dbt.hash("cases.quarter || ':' || coalesce(cases.problem_category, '') || ':' || coalesce('area:' || cases.community_code, main_places.place_key)") }}, 16)
            as cluster_id
    from cases
    inner join main_places on cases.case_id = main_places.case_id

)
{% endif %}

select * from final
{{ in_quarter_order() }}
