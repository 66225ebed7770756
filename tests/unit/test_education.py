from zhicheng.domain.education import (MISMATCHED, NOT_HELD, VERIFIED, check_report, extract_online_code,
                                       match_entry)

REC = {"record_id": "R1", "kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
       "study_form": "普通全日制", "enrollment_date": "2010-09-01", "graduation_date": "2014-06-30",
       "certificate_no": "102841201405001234"}
DEGREE = {**REC, "record_id": "R2", "kind": "学位", "level": "学士", "certificate_no": "1028442014001234"}


def entry(**over):
    e = {"kind": "学历", "level": "本科", "school": "南京大学", "major": "电气工程",
         "graduation_date": "2014-06-30", "certificate_no": "102841201405001234", "chsi_fetched": False}
    e.update(over)
    return e


def test_everything_agrees_is_verified():
    got = match_entry(entry(), [DEGREE, REC])
    assert got.outcome == VERIFIED and got.record == REC and got.fields == ()


def test_certificate_number_decides_and_the_rest_is_compared():
    got = match_entry(entry(major="电子工程", graduation_date="2014-07-01"), [REC])
    assert got.outcome == MISMATCHED and got.fields == ("major", "graduation_date")


def test_spacing_and_full_width_brackets_do_not_count_as_differences():
    rec = {**REC, "school": "中国矿业大学(北京)"}
    assert match_entry(entry(school="中国矿业大学（北京） "), [rec]).outcome == VERIFIED


def test_a_wrong_certificate_number_with_the_same_education_is_a_mismatch():
    got = match_entry(entry(certificate_no="999"), [REC])
    assert got.outcome == MISMATCHED and got.fields == ("certificate_no",)


def test_no_certificate_number_matched_on_evidence():
    assert match_entry(entry(certificate_no=None), [REC]).outcome == VERIFIED
    got = match_entry(entry(certificate_no=None, major="土木工程"), [REC])
    assert got.outcome == MISMATCHED and got.fields == ("major",)


def test_too_little_evidence_is_not_held():
    other = entry(certificate_no=None, school="东南大学", major="土木工程", graduation_date="2016-06-30")
    assert match_entry(other, [REC]).outcome == NOT_HELD
    assert match_entry(entry(), []).outcome == NOT_HELD
    assert match_entry(entry(kind="学位", level="学士", certificate_no="x", school="东南大学",
                             graduation_date="2011-01-01"), [REC]).outcome == NOT_HELD


def test_an_entry_fetched_from_chsi_is_filled_from_its_record():
    got = match_entry({"kind": "学历", "level": "本科", "chsi_fetched": True}, [REC, DEGREE])
    assert got.outcome == VERIFIED and got.filled["school"] == "南京大学"
    assert got.filled["certificate_no"] == REC["certificate_no"]
    assert match_entry({"kind": "学历", "level": "硕士研究生", "chsi_fetched": True}, [REC]).outcome == NOT_HELD


def test_online_code_from_report_text():
    text = "教育部学历证书电子注册备案表\n在线验证码：ABCD1234EFGH5678\n更新日期：2026年05月01日"
    assert extract_online_code(text) == "ABCD1234EFGH5678"
    assert extract_online_code("在线验证码: ABCD 1234 EFGH 5678") == "ABCD1234EFGH5678"
    assert extract_online_code("证书编号 102841201405001234\n码 ZX3Q9K2M7P1L0R4T") == "ZX3Q9K2M7P1L0R4T"
    assert extract_online_code("没有验证码的扫描件") is None
    assert extract_online_code("A1B2C3D4E5F6G7H8 and Z1Y2X3W4V5U6T7S8") is None  # ambiguous


def test_report_checks():
    report = {"online_code": "ABCD1234EFGH5678", "valid_until": "2099-01-01", "id_number": "X1",
              "name": "张三", "record": REC}
    assert check_report(report, id_number="X1", name="张三", entries=[entry()]) == []
    assert check_report(report, id_number="X2", name="张三", entries=[entry()])[0][0] == "chsi.report_other_person"
    code, params = check_report(report, id_number="X1", name="张三", entries=[entry(major="土木")])[0]
    assert code == "chsi.report_mismatch" and params["detail"] == "专业"
    code, _ = check_report(report, id_number="X1", name="张三", entries=[])[0]
    assert code == "chsi.report_mismatch"


def test_valid_until_from_report_text():
    from zhicheng.domain.education import extract_valid_until
    assert extract_valid_until("本备案表有效期至：2026-12-31\n") == "2026-12-31"
    assert extract_valid_until("在线验证报告有效期至：2026年3月1日") == "2026-03-01"
    assert extract_valid_until("无") is None
