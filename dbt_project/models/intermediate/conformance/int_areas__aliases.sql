{#- Other names typed for a place (old or short names, traditional characters, typos, full official
    names), as the reference lists them, keyed by their normalised form and pointing at the normalised
    reference name, per level. -#}
with areas as (

    select * from {{ ref('stg_reference__areas') }}

),

aliases as (

    select areas.level, alias.name as alias, areas.name
    from areas {{ unnest_join('areas.aliases', 'alias', 'name') }}
    where areas.level in ('district', 'street', 'community')

),

final as (

    select distinct
        level,
        case level
            when 'community' then {{ normalise_place('alias', 'community') }}
            when 'street' then {{ normalise_place('alias', 'street') }}
            else {{ normalise_place('alias', 'district') }}
        end as alias_key,
        case level
            when 'community' then {{ normalise_place('name', 'community') }}
            when 'street' then {{ normalise_place('name', 'street') }}
            else {{ normalise_place('name', 'district') }}
        end as name_key
    from aliases

)

-- an alias that could mean two places of a level means none: such a case is flagged, not guessed
select * from final
{{ qualify_rows("count(*) over (partition by level, alias_key) = 1") }}
