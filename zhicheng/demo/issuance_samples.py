"""Approved applications made directly in the database, for issuance tests, the
benchmark and rehearsals: what the review chain leaves behind when it approves."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from zhicheng.config import Config
from zhicheng.db.models import Applicant, Application, ApplicationRevision, Employer
from zhicheng.domain.application_status import ApplicationStatus
from zhicheng.domain.identity import make_id_number, make_uscc
from zhicheng.review.models import Decision

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤"
            "庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐梅莫庄辛管祝左涂谷祁时舒耿牟卜路"
            "詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环"
         "雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓"
         "纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓"
         "欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽")
REPORTING = {"省": "省直", "市": "市级", "县区": "县区级"}


def person_name(i: int) -> str:
    s = SURNAMES[i % len(SURNAMES)]
    g = GIVEN[(i * 7) % len(GIVEN)] + ("" if i % 3 == 0 else GIVEN[(i * 13 + 5) % len(GIVEN)])
    return s + g


def add_approved(*, session: Session, config: Config, count: int, start: int = 0,
                 committee_id: str | None = "NJ-GC-ZJ", track: str = "评审",
                 level: str | None = None, batch_year: int = 2026, region_code: str = "320102",
                 prior_certificate_no: str | None = None, photo_path: str | None = None,
                 approved_at: dt.datetime | None = None) -> list[int]:
    """`count` applications with status approved, standing at the first filing / issue /
    register stage of their chain, each with an approve decision at the stage before."""
    committee = config.committees.get(committee_id) if committee_id else None
    chain = list(config.chains.for_application(
        track=track, tier=committee.tier if committee else None,
        reporting=REPORTING.get(committee.tier) if committee else None,
        delegated=committee.delegated if committee else False))
    index = next(i for i, s in enumerate(chain) if config.chains.kind(s) in ("filing", "issue", "register"))
    level = level or (committee.levels[-1] if committee else "中级")
    series = committee.series if committee else "工程"
    specialty = committee.specialties[0] if committee else "电气工程"
    approved_at = approved_at or dt.datetime(2026, 5, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    employer = Employer(uscc=make_uscc("91", region_code, f"{start:08d}"[-8:]),
                        name=f"样例科技有限公司{start}", nature="企业单位", region_code=region_code)
    session.add(employer)
    session.flush()
    ids = []
    for i in range(start, start + count):
        gender = "男" if i % 2 else "女"
        birth = dt.date(1980, 1, 1) + dt.timedelta(days=i // 500)
        person = Applicant(id_number=make_id_number(region_code, birth, i, gender),
                           name=person_name(i), gender=gender)
        session.add(person)
        session.flush()
        app = Application(submission_id=f"S-{track}-{i:07d}", current_revision=1,
                          applicant_id=person.id, employer_id=employer.id, employer_name=employer.name,
                          employer_nature=employer.nature, committee_id=committee_id,
                          track=track, batch_year=batch_year, level=level, series=series,
                          specialty=specialty, qualification_name=_qualification(series, level),
                          reporting_level=REPORTING.get(committee.tier) if committee else None,
                          region_code=region_code, status=ApplicationStatus.APPROVED, chain=chain,
                          stage_index=index, stage=chain[index], holds_year_slot=False,
                          submitted_at=approved_at - dt.timedelta(days=60))
        session.add(app)
        session.flush()
        payload = {"submission_id": app.submission_id, "revision": 1, "track": track,
                   "prior_certificate_no": prior_certificate_no}
        session.add(ApplicationRevision(application_id=app.id, revision=1, payload=payload,
                                        payload_sha256="0" * 64, valid=True, received_at=approved_at))
        session.add(Decision(application_id=app.id, revision=1, stage_index=index - 1,
                             stage=chain[index - 1], action="approve", actor="system",
                             office="样例", reason=None, decided_at=approved_at,
                             recorded_at=approved_at))
        if photo_path:
            from zhicheng.db.models import Material
            session.add(Material(application_id=app.id, revision=1, material_id=f"P{i}",
                                 type="photo", file_name="photo.jpg", storage_path=photo_path))
        ids.append(app.id)
    session.flush()
    return ids


def _qualification(series: str, level: str) -> str:
    if series == "工程":
        return {"员级": "技术员", "助理级": "助理工程师", "中级": "工程师",
                "副高级": "高级工程师", "正高级": "正高级工程师"}[level]
    if series == "高校教师":
        return {"副高级": "副教授", "正高级": "教授"}.get(level, "讲师")
    return f"{series}{level}"
