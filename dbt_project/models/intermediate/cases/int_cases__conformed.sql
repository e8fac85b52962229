{#- Every case — hotline orders, requests of other cities' systems, and problems grid workers report
    (issue submissions that are not a follow-up and not the handling of a hotline order) — placed in the
    city's areas and classified in its category taxonomy.

    Place: the grid the case carries (a 网格 code, a mapping's grid code or `grid_cell`) is kept as its
    grid code, known to the reference or not, and places the case in the grid's community when that is
    known (int_areas__grids); otherwise the typed names, normalised and read through the aliases, pick
    the community (reference or derived from the exports, int_areas__communities) whose street and
    district agree best with what was typed, when exactly one does. Category: the last segment of the
    path, matched on a reference category's third-level name or alias; a path the reference does not
    know is a category of its own (int_categories__taxonomy). What cannot be placed or classified is
    kept, flagged and counted, never dropped.

    Incremental: a night re-conforms the cases its batches changed (by `last_batch_id`), and every case
    when the conformance tables changed (see `incremental_since`). -#}
{{ case_model_config() }}
-- depends_on: {{ ref('stg_log__events') }}
{%- set since = incremental_since(conformance=true) %}

with folded_cases as (

    select * from {{ ref('int_cases__folded') }}
    where {{ changed_since(since) }}

),

submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}
    where {{ changed_since(since) }}

),

grids as (

    select * from {{ ref('int_areas__grids') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

category_names as (

    select * from {{ ref('int_categories__names') }}

),

categories as (

    select * from {{ ref('int_categories__taxonomy') }}

),

grid_cases as (

    select
        submission_id as case_id,
        source_submission_id as source_case_id,
        'grid' as stream,
        source_system,
        'grid-app' as channel,
        cast(null as {{ dbt.type_string() }}) as appeal_type,
        category_path,
        cast(null as {{ dbt.type_string() }}) as title,
        description,
        address,
        cast(null as {{ dbt.type_string() }}) as district_name,
        cast(null as {{ dbt.type_string() }}) as street_name,
        cast(null as {{ dbt.type_string() }}) as community_name,
        grid_code_raw,
        latitude,
        longitude,
        cast(null as {{ dbt.type_string() }}) as handling_unit,
        resident_key,
        current_status as status,
        cast(null as {{ dbt.type_string() }}) as satisfaction,
        cast(0 as bigint) as reopen_count,
        false as is_duplicate,
        cast(null as {{ dbt.type_string() }}) as duplicate_of_case_id,
        submitted_at as received_at,
        cast(null as {{ type_instant() }}) as dispatched_at,
        cast(null as {{ type_instant() }}) as accepted_at,
        -- the grid worker who reports a problem is already on the spot
        submitted_at as first_contact_at,
        escalated_at,
        resolved_at,
        cast(null as {{ type_instant() }}) as rated_at,
        cast(null as {{ type_instant() }}) as due_at,
        cast(null as {{ type_instant() }}) as cancelled_at,
        resolved_on_site,
        last_batch_id
    from submissions
    where {{ submission_is_case() }}

),

all_cases as (

    select
        case_id, source_case_id, stream, source_system, channel, appeal_type, category_path, title,
        description, address, district_name, street_name, community_name, grid_code_raw, latitude,
        longitude, handling_unit,
        resident_key, status, satisfaction, reopen_count, is_duplicate, duplicate_of_case_id,
        received_at, dispatched_at, accepted_at, first_contact_at, escalated_at, resolved_at, rated_at,
        due_at, cancelled_at, false as resolved_on_site, last_batch_id
    from folded_cases
    union all
    select * from grid_cases

),

best_by_name as (

    {{ community_by_typed_names('all_cases', 'case_id') }}

),

placed as (

    select
        all_cases.*,
        by_grid.grid_code,
        coalesce(by_grid.community_code, by_name.community_code) as community_code
    from all_cases
    left join grids as by_grid on trim(all_cases.grid_code_raw) = by_grid.grid_code
    left join best_by_name as by_name
        on by_grid.community_code is null
        and all_cases.case_id = by_name.case_id
        and by_name.tied = 1

),

classified as (

    select
        placed.*,
        categories.category_code,
        -- a problem with a place (a broken lamp) or a person's own matter (a pension); null = unknown
        categories.is_place_bound
    from placed
    left join category_names
        on {{ category_path_leaf('placed.category_path') }} = category_names.name
    left join categories
        on coalesce(category_names.category_code, {{ category_path_key('placed.category_path') }})
            = categories.category_code

),

final as (

    select
        classified.*,
        coalesce(communities.community, classified.community_name) as community,
        communities.street_code,
        coalesce(communities.street, classified.street_name) as street,
        communities.district_code,
        coalesce(communities.district, classified.district_name) as district,
        -- placed: in a community, or at least in a grid cell
        classified.community_code is null and classified.grid_code is null as is_unplaced,
        classified.category_code is null as is_unclassified
    from classified
    left join communities on classified.community_code = communities.community_code

)

select * from final
