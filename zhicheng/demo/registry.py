"""The certificate registry a run of the demo ends with, and whether it is sound: in
our database, numbers without a gap in each counter (issuer, year, level) and none
twice; at the province (its own record of what it applied), every one of our numbers
applied once and none it applied that we do not hold. `digest` fingerprints who got
which number, so runs on different runners can be compared (issue 25)."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from zhicheng.domain.certificate_numbers import is_valid_number, parse_number

SHOWN = 5   # examples of each problem kept in the summary


def check(issued: Iterable[tuple[str, str]], applied: Mapping[str, int],
          counters: Mapping[str, int]) -> dict[str, Any]:
    """`issued`: (submission id, certificate number) of our registry; `applied`: the
    province's certificate number -> how many writes of it took effect (0: a record it
    held before, not ours); `counters`: "issuer-year-level" -> the next serial of our
    counter. A counter's numbers are 1 to its next serial less one, each once; numbers
    of no counter of ours are a former platform's (历史登记 keeps them)."""
    issued = sorted(issued)
    numbers = Counter(no for _, no in issued)
    serials: dict[str, list[int]] = defaultdict(list)
    for no in numbers:
        if is_valid_number(no):
            n = parse_number(no)
            key = f"{n.issuer_region_code}-{n.year}-{n.level_digit}"
            if key in counters:
                serials[key].append(n.serial)
    gaps = {key: sorted(set(range(1, nxt)) - set(serials[key]))[:SHOWN] or sorted(serials[key])[-SHOWN:]
            for key, nxt in counters.items() if sorted(serials[key]) != list(range(1, nxt))}
    twice = sorted(no for no, k in numbers.items() if k > 1)
    missing = sorted(no for no in numbers if applied.get(no, 0) == 0)
    again = sorted(no for no in numbers if applied.get(no, 0) > 1)
    unknown = sorted(no for no, k in applied.items() if k > 0 and no not in numbers)
    digest = hashlib.sha256("\n".join(f"{sid}={no}" for sid, no in issued).encode()).hexdigest()[:16]
    sound = not (gaps or twice or missing or again or unknown)
    return {"certificates": len(issued), "numbered": sum(len(v) for v in serials.values()),
            "counters": len(serials), "sound": sound,
            "gaps": gaps, "numbers_twice": twice[:SHOWN],
            "province": {"applied_once": sum(1 for no in numbers if applied.get(no) == 1),
                         "missing": missing[:SHOWN], "applied_more_than_once": again[:SHOWN],
                         "not_ours": unknown[:SHOWN]},
            "digest": digest}


def counters(*, session) -> dict[str, int]:
    """Our serial counters: "issuer-year-level" -> the next serial."""
    from zhicheng.issuance.models import SerialCounter
    return {f"{c.issuer_region_code}-{c.year}-{c.level_digit}": c.next_serial
            for c in session.scalars(select(SerialCounter))}


def issued(*, session) -> list[tuple[str, str]]:
    """(submission id, certificate number) of every certificate in our database."""
    from zhicheng.db.models import Application
    from zhicheng.issuance.models import Certificate
    return [(sid or "", no) for sid, no in session.execute(
        select(Application.submission_id, Certificate.certificate_no)
        .outerjoin(Application, Application.id == Certificate.application_id))]
