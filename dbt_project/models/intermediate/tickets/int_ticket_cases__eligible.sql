{#- The cases that can join a class of problem: placed in a community and classified under a category
    whose problems belong to a place (personal matters never form a class), with their review quarter,
    where they happened and their description reduced for comparison.

    Where: the order's address (事发地址) without the area names is the place, read up to the first spot
    (a building, a gate or a bus route); the spots come from the address and the description. A grid worker's address
    goes on to name the thing itself (楼道, 井盖, 物业费): what follows the last place suffix or spot is
    kept as `address_object`, from which int_problem_objects__vocabulary learns what appeals are about.
    The description loses stock phrases, punctuation and its own area and place names, so two cases
    resemble each other for what they say, not for where they are. -#}
with cases as (

    select * from {{ ref('int_cases__service_levels') }}
    where community_code is not null and is_place_bound

),

with_quarter as (

    select
        *,
        {{ quarter_label(to_local('received_at')) }} as quarter
    from cases

),

stripped as (

    select
        *,
        {{ strip_boilerplate('description') }} as stripped_text,
        {{ strip_boilerplate('address') }} as stripped_address
    from with_quarter

),

areas_removed as (

    select
        *,
        -- a building is a 栋 however it is written: 3号楼, 3幢 and 3栋 are one spot
        {% for column in ['stripped_text', 'stripped_address'] -%}
        regexp_replace({{ remove_names(column, ['community', 'community_name', 'street', 'street_name', 'district', 'district_name']) }},
            '号楼|幢', '栋', 'g') as {{ column | replace('stripped', 'arealess') }}{{ ',' if not loop.last }}
        {% endfor %}
    from stripped

),

located as (

    select
        *,
        -- the place: the address up to its first spot or number (a grid worker's address may go on to
        -- the thing itself, 凤凰雅居小区绿化带; places are compared by prefix, see int_ticket_cases__links)
        regexp_replace(arealess_address, '({{ var("ticket_spot_token_pattern") }}|[0-9]).*$', '') as place_name,
        -- what the address names after its last place suffix, spot or unit: the object, if any
        substring(arealess_address, length({{ address_up_to_last_place('arealess_address', include_spots=true) }}) + 1) as address_tail
    from areas_removed

),

tokenized as (

    select
        -- ids
        case_id,
        stream,
        resident_key,

        -- grouping keys
        quarter,
        cast(left(quarter, 4) as integer) * 4 + cast(right(quarter, 1) as integer) - 1 as quarter_index,
        category_code,
        left(category_code, 5) as category_group,
        grid_code,
        community_code,
        street_code,

        -- what the reviewer and the similarity see
        channel,
        description,
        arealess_text,
        -- where: two appeals naming different places or spots (buildings, gates) are about different
        -- things, however alike the rest of their words
        nullif(place_name, '') as place_name,
        list_distinct(list_concat(
            {{ address_tokens('arealess_text', var('ticket_spot_token_pattern')) }},
            {{ address_tokens('arealess_address', var('ticket_spot_token_pattern')) }}
        )) as address_tokens,
        case
            when length(address_tail) between 2 and 8 and not regexp_matches(address_tail, '[0-9]')
            then address_tail
        end as address_object,

        -- how it was handled
        is_duplicate,
        reopen_count,
        escalated_at,
        is_resolved,
        is_rated,
        is_satisfied,
        received_at,
        resolved_at

    from located

),

final as (

    select
        * exclude (arealess_text),
        -- what the similarity compares: what the appeal says, not where (places and spots are compared
        -- on their own; left in, a compound's name alone would make all its appeals look alike)
        list_reduce(
            list_prepend(
                {{ remove_name('arealess_text', place_head('place_name')) }},
                address_tokens
            ),
            lambda text, name: replace(text, name, ' ')
        ) as comparable_text
    from tokenized

)

select * from final
