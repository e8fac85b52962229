{#- Whether a folded grid-worker submission is a case of its own: a problem the worker found (an issue,
    not a follow-up of one, not the handling of a hotline order). -#}
{% macro submission_is_case() -%}
    kind = 'issue' and not is_follow_up and order_id is null
{%- endmacro %}

{#- The post-hook of an incremental model keyed by case (`key`) that drops the grid cases whose submission
    is a case no longer (re-sent as a follow-up or as the handling of an order): an incremental build
    replaces the rows it recomputes, and such a case has no row left to replace its old one. Only the
    submissions changed since the model's last build can have stopped being cases (whether one is depends
    on the submission alone), so a night reads those, not the year's; it runs before the build is
    remembered (`remember_incremental_build`), so the memory read is still the last build's. -#}
{% macro delete_submissions_no_longer_cases(key='case_id') -%}
    {{ delete_stale_rows(key ~ " in (
        select submission_id from " ~ ref('int_grid_submissions__folded') ~ "
        where not coalesce(" ~ submission_is_case() ~ ", false)
            and last_batch_id > coalesce((
                select built_through_batch from " ~ incremental_builds_relation() ~ "
                where model = '" ~ this.identifier ~ "'
            ), '')
    )") }}
{%- endmacro %}
