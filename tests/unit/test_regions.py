from zhicheng.config import get_config


def test_jiangsu_is_complete_to_county_level():
    regions = get_config().regions
    cities = [c for c in ("320100", "320200", "320300", "320400", "320500", "320600", "320700",
                          "320800", "320900", "321000", "321100", "321200", "321300")]
    assert all(regions.is_known(c) for c in cities)
    assert regions.name("321283") == "泰兴市"
    assert len(regions.counties("320000")) >= 90


def test_cover_by_city_and_province():
    regions = get_config().regions
    assert regions.covers(["321200"], "321283")
    assert regions.covers(["320000"], "320583")
    assert not regions.covers(["321200"], "320583")
    assert not regions.covers(["320000"], "999999")
