{#- The spelling of a name typed most often; a tie goes to the longer (fuller) spelling, then the first
    in code-point order, so two builds over the same rows name an area the same way. -#}
{% macro most_typed(name_column, count_column) %}
    {%- set name = 'trim(' ~ name_column ~ ')' %}
    {{ arg_max_by(name, [count_column, 'length(' ~ name ~ ')', name]) }}
{% endmacro %}
