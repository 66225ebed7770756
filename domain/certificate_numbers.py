"""Certificate numbers (证书编号) of rules.md: 18 characters.

    issuer region code (6, GB/T 2260) + year (4) + level digit (1) + serial (6)
    + check character (ISO 7064 MOD 11-2 over the first 17 digits)

The level digit comes from policy (`levels` in config/policy.yaml: 员级 1 .. 正高级 5);
the caller passes it. Allocation of serials (unique and gapless per issuer, year and
level) is the database's job; this module only composes, parses and checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zhicheng.domain.checksums import mod11_2_check_char

NUMBER_LENGTH = 18
MAX_SERIAL = 999_999
_SHAPE = re.compile(r"^(\d{6})(\d{4})([1-9])(\d{6})([0-9X])$")


class InvalidCertificateNumber(ValueError):
    """The text is not a well-formed certificate number; the message says why."""


@dataclass(frozen=True)
class CertificateNumber:
    issuer_region_code: str
    year: int
    level_digit: int
    serial: int

    @property
    def body(self) -> str:
        return f"{self.issuer_region_code}{self.year:04d}{self.level_digit}{self.serial:06d}"

    def __str__(self) -> str:
        body = self.body
        return body + mod11_2_check_char(body)


def make_number(issuer_region_code: str, year: int, level_digit: int, serial: int) -> str:
    """Compose the 18-character number; raises ValueError for parts out of range."""
    if not re.fullmatch(r"\d{6}", issuer_region_code or ""):
        raise ValueError(f"issuer region code must be 6 digits, got {issuer_region_code!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year must have 4 digits, got {year}")
    if not 1 <= level_digit <= 9:
        raise ValueError(f"level digit must be 1..9, got {level_digit}")
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be 1..{MAX_SERIAL}, got {serial} (the year's numbers are used up)")
    return str(CertificateNumber(issuer_region_code, year, level_digit, serial))


def parse_number(text: str) -> CertificateNumber:
    """The parts of a number; InvalidCertificateNumber (with the reason) when it is not one."""
    problem = number_problem(text)
    if problem:
        raise InvalidCertificateNumber(problem)
    m = _SHAPE.match(text.strip().upper())
    assert m is not None
    return CertificateNumber(m[1], int(m[2]), int(m[3]), int(m[4]))


def number_problem(text: str) -> str | None:
    """None for a valid number, else a Chinese message saying what is wrong."""
    t = (text or "").strip().upper()
    if len(t) != NUMBER_LENGTH:
        return f"证书编号应为{NUMBER_LENGTH}位，实为{len(t)}位"
    m = _SHAPE.match(t)
    if not m:
        return "证书编号格式不正确：前17位应为数字，第18位为数字或X"
    if int(m[4]) == 0:
        return "证书编号的流水号不能为000000"
    expected = mod11_2_check_char(t[:17])
    if t[17] != expected:
        return f"证书编号校验位错误：应为{expected}，实为{t[17]}"
    return None


def is_valid_number(text: str) -> bool:
    return number_problem(text) is None


# Crockford's base32: no I, L, O, U, so a code read aloud or typed is not mistaken.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def verification_code(secret_digest: bytes, groups: int = 3) -> str:
    """A code like 'K7QM-2D9X-HC4T' from bytes only the issuer can produce (the caller
    passes a digest of the issuer's signature over the number)."""
    value = int.from_bytes(secret_digest[:8], "big")
    chars = []
    for _ in range(groups * 4):
        value, r = divmod(value, 32)
        chars.append(_CODE_ALPHABET[r])
    return "-".join("".join(chars[i:i + 4]) for i in range(0, len(chars), 4))


_NOT_ALNUM = re.compile(r"[\W_]")  # \w is str.isalnum() and the underscore
_CONFUSABLE = str.maketrans("OIL", "011")


def normalize_code(text: str) -> str:
    """A typed code as stored: upper case, groups of four, confusable letters mapped."""
    t = _NOT_ALNUM.sub("", (text or "").upper()).translate(_CONFUSABLE)
    return "-".join(t[i:i + 4] for i in range(0, len(t), 4))
