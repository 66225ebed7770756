"""Check characters of the national standards the back office meets every day.

ISO 7064 MOD 11-2 (resident ID numbers, GB 11643, and certificate numbers), and the
GB 32100 unified social credit code with its embedded GB 11714 organisation code.
"""
from __future__ import annotations

_MOD11_2_CHARS = "10X98765432"  # check character for remainder 0..10


def mod11_2_check_char(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a string of digits."""
    if not body.isdigit() or not body.isascii():
        raise ValueError(f"MOD 11-2 needs digits, got {body!r}")
    total = 0  # sum of digit * 2 ** (places to its right + 1), by Horner's rule
    for ch in body:  # (every QR scan checks a number: this is on the service's hot path)
        total = (total + ord(ch) - 48) * 2
    return _MOD11_2_CHARS[total % 11]


# GB 32100: 31 characters, the letters I, O, S, V and Z left out.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714: organisation code, 8 characters of [0-9A-Z] then a check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(body17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a USCC."""
    if len(body17) != 17 or any(ch not in USCC_ALPHABET for ch in body17):
        raise ValueError(f"a USCC body is 17 characters of {USCC_ALPHABET}, got {body17!r}")
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character (digit or X) of an 8-character organisation code."""
    total = sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))
