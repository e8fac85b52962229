{#- The place names residents write in Chinese free text (月亮岛路, 青青家园, 松雅站), learned per quarter
    from the texts themselves, with no list of the city's names.

    A candidate is a run of name characters ending in a place-like suffix (`ticket_text_place_suffixes`:
    路, 小区, 家园, 学校, 站 ...) not followed by a character that makes it a thing on the place (路面,
    路灯; `ticket_not_place_after`), with a head of 2 up to `ticket_place_max_head` characters. It is a
    place name when
    - it recurs: at least `ticket_place_min_cases` cases of the quarter write it, and at most
      `ticket_place_max_df` of them (a name every other case writes is a whole city or a generic word);
    - its suffix really ends a name: the character before the suffix and the suffix's first character
      (家园 in 青青家园: 青家) are mostly seen inside this name — at least `ticket_place_min_cohesion` of
      the cases with that pair write the name. In 道路, 政府 or 网站 the suffix is part of a common word,
      and the pair is everywhere;
    - none of its character pairs is a stock word (in more than `ticket_stopword_max_df` of the quarter's
      texts): 我们小区 and 附近小区 are no names.
    Each shortest name (a 2-character head) stands for the longest name that extends it leftwards and
    is still written by at least `ticket_place_extension_share` of its cases (more than half, so one):
    青青家园 and A3区青青家园 become one place when most cases write the longer. -#}
with mentions as (

    select * from {{ ref('int_ticket_cases__place_mentions') }}

),

terms as (

    select quarter, term, max(document_count) as document_count, max(case_total) as case_total
    from {{ ref('int_ticket_cases__terms') }}
    group by quarter, term

),

supported as (

    select quarter, place_name, shortest_name, junction, head_length, count(*) as case_count
    from mentions
    group by quarter, place_name, shortest_name, junction, head_length

),

shortest_names as (

    select supported.*
    from supported
    inner join terms as junctions
        on supported.quarter = junctions.quarter and lower(supported.junction) = junctions.term
    where supported.head_length = 2
        and supported.case_count >= {{ var('ticket_place_min_cases') }}
        and supported.case_count <= {{ var('ticket_place_max_df') }} * junctions.case_total
        and supported.case_count >= {{ var('ticket_place_min_cohesion') }} * junctions.document_count
        -- no stock word in it
        and not exists (
            select 1
            from terms as stock
            where stock.quarter = supported.quarter
                and contains(lower(supported.place_name), stock.term)
                and length(stock.term) = 2
                and stock.document_count > greatest(3, {{ var('ticket_stopword_max_df') }} * stock.case_total)
        )

),

extended as (

    -- the longest extension still written by most of the shortest name's cases
    select
        shortest_names.quarter,
        shortest_names.shortest_name,
        supported.place_name
    from shortest_names
    inner join supported
        on shortest_names.quarter = supported.quarter
        and shortest_names.shortest_name = supported.shortest_name
    where supported.case_count >= {{ var('ticket_place_extension_share') }} * shortest_names.case_count
    qualify row_number() over (
        partition by shortest_names.quarter, shortest_names.shortest_name
        order by supported.head_length desc, supported.case_count desc, supported.place_name
    ) = 1

),

final as (

    select quarter, shortest_name, place_name
    from extended

)

select * from final
