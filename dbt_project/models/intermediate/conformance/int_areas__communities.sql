{#- One row per community of the city: the reference's, and those the exports name that the reference
    does not know (`is_derived`), with the normalised names typed names are matched on.

    The reference is the authority at the levels it covers: when it lists communities, a name it does
    not know is flagged (unplaced), not made a community. When it lists none (no reference, or only
    districts and streets, as the national division list), a typed combination of names (community,
    street, district) that no reference community can stand for becomes a derived community, unless a fuller combination of the same names covers it (向阳 alone
    is the 向阳 of one district and street when that is the only one typed). Its street and district are the
    reference's when the reference knows them by name or alias, else derived too. Derived codes are
    stable hashes of the level and the normalised names under their parent, so one name under two
    parents is two areas, and typed variants (向阳社区, 向阳社区居委会) are one. Loading an official list
    later turns derived areas into the reference's by name and alias; the log is untouched, so every
    case is re-placed on the next build and a replay before the load still derives. -#}
with reference_communities as (

    select * from {{ ref('int_areas__reference_communities') }}

),

reference_areas as (

    select * from {{ ref('stg_reference__areas') }}

),

typed as (

    select * from {{ ref('int_areas__typed_names') }}

),

matched as (

    {{ community_by_typed_names('typed', 'row_id', 'int_areas__reference_communities') }}

),

unmatched as (

    select typed.*
    from typed
    where typed.row_id not in (select row_id from matched)
        and not exists (select 1 from reference_communities)

),

uncovered as (

    -- a combination a fuller one of the same names covers is that one, not an area of its own
    select unmatched.*
    from unmatched
    where not exists (
        select 1
        from unmatched as fuller
        where fuller.community_key = unmatched.community_key
            and fuller.row_id <> unmatched.row_id
            and (unmatched.street_key is null or unmatched.street_key = fuller.street_key)
            and (unmatched.district_key is null or unmatched.district_key = fuller.district_key)
            and (case when fuller.street_key is not null then 1 else 0 end)
                + (case when fuller.district_key is not null then 1 else 0 end)
                > (case when unmatched.street_key is not null then 1 else 0 end)
                + (case when unmatched.district_key is not null then 1 else 0 end)
    )

),

derived_names as (

    -- typed variants of one combination of keys are one area, named as typed most often (ties: the fuller)
    select
        community_key,
        street_key,
        district_key,
        {{ most_typed('community_name', 'times_typed') }} as community,
        {{ most_typed('street_name', 'times_typed') }} as street,
        {{ most_typed('district_name', 'times_typed') }} as district
    from uncovered
    group by community_key, street_key, district_key

),

reference_districts as (

    select area_code, name, {{ normalise_place('name', 'district') }} as district_key
    from reference_areas
    where level = 'district'
    {{ qualify_rows("count(*) over (partition by district_key) = 1") }}

),

reference_streets as (

    select area_code, name, parent_code, {{ normalise_place('name', 'street') }} as street_key
    from reference_areas
    where level = 'street'

),

with_district as (

    select
        derived_names.*,
        coalesce(
            reference_districts.area_code,
            case when derived_names.district_key is not null
                then 'x' || left({{ dbt.hash("'district|' || derived_names.district_key") }}, 12) end
        ) as district_code,
        coalesce(reference_districts.name, derived_names.district) as district_name
    from derived_names
    left join reference_districts on derived_names.district_key = reference_districts.district_key

),

street_matches as (

    -- the reference street of that name in that district (or the only one of that name, if no
    -- district was typed)
    select with_district.community_key, with_district.street_key, with_district.district_key,
        reference_streets.area_code, reference_streets.name
    from with_district
    inner join reference_streets
        on with_district.street_key = reference_streets.street_key
        and (with_district.district_key is null or with_district.district_code = reference_streets.parent_code)
    {{ qualify_rows("count(*) over (
        partition by with_district.community_key, with_district.street_key, with_district.district_key
    ) = 1") }}

),

with_street as (

    select
        with_district.*,
        coalesce(
            street_matches.area_code,
            case when with_district.street_key is not null
                then 'x' || left({{ dbt.hash(
                    "'street|' || coalesce(with_district.district_code, '') || '|' || with_district.street_key"
                ) }}, 12) end
        ) as street_code,
        coalesce(street_matches.name, with_district.street) as street_name
    from with_district
    left join street_matches
        on with_district.community_key = street_matches.community_key
        and with_district.street_key is not distinct from street_matches.street_key
        and with_district.district_key is not distinct from street_matches.district_key

),

derived as (

    select
        'x' || left({{ dbt.hash(
            "'community|' || coalesce(street_code, '') || '|' || coalesce(district_code, '') || '|' || community_key"
        ) }}, 12) as community_code,
        community,
        street_code,
        street_name as street,
        district_code,
        district_name as district,
        -- the keys typed names are matched on (an alias typed under other parents keeps its reading)
        community_key,
        street_key,
        district_key,
        true as is_derived
    from with_street

),

final as (

    select
        community_code, community, street_code, street, district_code, district,
        community_key, street_key, district_key, false as is_derived
    from reference_communities
    union all
    select
        community_code, community, street_code, street, district_code, district,
        community_key, street_key, district_key, is_derived
    from derived

)

select * from final
