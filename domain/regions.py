"""GB/T 2260 region codes: which are known, their names, and how they nest."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Region:
    code: str
    name: str

    @property
    def is_province(self) -> bool:
        return self.code.endswith("0000")

    @property
    def is_city(self) -> bool:
        return self.code.endswith("00") and not self.is_province

    @property
    def city_code(self) -> str:
        return self.code[:4] + "00"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


class RegionTable:
    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code = {r.code: r for r in regions}

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, str]]) -> "RegionTable":
        regions = []
        for i, rec in enumerate(records):
            code = str(rec["code"])
            if not _CODE.match(code):
                raise ValueError(f"entry {i}: code {code!r} is not 6 digits")
            regions.append(Region(code, str(rec["name"])))
        if not regions:
            raise ValueError("no regions listed")
        return cls(regions)

    def codes(self) -> list[str]:
        """Every code, in the order of the file."""
        return list(self._by_code)

    def is_known(self, code: str) -> bool:
        return code in self._by_code

    def name(self, code: str) -> str:
        return self._by_code[code].name

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def counties(self, province_code: str) -> list[Region]:
        """The districts and counties (neither province nor city) of one province."""
        return [r for r in self._by_code.values()
                if r.province_code == province_code and not r.is_province and not r.is_city]

    def covers(self, covered: Iterable[str], code: str) -> bool:
        """Whether `code` lies within any of `covered` (a province or city covers its parts)."""
        region = self._by_code.get(code)
        if region is None:
            return False
        for c in covered:
            if c == code or (c.endswith("0000") and c[:2] == code[:2]) or \
               (c.endswith("00") and not c.endswith("0000") and c[:4] == code[:4]):
                return True
        return False

    def __len__(self) -> int:
        return len(self._by_code)
