{#- The district, street and community names each distinct address of a grid worker's submission writes
    out (those submissions have no place columns): the reading of an address, kept from night to night.

    Reading an address is the costly part of collecting the typed names, and depends on the address alone,
    so it is done once per address: a night reads only the addresses of the submissions its batches changed
    that are not here yet (see `incremental_since`), and drops those no submission writes any more (a
    grouping of the submissions' addresses, without reading them), so it holds what a whole build does. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_stale_rows('address not in (select address from ' ~ ref('int_grid_submissions__folded') ~ ' where address is not null)') }}",
            "{{ remember_incremental_build() }}",
        ]
    )
}}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since() %}

with submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}
    where address is not null and {{ changed_since(since) }}

),

new_addresses as (

    -- the address taken as an aggregate, not as the grouping key, so that the reading below stays above
    -- the grouping: pushed below it (DuckDB does), every submission's address is read, not each once
    select min(submissions.address) as address
    from submissions
    {%- if is_incremental() %}
    where submissions.address not in (select address from {{ this }})
    {%- endif %}
    group by submissions.address

),

final as (

    select
        address,
        {{ address_district('address') }} as district_name,
        {{ address_street('address') }} as street_name,
        {{ address_community('address') }} as community_name
    from new_addresses

)

select * from final
