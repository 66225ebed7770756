"""The verification and query service in a real browser: Playwright drives Debian's
Chromium against `zhicheng web` on a real HTTP server, as issue 23 lists: the QR code
of a real issued certificate scanned on a phone-sized screen, a genuine and a tampered
PDF uploaded, a revoked and a replaced certificate, a wrong code repeated until the
limit holds, a staff sign-in, a scoped search and an export, and the hall's download
with a good and a bad signature."""
from __future__ import annotations

import io
import shutil
from urllib.parse import urlsplit

import pymupdf as fitz
import pytest
from pydantic import SecretStr

from web_support import HALL_APP_ID, HALL_SECRET, PASSWORD, make_registry, serving
from zhicheng.domain.privacy import mask_name
from zhicheng.domain.signing import signed_headers
from zhicheng.issuance.pdf import Renderer
from zhicheng.web.app import create_app

pytestmark = pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)


def scanned_url(pdf: bytes, settings, candidate: str) -> str:
    """The QR code's address, read from the rendered page: every module of the printed
    code must match the code of `candidate` (no QR decoder is installed; a code that
    encodes anything else differs in many modules)."""
    renderer = Renderer(settings)
    matrix = renderer._qr_matrix(candidate)
    q = settings.layout.qr
    n, zoom = len(matrix), 4
    pix = fitz.open(stream=pdf, filetype="pdf")[0].get_pixmap(matrix=fitz.Matrix(zoom, zoom))
    cell = q.size / n
    for r in range(n):
        for c in range(n):
            x, y = int((q.x + (c + 0.5) * cell) * zoom), int((q.y + (r + 0.5) * cell) * zoom)
            dark = pix.pixel(x, y)[0] < 128
            assert dark == matrix[r][c], f"module {r},{c} of the printed QR code is not {candidate}'s"
    return candidate


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on this machine: the browser tests of zhicheng web need it "
                    "(.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield p, b
        b.close()


def test_verification_and_staff_search_in_a_browser(app, browser, tmp_path):
    p, b = browser
    app.settings = app.settings.model_copy(update={"hall_app_id": HALL_APP_ID,
                                                   "hall_app_secret": SecretStr(HALL_SECRET)})
    reg = make_registry(app)
    cert_settings = app.config.certificates
    with serving(create_app(app, session_secret="browser-test")) as base:
        # -- a phone scans the QR code of an issued certificate
        cert = reg.nanjing[2]
        pdf = (app.settings.home / cert.document_path).read_bytes()
        url = scanned_url(pdf, cert_settings, Renderer(cert_settings).verification_url_for(
            cert.certificate_no, cert.verification_code))
        printed = urlsplit(url)
        phone = b.new_context(**p.devices["Pixel 7"])
        page = phone.new_page()
        # the office's proxy maps the printed address's /zhicheng/ onto the service (docs/verification.md)
        page.goto(f"{base}{printed.path.removeprefix('/zhicheng')}?{printed.query}")
        result = page.get_by_role("status")
        assert result.get_by_role("heading").inner_text() == "有效"
        assert page.locator("#holder").inner_text() == mask_name(cert.holder_name)
        body = page.content()
        assert cert.holder_name not in body and cert.holder_id_number not in body
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits the phone
        # -- uploads: the genuine PDF, then a tampered one
        page.get_by_label("电子证书文件（PDF）").set_input_files(
            files=[{"name": "cert.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        page.get_by_role("button", name="核验文件").click()
        assert "证书有效" in page.get_by_role("status").inner_text()
        doc = fitz.open(stream=pdf, filetype="pdf")
        doc[0].insert_text((300, 500), "伪造", fontname="china-s")
        page.get_by_label("电子证书文件（PDF）").set_input_files(
            files=[{"name": "forged.pdf", "mimeType": "application/pdf", "buffer": doc.tobytes()}])
        page.get_by_role("button", name="核验文件").click()
        assert page.get_by_role("status").get_by_role("heading").inner_text() == "文件已被篡改"
        # -- typed: a revoked and a replaced certificate
        for c, heading in ((reg.revoked, "已撤销"), (reg.replaced, "已被取代")):
            page.get_by_label("证书编号").fill(c.certificate_no)
            page.get_by_label("验证码").fill(c.verification_code)
            page.get_by_role("button", name="核验", exact=True).click()
            assert page.get_by_role("status").get_by_role("heading").inner_text() == heading
        assert page.locator("#replaced-by").inner_text() == reg.replacement.certificate_no
        # -- a wrong code, again and again, until the limit holds
        target, answers = reg.taizhou[0], []
        for _ in range(6):
            page.get_by_label("证书编号").fill(target.certificate_no)
            page.get_by_label("验证码").fill("AAAA-BBBB-CCCC")
            with page.expect_response(lambda r: r.url.endswith("/verify")) as response:
                page.get_by_role("button", name="核验", exact=True).click()
            answers.append(response.value.status)
        assert answers == [404, 404, 404, 404, 404, 429]
        assert "尝试次数过多" in page.get_by_role("status").inner_text()
        phone.close()

        # -- staff: sign in, a scoped search, an export
        desk = b.new_context(accept_downloads=True)
        page = desk.new_page()
        page.goto(f"{base}/staff/search")
        assert page.url.endswith("/staff/login")
        page.get_by_label("用户名").fill("taizhou01")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_label("发证年度").fill("2026")
        page.get_by_role("button", name="查询").click()
        table = page.get_by_role("table", name="查询结果").inner_text()
        assert all(c.certificate_no in table for c in reg.taizhou)
        assert not any(c.certificate_no in table for c in reg.nanjing)
        with page.expect_download() as download:
            page.get_by_role("button", name="导出 Excel").click()
        import openpyxl
        ws = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
        assert {r[0] for r in ws.iter_rows(min_row=3, values_only=True)} == {c.certificate_no for c in reg.taizhou}
        page.get_by_role("link", name="查看").first.click()
        assert page.get_by_role("heading", name="审核链").is_visible()
        assert page.locator("#app-status").inner_text() == "issued"
        page.get_by_role("link", name="证书查询").click()
        page.get_by_label("办件编号").fill("no-such-submission")
        page.get_by_role("button", name="查看").click()
        assert page.get_by_role("heading", name="未找到办件").is_visible()
        desk.close()

        # -- the hall's download, signed well and badly
        hall = p.request.new_context(base_url=base)
        path = f"/hall/api/v1/certificates/{cert.certificate_no}/document"
        now = int(app.clock.now().timestamp())
        good = hall.get(path, headers=signed_headers(HALL_APP_ID, HALL_SECRET, "GET", path, b"", now))
        assert good.status == 200 and good.body() == pdf
        bad = hall.get(path, headers=signed_headers(HALL_APP_ID, "wrong-secret", "GET", path, b"", now))
        assert bad.status == 401 and bad.json()["error"] == "bad_signature"
        hall.dispose()
