"""Pseudonymisation of personal data, done inside DuckDB before anything is written.

Identifiers (phone numbers, names, worker ids) become keyed HMAC-SHA256 digests computed in SQL, so the
same caller links across orders without the clear value ever leaving the reading query. Phone numbers and
known names inside free text are replaced by placeholders, and so are other people's names where the
text introduces one: a self-introduction or a contact phrase (我是…, 我叫…, 联系人…, 姓名…, 投诉人…)
followed by a surname, one or two more characters and the end of the name (punctuation, 男/女, 电话…),
or a name in brackets right after a phone number. Requiring a known surname and that ending keeps place
names that follow 我是 (我是江山帝景a14栋的住户) in the text, where ticketing needs them.
"""

from __future__ import annotations

import hashlib

import duckdb

_BLOCK = 64  # SHA-256 block size in bytes
DIGEST_CHARS = 20  # 80 bits of the digest: collisions are negligible at city scale

PHONE_PLACEHOLDER = "[电话]"
NAME_PLACEHOLDER = "[姓名]"

# Mobile numbers (optionally +86), and landlines with an area code; digits must not continue on
# either side, so order numbers and amounts are left alone. RE2 has no look-around, hence the groups.
_MOBILE = r"(\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}"
_LANDLINE = r"0[1-9][0-9]{1,2}-[0-9]{7,8}"
PHONE_PATTERN = rf"(^|[^0-9])(?:{_MOBILE}|{_LANDLINE})([^0-9]|$)"


# Common Chinese surnames (compound ones first, so 欧阳 is not read as 欧 + a given name).
_COMPOUND_SURNAMES = "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 夏侯 长孙 宇文 司徒 独孤 端木"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝谈"
)
# Words that introduce a person by name in an appeal's text.
_INTRODUCTIONS = (
    "我是|我叫|本人叫|本人是|本人姓名|姓名|联系人|投诉人|举报人|反映人|申请人|来电人|求助人|报料人|当事人"
)
# What can follow a name: punctuation, a space, 男/女, a title, a number, or words that start the next
# piece of personal data.
_NAME_END = (
    r"[，,。.、；;：:！!？?（(）)\s\x{3000}\[0-9]|男|女|先生|女士|电话|手机|联系|身份|今年|家住|出生|系|现|投诉"
    r"|举报|$"
)
_SURNAME = "(?:" + "|".join(_COMPOUND_SURNAMES.split()) + "|[" + _SURNAMES + "])"
_GIVEN_NAME = r"\p{Han}{1,2}"
_SEPARATOR = r"[：:\s\x{3000}]*(?:是|为|叫)?[：:\s\x{3000}]*"  # \x{3000}: the ideographic space
# The name is the third group of the first pattern and the second of the other.
INTRODUCED_NAME_PATTERN = rf"({_INTRODUCTIONS})({_SEPARATOR})({_SURNAME}{_GIVEN_NAME})({_NAME_END})"
BRACKETED_NAME_PATTERN = rf"(\[电话\]\s*[（(])({_SURNAME}{_GIVEN_NAME})[）)]"


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def install(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define the SQL macros ``pii_hash(text)`` and ``redact_phones(text)`` on a connection.

    The pads derived from the key are bound as blob literals of a macro that lives only in this
    connection's memory; they never reach a file.
    """
    inner_pad, outer_pad = _pads(key)
    con.execute(
        f"""
        create or replace temp macro pii_hash(value) as (
            case when nullif(trim(value), '') is null then null else
            left(sha256(from_hex('{outer_pad.hex()}') || from_hex(sha256(
                from_hex('{inner_pad.hex()}') || encode(trim(value))))), {DIGEST_CHARS})
            end
        )
        """
    )
    con.execute(
        f"""
        create or replace temp macro redact_phones(value) as (
            regexp_replace(regexp_replace(value, '{PHONE_PATTERN}', '\\1{PHONE_PLACEHOLDER}\\3', 'g'),
                           '{PHONE_PATTERN}', '\\1{PHONE_PLACEHOLDER}\\3', 'g')
        )
        """
    )
    # Phones are hashed as bare digits without the +86 prefix, so "138 0013 8000" and
    # "+86-13800138000" link to the same caller.
    con.execute(
        """
        create or replace temp macro phone_hash(value) as (
            pii_hash(regexp_replace(regexp_replace(value, '[^0-9]', '', 'g'), '^86([0-9]{11})$', '\\1'))
        )
        """
    )
    # Phones first: a name in brackets is recognised by the phone placeholder before it. Every name
    # found is then replaced wherever it occurs in the text (a signature repeats it without 我是).
    con.execute(
        f"""
        create or replace temp macro redact_personal(value) as (
            list_reduce(
                list_distinct(list_concat(
                    regexp_extract_all(redact_phones(value), '{_sql(INTRODUCED_NAME_PATTERN)}', 3),
                    regexp_extract_all(redact_phones(value), '{_sql(BRACKETED_NAME_PATTERN)}', 2))),
                lambda text, name: replace(text, name, '{NAME_PLACEHOLDER}'),
                redact_phones(value))
        )
        """
    )
    # The known name is replaced only when it has two characters or more; a shorter one becomes the
    # empty string, which replace() leaves alone. One unconditional call, not a CASE with redact_personal
    # in each branch: DuckDB shares the repeated redact_phones of that macro only outside a CASE, and the
    # CASE doubled the cost of redacting titles and descriptions.
    con.execute(
        f"""
        create or replace temp macro redact_text(value, known_name) as (
            replace(redact_personal(value),
                    if(length(trim(coalesce(known_name, ''))) >= 2, trim(known_name), ''),
                    '{NAME_PLACEHOLDER}')
        )
        """
    )


def _sql(text: str) -> str:
    return text.replace("'", "''")
