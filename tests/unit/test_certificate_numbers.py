"""Certificate numbers: composition, check character, parsing (rules.md: Certificates)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhicheng.domain.certificate_numbers import (InvalidCertificateNumber, is_valid_number,
                                                 make_number, number_problem, parse_number)
from zhicheng.domain.checksums import mod11_2_check_char


def test_layout_of_a_number():
    no = make_number("320100", 2026, 3, 42)
    assert len(no) == 18
    assert no[:6] == "320100" and no[6:10] == "2026" and no[10] == "3" and no[11:17] == "000042"
    assert no[17] == mod11_2_check_char(no[:17])


def test_known_check_character():
    # ISO 7064 MOD 11-2 as in GB 11643: the classic example ID body
    assert mod11_2_check_char("11010519491231002") == "X"
    no = make_number("110105", 1949, 1, 231002)  # same 17 digits as the example
    assert no == "11010519491231002X"
    assert is_valid_number(no) and is_valid_number(no.lower())


@pytest.mark.parametrize("text,fragment", [
    ("32010020263000042", "18位"),
    ("3201002026300004A1", "格式"),
    ("320100202630000000", "000000"),
])
def test_malformed_numbers_say_why(text, fragment):
    assert fragment in number_problem(text)
    with pytest.raises(InvalidCertificateNumber):
        parse_number(text)


def test_wrong_check_character_names_the_right_one():
    no = make_number("320000", 2026, 4, 7)
    wrong = no[:17] + ("0" if no[17] != "0" else "1")
    assert f"应为{no[17]}" in number_problem(wrong)


@pytest.mark.parametrize("args", [("32010", 2026, 3, 1), ("320100", 26, 3, 1),
                                  ("320100", 2026, 0, 1), ("320100", 2026, 3, 0),
                                  ("320100", 2026, 3, 1_000_000)])
def test_parts_out_of_range_are_refused(args):
    with pytest.raises(ValueError):
        make_number(*args)


@given(region=st.text(alphabet="0123456789", min_size=6, max_size=6), year=st.integers(1000, 9999),
       level=st.integers(1, 5), serial=st.integers(1, 999_999))
def test_parse_inverts_make(region, year, level, serial):
    parts = parse_number(make_number(region, year, level, serial))
    assert (parts.issuer_region_code, parts.year, parts.level_digit, parts.serial) == \
        (region, year, level, serial)


@given(serial=st.integers(1, 999_999), pos=st.integers(0, 16), delta=st.integers(1, 9))
def test_any_single_digit_change_is_caught(serial, pos, delta):
    no = make_number("321200", 2026, 3, serial)
    changed = no[:pos] + str((int(no[pos]) + delta) % 10) + no[pos + 1:]
    assert not is_valid_number(changed)


def test_verification_codes_are_grouped_unambiguous_and_normalised():
    from zhicheng.domain.certificate_numbers import normalize_code, verification_code
    code = verification_code(bytes(range(32)))
    assert len(code) == 14 and code.count("-") == 2
    assert not set(code) & set("ILOU")
    assert verification_code(bytes(range(32))) == code != verification_code(bytes(range(1, 33)))
    assert normalize_code(code.lower().replace("-", " ")) == code
    assert normalize_code("o1il-0000-0000") == "0111-0000-0000"
