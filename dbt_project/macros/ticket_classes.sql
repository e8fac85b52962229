{#- Each class's clusters (`cluster_id`, `member_cluster_id`): its own, and for a slow problem the last
    quarter's cluster it carries. Two equality joins, not one on `in (own, carried)`, which the database
    can only run by comparing every class with every case. -#}
{% macro class_clusters(classes) -%}
    select cluster_id, cluster_id as member_cluster_id from {{ classes }}
    union
    select cluster_id, carried_cluster_id from {{ classes }} where carried_cluster_id is not null
{%- endmacro %}
