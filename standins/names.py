"""Chinese names, phones and e-mails for synthetic applicants.

Surnames are weighted roughly by their share of the population (Jiangsu-leaning: 陈, 王,
张, 朱, 徐, 周, 顾, 陆, 钱, 沈 are over-represented there); given names are one or two
characters drawn from pools typical of each sex. Pinyin of the surname makes e-mails.
"""
from __future__ import annotations

import random

# (surname, pinyin, weight per mille, roughly)
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 72), ("李", "li", 68), ("张", "zhang", 66), ("陈", "chen", 60), ("刘", "liu", 50),
    ("杨", "yang", 30), ("徐", "xu", 28), ("朱", "zhu", 25), ("周", "zhou", 24), ("黄", "huang", 20),
    ("吴", "wu", 20), ("赵", "zhao", 18), ("孙", "sun", 17), ("胡", "hu", 14), ("顾", "gu", 12),
    ("陆", "lu", 12), ("沈", "shen", 11), ("钱", "qian", 9), ("马", "ma", 10), ("高", "gao", 10),
    ("林", "lin", 9), ("何", "he", 9), ("郭", "guo", 9), ("罗", "luo", 8), ("郑", "zheng", 8),
    ("梁", "liang", 7), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 7), ("许", "xu", 7),
    ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 6), ("彭", "peng", 5),
    ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5), ("袁", "yuan", 5),
    ("潘", "pan", 5), ("蒋", "jiang", 6), ("蔡", "cai", 5), ("葛", "ge", 4), ("杜", "du", 4),
    ("叶", "ye", 4), ("程", "cheng", 4), ("魏", "wei", 4), ("丁", "ding", 4), ("姚", "yao", 4),
    ("卢", "lu", 3), ("姜", "jiang", 3), ("范", "fan", 3), ("季", "ji", 3), ("缪", "miao", 2),
    ("严", "yan", 3), ("戴", "dai", 3), ("汤", "tang", 2), ("殷", "yin", 2), ("储", "chu", 2),
    ("欧阳", "ouyang", 1), ("诸葛", "zhuge", 0.3), ("司马", "sima", 0.3),
)
_MALE = "伟强磊军勇杰涛斌浩鹏辉明华建国峰亮俊超宇晨昊文博志刚平东海波飞龙锋健晓"
_FEMALE = "芳娟敏静丽艳娜燕霞玲婷雪琳颖洁慧倩萍红梅丹佳欣怡晶璐露蓉月秀兰云晓"
_SHARED = "子一嘉思雨安天梓诗俊家书宁明清立心"


def _weighted_surnames() -> tuple[list[tuple[str, str]], list[float]]:
    return [(s, p) for s, p, _ in SURNAMES], [w for _, _, w in SURNAMES]


_POP, _WEIGHTS = _weighted_surnames()


def person_name(rng: random.Random, gender: str) -> tuple[str, str]:
    """(name, surname pinyin); two-character given names are the more common."""
    surname, pinyin = rng.choices(_POP, _WEIGHTS)[0]
    pool = _MALE if gender == "男" else _FEMALE
    if rng.random() < 0.25:
        given = rng.choice(pool)
    else:
        given = rng.choice(pool + _SHARED) + rng.choice(pool)
    return surname + given, pinyin


def other_name(rng: random.Random, name: str) -> str:
    """A different name of the same person as a record might hold it (one character off)."""
    pool = _MALE + _FEMALE
    while True:
        candidate = name[:-1] + rng.choice(pool)
        if candidate != name:
            return candidate


_MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "159", "158", "157", "152", "151", "150",
                    "187", "188", "182", "183", "130", "131", "132", "155", "156", "185", "186",
                    "133", "153", "180", "181", "189", "177", "199", "198", "176", "173")
_MAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "139.com", "foxmail.com")


def phone(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def email(rng: random.Random, pinyin: str, serial: int) -> str:
    domain = rng.choice(_MAIL_DOMAINS)
    if domain == "qq.com":
        return f"{rng.randrange(10**7, 10**10)}@qq.com"
    return f"{pinyin}{serial % 10000:04d}{rng.randrange(100):02d}@{domain}"
