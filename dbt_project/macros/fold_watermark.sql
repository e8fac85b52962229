{#- The incremental folds' watermark: the newest batch already folded into the model (each row keeps the
    newest batch among its events as `last_batch_id`). The staged log appends whole batches in commit
    order, so every event of a batch after it was staged after the fold last ran: no time window is needed
    for late or concurrently committed batches. A one-row query with a column `since` (null when the model
    is empty). -#}
{% macro fold_watermark() -%}
    select max(last_batch_id) as since
    from {{ this }}
{%- endmacro %}

{#- The condition that keeps the events of batches after the watermark (`watermark`, the CTE of
    `fold_watermark`). Where the model is a table (not a unit test's fixture) the watermark is read first
    and written into the query as a constant: compared with a CTE's column, DuckDB scans every event of
    the fold's type, payloads included, before it keeps the night's (6 s at city scale after 11 months);
    compared with a constant, the scan skips the older batches by their row groups' statistics. -#}
{% macro fold_after_watermark(column='events.batch_id') -%}
    {%- if execute and fold_reads_row_ids() -%}
        {%- set since = run_query('select max(last_batch_id) from ' ~ this).columns[0].values()[0] -%}
        {%- if since is none -%}
            true
        {%- else -%}
            {{ column }} > '{{ since }}'
        {%- endif -%}
    {%- else -%}
        ((select since from watermark) is null or {{ column }} > (select since from watermark))
    {%- endif -%}
{%- endmacro %}
