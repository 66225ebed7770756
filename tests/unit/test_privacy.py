"""Masking personal data (zhicheng.domain.privacy): what leaves the registry."""
import datetime as dt

from hypothesis import given, strategies as st

from zhicheng.domain.identity import make_id_number
from zhicheng.domain.privacy import (
    mask_email, mask_field, mask_fields, mask_id_number, mask_phone, redact,
)

ID = make_id_number("320211", dt.date(1985, 3, 4), 275, "女")


def test_an_id_number_shows_its_first_and_last_four():
    assert mask_id_number("320211198503040550") == "3202**********0550"
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_a_phone_number_shows_its_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_an_email_keeps_its_domain_and_first_letter():
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("not-an-address") == "n" + "*" * 13


def test_empty_values_stay_empty_and_short_values_are_mostly_hidden():
    assert mask_id_number(None) == mask_id_number("") == mask_phone("  ") == ""
    assert mask_id_number("12345") == "1***5"
    assert mask_id_number("123") == "***"


@given(st.text(alphabet="0123456789X", min_size=1, max_size=30))
def test_a_masked_value_keeps_its_length_and_hides_at_least_half_or_four(value):
    for masker in (mask_id_number, mask_phone):
        masked = masker(value)
        assert len(masked) == len(value)
        assert masked.count("*") >= min(4, (len(value) + 1) // 2)


def test_rows_are_masked_by_field_name_only():
    row = {"application_id": 7, "id_number": ID, "holder_id_number": ID, "phone": "13812345678",
           "certificate_no": ID, "gender": "女", "email": None}
    masked = mask_fields(row)
    assert masked == {**row, "id_number": mask_id_number(ID), "holder_id_number": mask_id_number(ID),
                      "phone": "138****5678"}
    assert mask_field("submission_id", ID) == ID


def test_redact_replaces_only_this_persons_numbers():
    other = make_id_number("320106", dt.date(1990, 1, 1), 3, "男")
    text = f"身份证号{ID.lower()}有误，证书编号{other}，电话13812345678。"
    out = redact(text, id_number=ID, phone="13812345678")
    assert ID.lower() not in out.lower() and "13812345678" not in out
    assert mask_id_number(ID.lower()) in out and "138****5678" in out and other in out
    assert redact("无", id_number=None, phone="") == "无"
