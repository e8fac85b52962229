{#- Description text reduced to what tells one problem from another: the intake operators' stock phrases
    (var `text_boilerplate`), redaction placeholders and punctuation removed; with a `separator` of ' ',
    a run of punctuation and spaces becomes one space, so English words stay apart. Place names are
    removed by the caller, which knows the case's place. -#}
{% macro strip_boilerplate(column, separator='') -%}
    {%- set ns = namespace(expr='coalesce(' ~ column ~ ", '')") -%}
    {%- for phrase in var('text_boilerplate') -%}
        {%- set ns.expr = 'replace(' ~ ns.expr ~ ", '" ~ (phrase | replace("'", "''")) ~ "', '')" -%}
    {%- endfor -%}
    {{ regexp_replace_all(ns.expr, "'[ \\t\\n\\r　,.;:!?()\"''，。；：！？、（）“”‘’《》【】…—\\\\-]+'", "'" ~ separator ~ "'") }}
{%- endmacro %}

{#- Remove a place name from a text when the name is known. -#}
{% macro remove_name(text, name) -%}
    case when {{ name }} is null or {{ name }} = '' then {{ text }} else replace({{ text }}, {{ name }}, '') end
{%- endmacro %}

{#- Remove each of the names in the columns `names` from a text. -#}
{% macro remove_names(text, names) -%}
    {%- set ns = namespace(expr=text) -%}
    {%- for name in names -%}{%- set ns.expr = remove_name(ns.expr, name) -%}{%- endfor -%}
    {{ ns.expr }}
{%- endmacro %}

{#- The start of a text up to its last place suffix (东湖兰亭大道 of 东湖兰亭大道井盖) or, with
    `include_spots`, its last spot or unit (3栋 of 凤凰雅居3栋楼道); '' when there is none. A suffix followed
    by one of `ticket_not_place_after` does not end a place: 路面, 路灯 and 路口 are things on a road. -#}
{% macro address_up_to_last_place(text, include_spots=false) -%}
    {%- set ends = var('ticket_place_suffixes') | join('|') -%}
    {%- if include_spots %}{% set ends = var('ticket_spot_token_pattern') ~ '|[0-9]+单元|' ~ ends %}{% endif -%}
    regexp_extract({{ text }}, '^(.*(?:{{ ends }}))(?:[^{{ var("ticket_not_place_after") }}]|$)', 1)
{%- endmacro %}

{#- A place's name up to its last place suffix, or the whole name when it has none: what a description
    says to name the place. -#}
{% macro place_head(place) -%}
    coalesce(nullif({{ address_up_to_last_place(place) }}, ''), {{ place }})
{%- endmacro %}

{#- One row per term of `text_column` in `relation`, with `key_columns` carried. A text is read as a
    sequence of tokens — each Chinese character on its own, each run of Latin letters or digits as a
    word — and its terms are every pair of neighbouring tokens (Chinese character bigrams, English word
    bigrams) and every English word: Chinese needs no word segmentation for this, a bigram already says
    most of what a word does, while a single English word does. -#}
{% macro text_terms(relation, key_columns, text_column) -%}
    {{ return(adapter.dispatch('text_terms', 'gridline')(relation, key_columns, text_column)) }}
{%- endmacro %}

{% macro duckdb__text_terms(relation, key_columns, text_column) -%}
    with tokenized as (
        select {{ key_columns | join(', ') }},
            regexp_extract_all(lower({{ text_column }}), '[a-z0-9]+|[\x{4e00}-\x{9fff}]') as tokens
        from {{ relation }}
    )
    select {{ key_columns | join(', ') }},
        case when regexp_matches(tokens[position], '^[a-z0-9]{2,}$')
                and regexp_matches(tokens[position + 1], '^[a-z0-9]+$')
            then tokens[position] || ' ' || tokens[position + 1]
            else tokens[position] || tokens[position + 1]
        end as term
    from tokenized, unnest(range(1, len(tokens))) as positions(position)
    union all
    select {{ key_columns | join(', ') }}, word as term
    from tokenized, unnest(tokens) as words(word)
    where regexp_matches(word, '^[a-z][a-z0-9]+$')
{%- endmacro %}

{#- Spark: the same terms. Its string literals unescape backslashes, so the pattern's `\x{...}` is written
    with two; `posexplode` numbers the tokens from 0, and a pair is a token with the one after it. -#}
{% macro spark__text_terms(relation, key_columns, text_column) -%}
    with tokenized as (
        select {{ key_columns | join(', ') }},
            regexp_extract_all(lower({{ text_column }}), '[a-z0-9]+|[\\x{4e00}-\\x{9fff}]', 0) as tokens
        from {{ relation }}
    ),

    paired as (
        select {{ key_columns | join(", ") }}, token, try_element_at(tokens, position + 2) as next_token
        from tokenized
        lateral view posexplode(tokens) positions as position, token
        where position + 1 < size(tokens)
    )

    select {{ key_columns | join(', ') }},
        case when regexp_like(token, '^[a-z0-9]{2,}$') and regexp_like(next_token, '^[a-z0-9]+$')
            then token || ' ' || next_token
            else token || next_token
        end as term
    from paired
    union all
    select {{ key_columns | join(', ') }}, word as term
    from tokenized
    lateral view explode(tokens) words as word
    where regexp_like(word, '^[a-z][a-z0-9]+$')
{%- endmacro %}

{#- A Chinese text (a case's title and description, or its address) without the case's own area names, a
    building written one way however it was written (3号楼, 3幢 and 3栋 are one spot). -#}
{% macro without_case_areas(text) -%}
    {{ regexp_replace_all(remove_names(text, ticket_area_name_columns()), "'号楼|幢'", "'栋'") }}
{%- endmacro %}

{#- The columns of a case that name its areas. -#}
{% macro ticket_area_name_columns() -%}
    {{ return(['community', 'community_name', 'street', 'street_name', 'district', 'district_name']) }}
{%- endmacro %}
