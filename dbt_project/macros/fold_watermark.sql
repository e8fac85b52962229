{#- The incremental folds' watermark: the newest batch already folded into the model (each row keeps the
    newest batch among its events as `last_batch_id`). The staged log appends whole batches in commit
    order, so every event of a batch after it was staged after the fold last ran: no time window is needed
    for late or concurrently committed batches. A one-row query with a column `since` (null when the model
    is empty). -#}
{% macro fold_watermark() -%}
    select max(last_batch_id) as since
    from {{ this }}
{%- endmacro %}
