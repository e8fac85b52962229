{#- Rates are shares between 0 and 1, no count exceeds the one it is a part of, and every resolved case
    has exactly one resolution level. -#}
with levels as (

    select * from {{ ref('service_levels') }}

)

select *
from levels
where response_rate not between 0 and 1
    or resolution_rate not between 0 and 1
    or satisfaction_rate not between 0 and 1
    or grid_contact_rate not between 0 and 1
    or responded_in_time > cases
    or resolved > cases
    or satisfied > rated
    or grid_contacted_in_time > grid_contact_due
    or resolved_at_grid + resolved_at_community + resolved_at_street + resolved_at_department <> resolved
