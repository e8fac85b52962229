{#- `column_name` is unique in a model that only appends batches (its pre-hook is
    `remember_batches_before_append`), checked against the whole table at the cost of the rows the
    build appended. A whole build (a first one, a full refresh, any build on Spark) is checked whole,
    as `unique` checks it. An incremental build follows a build that completed, so whose tests passed
    (a failed one leaves the next build whole): the rows it held were unique, and the column is unique
    in the whole table exactly when no value of an appended row occurs twice in it. The table is probed
    with those values instead of grouping every row of the years behind them. -#}
{% test unique_appended(model, column_name, batch_column='batch_id') %}

{%- set held_through = appended_after(model) %}

select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
{%- if held_through is not none %}
    and {{ column_name }} in (
        select {{ column_name }} from {{ model }} where {{ batch_column }} > '{{ held_through }}'
    )
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
