{#- The incremental folds' watermark: the newest recording already folded into the model, less the
    lookback (`incremental_lookback_hours`), so batches committed concurrently or with skewed clocks are
    not missed. A one-row query with a column `since` (null when the model is empty). -#}
{% macro fold_watermark() -%}
    select {{ dbt.dateadd('hour', -1 * var('incremental_lookback_hours'), 'max(last_recorded_at)') }} as since
    from {{ this }}
{%- endmacro %}
