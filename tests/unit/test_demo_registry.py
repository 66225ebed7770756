"""The registry check the cycle bench and the scale-out test read (zhicheng.demo.registry)."""
from zhicheng.demo.registry import check
from zhicheng.domain.certificate_numbers import make_number


def no(serial: int, region: str = "320100", level: int = 2) -> str:
    return make_number(region, 2026, level, serial)


FORMER = make_number("320500", 2015, 1, 4)   # a former platform's number (历史登记)
COUNTERS = {"320100-2026-2": 4, "320200-2026-3": 2}


def issued() -> list[tuple[str, str]]:
    return [("JS1", no(1)), ("JS2", no(2)), ("JS3", no(3)), ("JS4", no(1, "320200", 3)), ("JS5", FORMER)]


def test_gapless_numbers_each_applied_once_at_the_province_are_sound():
    got = check(issued(), {n: 1 for _, n in issued()} | {"PRELOADED": 0}, COUNTERS)
    assert got["sound"] and got["certificates"] == 5 and got["numbered"] == 4 and got["counters"] == 2


def test_a_skipped_number_a_number_twice_and_the_province_disagreeing_are_each_found():
    certs = [r for r in issued() if r[0] != "JS2"] + [("JS6", no(3))]
    applied = {n: 1 for _, n in certs} | {no(3): 2, FORMER: 0, "OTHER": 1}
    got = check(certs, applied, COUNTERS)
    assert not got["sound"]
    assert got["gaps"] == {"320100-2026-2": [2]}
    assert got["numbers_twice"] == [no(3)]
    assert got["province"] == {"applied_once": 2, "missing": [FORMER], "applied_more_than_once": [no(3)],
                               "not_ours": ["OTHER"]}


def test_the_digest_says_who_got_which_number_whatever_the_order():
    one = check(issued(), {}, COUNTERS)["digest"]
    assert check(list(reversed(issued())), {}, COUNTERS)["digest"] == one
    swapped = [("JS2", no(1)), ("JS1", no(2)), *issued()[2:]]
    assert check(swapped, {}, COUNTERS)["digest"] != one
