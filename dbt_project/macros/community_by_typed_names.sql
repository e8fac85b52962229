{#- The normalised place names typed on each row of `relation` keyed by `id_column` (which carries
    `community_name`, `street_name` and `district_name`), read through the area aliases (traditional
    characters, a typo, the full official name stand for their reference name). -#}
{% macro typed_place_keys(relation, id_column) %}
    with typed_keys as (
        select
            {{ id_column }} as row_id,
            {{ normalise_place('community_name', 'community') }} as community_key,
            {{ normalise_place('street_name', 'street') }} as street_key,
            {{ normalise_place('district_name', 'district') }} as district_key
        from {{ relation }}
    ),

    place_aliases as (
        select * from {{ ref('int_areas__aliases') }}
    )

    select
        typed_keys.row_id,
        coalesce(community_alias.name_key, typed_keys.community_key) as community_key,
        coalesce(street_alias.name_key, typed_keys.street_key) as street_key,
        coalesce(district_alias.name_key, typed_keys.district_key) as district_key
    from typed_keys
    left join place_aliases as community_alias
        on community_alias.level = 'community' and typed_keys.community_key = community_alias.alias_key
    left join place_aliases as street_alias
        on street_alias.level = 'street' and typed_keys.street_key = street_alias.alias_key
    left join place_aliases as district_alias
        on district_alias.level = 'district' and typed_keys.district_key = district_alias.alias_key
{% endmacro %}

{#- The community an operator's typed names point to, for each row of `relation` keyed by `id_column`,
    among the communities of the model `communities` (the city's, by default: reference and derived).

    A candidate community must share the community name (normalised, through the aliases), and a typed
    street or district that contradicts it rules it out. Of the rest, those agreeing best (street counts
    more than district) are kept, with `tied` = how many share that best agreement: callers use the
    match only when `tied = 1`. Cases, volunteer sessions and the derivation of areas share this rule. -#}
{% macro community_by_typed_names(relation, id_column, communities='int_areas__communities') %}
    with typed_names as (
        {{ typed_place_keys(relation, id_column) }}
    ),

    communities as (
        select * from {{ ref(communities) }}
    ),

    candidates as (
        select
            typed_names.row_id,
            communities.community_code,
            case when typed_names.street_key = communities.street_key then 2 else 0 end
                + case when typed_names.district_key = communities.district_key then 1 else 0 end
                as agreement,
            (typed_names.street_key is not null and typed_names.street_key <> communities.street_key)
                or (typed_names.district_key is not null and typed_names.district_key <> communities.district_key)
                as contradicts
        from typed_names
        inner join communities on typed_names.community_key = communities.community_key
    )

    {#- `candidates.row_id`, not `row_id`: where the id column is itself called row_id, Spark finds the
        bare name ambiguous between the column and its alias (the same value) -#}
    select
        candidates.row_id as {{ id_column }},
        community_code,
        count(*) over (partition by candidates.row_id, agreement) as tied
    from candidates
    where not contradicts
    {{ qualify_rows("rank() over (partition by candidates.row_id order by agreement desc) = 1") }}
{% endmacro %}
