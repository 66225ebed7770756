import datetime as dt

import pytest
from hypothesis import given, strategies as st

from zhicheng.domain.checksums import USCC_ALPHABET, mod11_2_check_char, uscc_check_char
from zhicheng.domain.identity import (
    gender_of, id_number_problems, make_id_number, make_uscc, uscc_problems,
)

# Published examples: GB 11643's own sample and a USCC printed in GB 32100's annex style.
GB11643_SAMPLE = "11010519491231002X"


def test_gb11643_sample_is_valid_and_female():
    assert id_number_problems(GB11643_SAMPLE, gender="女") == []
    assert gender_of(GB11643_SAMPLE) == "女"


@pytest.mark.parametrize("value, problem", [
    ("11010519491231002", "shape"),
    ("110105194912310021", "check_char"),
    ("11010519491331002X", "birth_date"),
    ("99010519491231002X", "region"),
])
def test_each_fault_is_named(value, problem):
    assert problem in id_number_problems(value)


def test_gender_must_agree_with_17th_digit():
    assert id_number_problems(GB11643_SAMPLE, gender="男") == ["gender"]


def test_future_birth_date_is_refused():
    value = make_id_number("320106", dt.date(2030, 1, 1), 7, "男")
    assert "birth_date" in id_number_problems(value, today=dt.date(2026, 6, 1))


@given(st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31)), st.integers(0, 10**6),
       st.sampled_from(["男", "女"]))
def test_made_id_numbers_are_valid(birth, seq, gender):
    value = make_id_number("321283", birth, seq, gender)
    assert id_number_problems(value, gender=gender) == []


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16),
       st.sampled_from("0123456789"))
def test_a_changed_digit_is_caught(body, pos, digit):
    value = body + mod11_2_check_char(body)
    changed = value[:pos] + digit + value[pos + 1:]
    if changed != value:
        assert mod11_2_check_char(changed[:17]) != changed[17]


def test_known_uscc_is_valid():
    # A code often printed as GB 32100's worked example.
    assert uscc_problems("91350100M000100Y43") == []


def test_uscc_may_start_with_letters():
    value = make_uscc("N2", "320583", "MA1XY7K3")
    assert value.startswith("N2") and uscc_problems(value) == []


@pytest.mark.parametrize("value, problem", [
    ("91350100M000100Y4", "shape"),
    ("91350100M000100Y4I", "alphabet"),
    ("91350100M000100Y44", "check_char"),
    ("Z1350100M000100Y43", "alphabet"),
])
def test_uscc_faults(value, problem):
    assert problem in uscc_problems(value)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_is_in_alphabet(body):
    assert uscc_check_char(body) in USCC_ALPHABET
