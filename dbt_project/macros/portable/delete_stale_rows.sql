{#- A post-hook deleting the rows of `this` where `condition` holds: rows an incremental night left behind
    (a day left without submissions, a submission no longer a case). A whole build writes none, and Spark's
    Parquet tables cannot delete rows: on Spark the delete runs only on an incremental build (a table
    format that updates rows, var `spark_table_format`); a whole build renders nothing. -#}
{% macro delete_stale_rows(condition) -%}
    {{ return(adapter.dispatch('delete_stale_rows', 'gridline')(condition)) }}
{%- endmacro %}

{% macro default__delete_stale_rows(condition) -%}
    delete from {{ this }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_stale_rows(condition) -%}
    {%- if is_incremental() %}delete from {{ this }} where {{ condition }}{% endif -%}
{%- endmacro %}
