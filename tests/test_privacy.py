import hashlib
import hmac

import duckdb
import pytest

from ingestion import privacy


@pytest.fixture
def con():
    connection = duckdb.connect()
    privacy.install(connection, b"k3y")
    return connection


def test_pii_hash_is_standard_hmac_sha256(con):
    digest = con.sql("select pii_hash('13800138000')").fetchall()[0][0]
    expected = hmac.new(b"k3y", b"13800138000", hashlib.sha256).hexdigest()[: privacy.DIGEST_CHARS]
    assert digest == expected


def test_pii_hash_depends_on_the_key():
    other = duckdb.connect()
    privacy.install(other, b"another key")
    mine = duckdb.connect()
    privacy.install(mine, b"k3y")
    assert other.sql("select pii_hash('x')").fetchall() != mine.sql("select pii_hash('x')").fetchall()


def test_phone_hash_links_spellings_of_one_number(con):
    rows = con.sql(
        "select phone_hash('13800138000'), phone_hash('+86 138-0013-8000'), phone_hash('86 13800138000')"
    ).fetchall()[0]
    assert len(set(rows)) == 1


def test_blank_values_stay_null(con):
    assert con.sql("select pii_hash(''), pii_hash(null), phone_hash('  ')").fetchall()[0] == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请回电13912345678谢谢", "请回电[电话]谢谢"),
        ("电话 139 1234 5678。", "电话 [电话]。"),
        ("座机027-87654321或13912345678", "座机[电话]或[电话]"),
        ("工单HX2500001234已办结", "工单HX2500001234已办结"),
        ("金额20251234567元", "金额20251234567元"),
    ],
)
def test_redact_phones(con, text, expected):
    assert con.execute("select redact_phones(?)", [text]).fetchall()[0][0] == expected


def test_redact_text_also_hides_the_known_name(con):
    out = con.execute("select redact_text(?, ?)", ["王芳说楼道灯坏了，13912345678", "王芳"]).fetchall()[0][0]
    assert out == "[姓名]说楼道灯坏了，[电话]"
