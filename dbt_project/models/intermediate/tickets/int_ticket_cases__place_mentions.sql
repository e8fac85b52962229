{#- Every run of name characters in a Chinese title or text that ends in a place-like suffix
    (`ticket_text_place_suffixes`: 路, 小区, 家园, 学校, 站 ...) and is not followed by a character that
    makes it a thing on the place (路面, 路灯; `ticket_not_place_after`), read with each head of 2 up to
    `ticket_place_max_head` characters: the candidates int_ticket_places__vocabulary learns place names
    from, and how a case is found to name one (int_ticket_cases__places).

    Built case by case (macros/ticket_quarters.sql): a night computes only its new and changed cases. -#}
{{ ticket_per_case_config('case') }}

with cases as (

    select case_id, quarter, case_text from {{ ref('int_ticket_cases__eligible') }}
    where {{ is_chinese('case_text') }} and {{ ticket_cases_to_build('case') }}

),

{%- set ns = namespace(suffixes=[]) %}
{%- for length in [6, 5, 4, 3, 2, 1] %}{% for suffix in var('ticket_text_place_suffixes') if suffix | length == length %}
{%- set ns.suffixes = ns.suffixes + [suffix] %}{% endfor %}{% endfor %}
{%- set pattern = '([\\x{4e00}-\\x{9fff}A-Za-z0-9]{1,' ~ var('ticket_place_max_head') ~ '}?)(' ~ (ns.suffixes | join('|')) ~ ')([^ ]?)' %}

suffix_hits as (

    -- each place suffix in a text with up to `ticket_place_max_head` name characters before it and the
    -- character after it (longer suffixes are tried first: 小学 before 学)
    {{ regexp_match_rows('cases', ['case_id', 'quarter'], 'case_text', pattern,
                         [[1, 'context'], [2, 'suffix'], [3, 'following']]) }}

),

final as (

    -- every head the context allows: 2 characters up to the whole context
    select distinct
        suffix_hits.case_id,
        suffix_hits.quarter,
        head_length,
        right(suffix_hits.context, head_length) || suffix_hits.suffix as place_name,
        right(suffix_hits.context, 1) || left(suffix_hits.suffix, 1) as junction
    from suffix_hits {{ unnest_join(integer_range('2', 'length(suffix_hits.context) + 1'), 'heads', 'head_length') }}
    where not contains('{{ var("ticket_not_place_after") }}', coalesce(nullif(suffix_hits.following, ''), '#'))

)

select * from final
{{ in_quarter_order() }}
