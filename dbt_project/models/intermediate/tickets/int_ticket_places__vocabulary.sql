{#- The place names residents write in Chinese free text (月亮岛路, 青青家园, 松雅站), learned per quarter
    from the texts themselves, with no list of the city's names.

    A candidate is a run of name characters ending in a place-like suffix (`ticket_text_place_suffixes`:
    路, 小区, 家园, 学校, 站 ...) not followed by a character that makes it a thing on the place (路面,
    路灯; `ticket_not_place_after`), with a head of 2 up to `ticket_place_max_head` characters. It is a
    place name when
    - it recurs: at least `ticket_place_min_cases` cases of the quarter write it, and at most
      `ticket_place_max_df` of them (a name every other case writes is a whole city or a generic word),
      or `ticket_min_cases` in a quarter of few cases;
    - its suffix really ends a name: the character before the suffix and the suffix's first character
      (家园 in 青青家园: 青家) are mostly seen inside this name — at least `ticket_place_min_cohesion` of
      the cases with that pair write the name. In 道路, 政府 or 网站 the suffix is part of a common word,
      and the pair is everywhere;
    - where cases carry their community, they are in at most `ticket_place_max_communities` of them;
    - it does not start with a stock word (in more than `ticket_stopword_max_df` of the quarter's texts):
      我们小区 and 附近小区 are no names.
    The shortest such name is the place's key (`place_id`), however much of the name a case writes
    (青青家园, A3区青青家园); where a short one starts with a stock word (国际城), the next longer ones
    are the places (辉煌国际城, 凯乐国际城). Two places that still share a key are told apart by what
    their cases say. Its `place_name`, for the reader, is the longest name that extends it leftwards and
    is still written by at least `ticket_place_extension_share` of its cases (more than half, so one).

    Built quarter by quarter (macros/ticket_quarters.sql). -#}
{{ ticket_quarterly_config('cases') }}

with mentions as (

    select * from {{ ref('int_ticket_cases__place_mentions') }}
    where {{ ticket_quarters_to_build('cases') }}

),

terms as (

    select quarter, term, document_count, case_total
    from {{ ref('int_ticket_quarters__terms') }}
    where {{ ticket_quarters_to_build('cases') }}

),

communities as (

    select case_id, community_code from {{ ref('int_ticket_cases__eligible') }}
    where {{ ticket_quarters_to_build('cases') }}

),

supported as (

    select
        mentions.quarter,
        mentions.place_name,
        mentions.junction,
        mentions.head_length,
        count(*) as case_count,
        count(distinct communities.community_code) as community_count
    from mentions
    left join communities on mentions.case_id = communities.case_id
    group by mentions.quarter, mentions.place_name, mentions.junction, mentions.head_length

),

tails as (

    -- each candidate with the shorter candidates that end it (the same suffix, a shorter head)
    select
        supported.quarter,
        supported.place_name,
        supported.case_count,
        supported.head_length,
        right(supported.place_name, length(supported.place_name) - supported.head_length + tail_head) as tail
    from supported {{ unnest_join(integer_range('2', 'supported.head_length + 1'), 'tail_heads', 'tail_head') }}

),

names as (

    select supported.*
    from supported
    inner join terms as junctions
        on supported.quarter = junctions.quarter and lower(supported.junction) = junctions.term
    where supported.case_count >= {{ var('ticket_place_min_cases') }}
        -- in a quarter so small that the share is below a class's minimum, a class's place still counts
        and supported.case_count <= greatest({{ var('ticket_min_cases') }}, {{ var('ticket_place_max_df') }} * junctions.case_total)
        and supported.case_count >= {{ var('ticket_place_min_cohesion') }} * junctions.document_count
        -- written all over the city, it is a phrase (栋邻居, 摆摊堵路), not one place
        and supported.community_count <= {{ var('ticket_place_max_communities') }}
        -- a name does not start with a stock word (我们小区, 附近小区); the suffix itself may be one (小区)
        and not exists (
            select 1
            from terms as stock
            where stock.quarter = supported.quarter
                and stock.term = lower(left(supported.place_name, 2))
                and stock.document_count > greatest(3, {{ var('ticket_stopword_max_df') }} * stock.case_total)
        )

),

shortest_names as (

    -- a name that ends another name is the place (国际城 in a city with one such; 煌国际城 where 国际
    -- starts too many texts)
    select names.*
    from names
    where not exists (
        select 1
        from tails
        inner join names as shorter on tails.quarter = shorter.quarter and tails.tail = shorter.place_name
        where tails.quarter = names.quarter
            and tails.place_name = names.place_name
            and shorter.head_length < names.head_length
    )

),

extended as (

    -- the longest extension still written by most of the shortest name's cases
    select
        shortest_names.quarter,
        shortest_names.place_name as place_id,
        tails.place_name
    from shortest_names
    inner join tails
        on shortest_names.quarter = tails.quarter
        and shortest_names.place_name = tails.tail
    where tails.case_count >= {{ var('ticket_place_extension_share') }} * shortest_names.case_count
    {{ qualify_rows("row_number() over (
        partition by shortest_names.quarter, shortest_names.place_name
        order by tails.head_length desc, tails.case_count desc, tails.place_name
    ) = 1") }}

),

final as (

    select quarter, place_id, place_name
    from extended

)

select * from final
{{ in_quarter_order() }}
