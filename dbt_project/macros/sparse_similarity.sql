{#- The likeness of each pair of `pairs`: the dot product of two sparse term vectors (relations with a key
    column, `term` and `weight`), summed over the terms both hold. `left` and `right` are
    [the pair's column, the vectors, the vectors' key column]. Renders a SELECT of the two pair columns,
    `similarity` and the `extra` columns (which may read `left_terms` and `right_terms`), one row per pair
    that shares a term. -#}
{% macro sparse_similarity(pairs, left, right, extra='') -%}
    select
        {{ pairs }}.{{ left[0] }},
        {{ pairs }}.{{ right[0] }},
        sum(left_terms.weight * right_terms.weight) as similarity
        {%- if extra %},
        {{ extra }}
        {%- endif %}
    from {{ pairs }}
    inner join {{ left[1] }} as left_terms on {{ pairs }}.{{ left[0] }} = left_terms.{{ left[2] }}
    inner join {{ right[1] }} as right_terms
        on {{ pairs }}.{{ right[0] }} = right_terms.{{ right[2] }}
        and left_terms.term = right_terms.term
    group by {{ pairs }}.{{ left[0] }}, {{ pairs }}.{{ right[0] }}
{%- endmacro %}
