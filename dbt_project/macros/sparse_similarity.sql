{#- The likeness of each pair of `pairs`: the dot product of two sparse term vectors (relations with a key
    column, `term` and `weight`), summed over the terms both hold. `left` and `right` are
    [the pair's column, the vectors, the vectors' key column]. Renders a SELECT of the two pair columns,
    `similarity` and the `extra` columns (which may read `left_terms.term`, `left_terms.weight` and
    `right_terms`), one row per pair that shares a term.

    In two steps, each pair with its left case's terms first, then those terms looked up in the right
    case's vector: the work follows the pairs. Written as one join of the three, DuckDB's optimizer may
    join the two vectors on `term` alone before it meets the pairs (every two cases that share any word:
    313 M rows for 70 k pairs on a city's quarter, 494 s on one night); the materialized step keeps that
    order out of its reach. -#}
{% macro sparse_similarity(pairs, left, right, extra='') -%}
    with left_pair_terms as {{ materialized() }} (

        select {{ pairs }}.{{ left[0] }}, {{ pairs }}.{{ right[0] }}, left_vectors.term, left_vectors.weight
        from {{ pairs }}
        inner join {{ left[1] }} as left_vectors on {{ pairs }}.{{ left[0] }} = left_vectors.{{ left[2] }}

    )

    select
        left_terms.{{ left[0] }},
        left_terms.{{ right[0] }},
        sum(left_terms.weight * right_terms.weight) as similarity
        {%- if extra %},
        {{ extra }}
        {%- endif %}
    from left_pair_terms as left_terms
    inner join {{ right[1] }} as right_terms
        on left_terms.{{ right[0] }} = right_terms.{{ right[2] }}
        and left_terms.term = right_terms.term
    group by left_terms.{{ left[0] }}, left_terms.{{ right[0] }}
{%- endmacro %}
