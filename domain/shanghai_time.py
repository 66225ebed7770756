"""Asia/Shanghai, the zone of every date staff and applicants see: pure functions over
instants, for rules and for everything that prints a time (zhicheng.clock re-exports
them), and the one reader of the times and dates people type (`typed_time`,
`typed_date`). Asking for *now* is the clock's job, never a rule's."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The forms a person may type, said once (docs/architecture.md "Time" repeats them).
TIME_FORMS = ("2026-06-03 10:00、2026-06-03 10:00:00、2026/6/3 10:00、2026年6月3日 10:00、"
              "2026-06-03T10:00:00+08:00（不带时区即北京时间），或只写日期 2026-06-03")
DATE_FORMS = "2026-06-03、2026/6/3、2026年6月3日（带时间的，取其北京时间的日期）"

_TYPED = re.compile(
    r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:(?:[ T]+|(?<=日)\s*)(?P<H>\d{1,2})[:：](?P<M>\d{2})"
    r"(?:[:：](?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class TypedTimeError(ValueError):
    """What a person typed is not a time (or date) of the accepted forms; the message,
    in Chinese, names what was typed and the forms accepted."""


def typed_time(value: object, *, what: str = "时间") -> dt.datetime:
    """The instant a person typed, aware, in Asia/Shanghai.

    Reads text of TIME_FORMS (a date alone is 00:00), and the datetime and date objects
    a spreadsheet's date cells give; a time without an offset is Shanghai wall time, one
    with an offset is kept as that instant. Anything else (an Excel serial number, a
    time without a date, a day that does not exist) raises TypedTimeError naming `what`.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = _from_text(value.strip(), what, TIME_FORMS)
    else:
        raise TypedTimeError(_refusal(what, value, TIME_FORMS))
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def typed_date(value: object, *, what: str = "日期") -> dt.date:
    """The calendar date a person typed: text of DATE_FORMS or a date cell; a date with a
    time (a date-time cell, or text of TIME_FORMS) gives its Asia/Shanghai date."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, (str, dt.datetime)):
        try:
            return typed_time(value, what=what).date()
        except TypedTimeError:
            pass
    raise TypedTimeError(_refusal(what, value, DATE_FORMS))


def _from_text(text: str, what: str, forms: str) -> dt.datetime:
    m = _TYPED.fullmatch(text)
    if m is None:
        raise TypedTimeError(_refusal(what, text, forms))
    g = m.groupdict()
    try:
        return dt.datetime(int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"] or 0), int(g["M"] or 0),
                           int(g["S"] or 0), int((g["f"] or "0").ljust(6, "0")), tzinfo=_offset(g["tz"]))
    except ValueError:   # 2026-02-30, 25:00, an offset of 24 hours or more
        raise TypedTimeError(f"{what}“{text}”不是存在的日期时间；可写成：{forms}") from None


def _offset(text: str | None) -> dt.tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return dt.timezone.utc
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return dt.timezone((-1 if text[0] == "-" else 1) * dt.timedelta(minutes=minutes))


def _refusal(what: str, value: object, forms: str) -> str:
    shown = str(value).strip()
    if not shown:
        return f"{what} 为空；可写成：{forms}"
    if isinstance(value, (int, float)) or _NUMBER.fullmatch(shown):
        return (f"{what} {shown} 是一个数字（Excel 日期序列号？）：请把该列设为日期格式，"
                f"或写成：{forms}")
    return f"{what}“{shown}”不是日期时间；可写成：{forms}"


def local(moment: dt.datetime) -> dt.datetime:
    """The instant as Asia/Shanghai wall time. Stored times come back in UTC (see
    zhicheng.db.types), so every date, deadline or printed time shown to staff goes
    through here; a naive time names no instant and is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give it a zone (zhicheng.clock.SHANGHAI)")
    return moment.astimezone(SHANGHAI)


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an instant (00:30 in Shanghai is 16:30 UTC the
    day before: the Shanghai day is the one staff and applicants see)."""
    return local(moment).date()
