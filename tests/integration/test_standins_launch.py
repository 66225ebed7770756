"""start_standins and `zhicheng stand-ins`: three servers, one set of settings."""
import subprocess
import sys

import requests

from zhicheng.settings import Settings
from zhicheng.standins.launch import start_standins


def test_start_standins_gives_settings_the_back_office_can_use(tmp_path, monkeypatch, standin_call):
    with start_standins(state_dir=tmp_path / "s", app_id="test-app", app_secret="test-secret-0123456789") as s:
        for key, value in s.env().items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.system("province").url == s.province.url
        assert settings.system("chsi").app_secret.get_secret_value() == "test-secret-0123456789"
        assert standin_call(s.hall, "GET", "/api/v1/submissions").json() == {"items": [], "next_cursor": None}
        assert (tmp_path / "s" / "province.sqlite").exists()


def test_the_stand_ins_verb_prints_urls_and_stops_on_ctrl_c(tmp_path):
    import os
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "zhicheng.cli.main", "stand-ins", "--port-base", "0",
                             "--state", str(tmp_path / "st")], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "ZHICHENG_STANDINS_APP_SECRET": "s3cretvalue"})
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        hall_url = lines[0].split()[1]
        assert requests.get(hall_url + "/_admin/health", timeout=5).json() == {"ok": True}
        rest = [proc.stdout.readline() for _ in range(10)]
        assert "export ZHICHENG_HALL_APP_SECRET=s3cretvalue\n" in rest
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


def test_stand_ins_in_their_own_process_serve_a_year_and_take_admin_calls(tmp_path, monkeypatch):
    from zhicheng.bootstrap import build_app
    from zhicheng.connectors.hall import HallClient
    from zhicheng.standins.generator import generate
    from zhicheng.standins.remote import start_remote_standins
    generate(tmp_path / "year", applications=3, seed=5, batch_year=2026)
    s = start_remote_standins(year_dir=tmp_path / "year", state_dir=tmp_path / "st", seed=5)
    try:
        for key, value in s.env().items():
            monkeypatch.setenv(key, value)
        app = build_app()
        with HallClient.from_settings(app.settings, app.config) as hall:
            first = hall.submissions(None, 10).items
            s.hall.add_submission({**first[0], "revision": first[0]["revision"] + 1})
            again = hall.submissions(None, 10).items
            assert s.hall.sms_sent == 0
            for _ in range(2):   # the second a replay: one SMS
                hall.notify(id_number=first[0]["applicant"]["id_number"], template="publicity", params={},
                            idempotency_key="k-1")
        assert len(first) == 3 and [i["revision"] for i in again][-1] == first[0]["revision"] + 1
        assert s.hall.stats["submissions"] == {"200": 2} and s.hall.stats["notifications"] == {"202": 1, "200": 1}
        assert s.hall.sms_sent == 1
        assert s.chsi.stats == {} and s.province.stats == {}
    finally:
        s.stop()
    assert s.process.returncode == 0
