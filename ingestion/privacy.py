"""Pseudonymisation of personal data, done inside DuckDB before anything is written.

Identifiers (phone numbers, names, worker ids) become keyed HMAC-SHA256 digests computed in SQL, so the
same caller links across orders without the clear value ever leaving the reading query. Phone numbers and
known names inside free text are replaced by placeholders.
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
    con.execute(
        f"""
        create or replace temp macro redact_text(value, known_name) as (
            case when length(trim(coalesce(known_name, ''))) >= 2
                 then replace(redact_phones(value), trim(known_name), '{NAME_PLACEHOLDER}')
                 else redact_phones(value) end
        )
        """
    )
