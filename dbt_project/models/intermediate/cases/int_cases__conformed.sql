{#- Every case — hotline orders, requests of other cities' systems, and problems grid workers report
    (issue submissions that are not a follow-up and not the handling of a hotline order) — placed in the
    area hierarchy and the category taxonomy.

    Place: by grid code when the reference knows it; otherwise by the typed names, normalised (spaces and
    administrative suffixes dropped) and read through the area aliases (seed `area_aliases`), taking the community whose street and district agree best with what
    was typed, and only when exactly one community is the best match. Category: the last segment of the
    path, matched on the third-level name or one of its aliases (seeds `categories`, `category_aliases`). What cannot be placed or classified is
    kept, flagged and counted, never dropped. -#}
with folded_cases as (

    select * from {{ ref('int_cases__folded') }}

),

submissions as (

    select * from {{ ref('int_grid_submissions__folded') }}

),

areas as (

    select * from {{ ref('areas') }}

),

communities as (

    select * from {{ ref('int_areas__communities') }}

),

category_aliases as (

    select * from {{ ref('category_aliases') }}

),

categories as (

    select * from {{ ref('categories') }}

),

grid_cases as (

    select
        submission_id as case_id,
        source_submission_id as source_case_id,
        'grid' as stream,
        source_system,
        'grid-app' as channel,
        cast(null as varchar) as appeal_type,
        category_path,
        cast(null as varchar) as title,
        description,
        address,
        cast(null as varchar) as district_name,
        cast(null as varchar) as street_name,
        cast(null as varchar) as community_name,
        grid_code_raw,
        latitude,
        longitude,
        cast(null as varchar) as handling_unit,
        resident_key,
        current_status as status,
        cast(null as varchar) as satisfaction,
        cast(0 as bigint) as reopen_count,
        false as is_duplicate,
        cast(null as varchar) as duplicate_of_case_id,
        submitted_at as received_at,
        cast(null as timestamp with time zone) as dispatched_at,
        cast(null as timestamp with time zone) as accepted_at,
        -- the grid worker who reports a problem is already on the spot
        submitted_at as first_contact_at,
        escalated_at,
        resolved_at,
        cast(null as timestamp with time zone) as rated_at,
        resolved_on_site
    from submissions
    where kind = 'issue' and not is_follow_up and order_id is null

),

all_cases as (

    select
        case_id, source_case_id, stream, source_system, channel, appeal_type, category_path, title,
        description, address, district_name, street_name, community_name, grid_code_raw, latitude,
        longitude, handling_unit,
        resident_key, status, satisfaction, reopen_count, is_duplicate, duplicate_of_case_id,
        received_at, dispatched_at, accepted_at, first_contact_at, escalated_at, resolved_at, rated_at,
        false as resolved_on_site
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
    left join areas as by_grid on trim(all_cases.grid_code_raw) = by_grid.grid_code
    left join best_by_name as by_name
        on by_grid.grid_code is null
        and all_cases.case_id = by_name.case_id
        and by_name.tied = 1

),

category_name_list as (

    select category_code, level3 as name, 1 as preference from categories
    union all
    select category_code, trim(alias.name) as name, 2 as preference
    from categories, unnest(string_split(coalesce(aliases, ''), '|')) as alias(name)
    where trim(alias.name) <> ''
    union all
    select category_code, trim(alias) as name, 3 as preference from category_aliases

),

category_names as (

    -- a name that is both one category's own and another's alias means the former
    select category_code, name
    from category_name_list
    qualify row_number() over (partition by name order by preference, category_code) = 1

),

classified as (

    select
        placed.*,
        category_names.category_code,
        -- a problem with a place (a broken lamp) or a person's own matter (a pension); null = unknown
        categories.is_place_bound
    from placed
    left join category_names
        on trim(regexp_extract(placed.category_path, '([^/]+)$', 1)) = category_names.name
    left join categories on category_names.category_code = categories.category_code

),

final as (

    select
        classified.*,
        coalesce(communities.community, classified.community_name) as community,
        communities.street_code,
        coalesce(communities.street, classified.street_name) as street,
        communities.district_code,
        coalesce(communities.district, classified.district_name) as district,
        classified.community_code is null as is_unplaced,
        classified.category_code is null as is_unclassified
    from classified
    left join communities on classified.community_code = communities.community_code

)

select * from final
