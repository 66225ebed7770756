"""The web service on a real HTTP server on 127.0.0.1 (uvicorn in a thread), and a
registry to serve: certificates of Nanjing and Taizhou, one revoked, one replaced,
and staff accounts of both cities."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from zhicheng.db.engine import unit_of_work
from zhicheng.db.models import Application
from zhicheng.demo.issuance_samples import add_approved
from zhicheng.issuance import service as issuance
from zhicheng.issuance.models import Certificate
from zhicheng.staff_accounts import add_account

PASSWORD = "correct horse battery"
HALL_APP_ID, HALL_SECRET = "hall-test", "hall-test-secret-0123456789"


@contextmanager
def serving(asgi_app):
    """(base URL) of `asgi_app` served by uvicorn on a free loopback port."""
    import uvicorn
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(asgi_app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # the server's own flag, not a guess at how long it takes
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web service did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Registry:
    nanjing: list[Certificate] = field(default_factory=list)
    taizhou: list[Certificate] = field(default_factory=list)
    revoked: Certificate | None = None
    replaced: Certificate | None = None
    replacement: Certificate | None = None

    def code(self, cert: Certificate) -> str:
        return cert.verification_code


def make_registry(app) -> Registry:
    """Three Nanjing certificates (the first revoked, the second replaced by a 换发) and
    two of Taizhou; staff accounts nanjing01 (320100) and taizhou01 (321200)."""
    ctx = issuance.IssueContext.for_app(app)
    with unit_of_work(app.sessions) as s:
        nj = add_approved(session=s, config=app.config, count=3, committee_id="NJ-GC-ZJ", region_code="320102")
        tz = add_approved(session=s, config=app.config, count=2, start=50, committee_id="TZ-GC-ZJ",
                          region_code="321202")
    with unit_of_work(app.sessions) as s:
        issuance.issue_chunk(session=s, ctx=ctx, application_ids=nj + tz, now=app.clock.now())
    with unit_of_work(app.sessions) as s:
        certs = {c.application_id: c for c in s.scalars(select(Certificate))}
        issuance.revoke(session=s, certificate=certs[nj[0]], reason="弄虚作假，撤销资格", now=app.clock.now())
        again = add_approved(session=s, config=app.config, count=1, start=90, committee_id="NJ-GC-ZJ",
                             region_code="320102", track="换发",
                             prior_certificate_no=certs[nj[1]].certificate_no)
    with unit_of_work(app.sessions) as s:
        issuance.issue_chunk(session=s, ctx=ctx, application_ids=again, now=app.clock.now())
    with unit_of_work(app.sessions) as s:
        for user, office, region in (("nanjing01", "南京市职称办", "320100"),
                                     ("taizhou01", "泰州市职称办", "321200")):
            add_account(session=s, username=user, password=PASSWORD, office=office, region_code=region,
                        regions=app.config.regions, now=app.clock.now())
    with app.sessions() as s:
        by_app = {c.application_id: c for c in s.scalars(select(Certificate))}
        s.expunge_all()
    return Registry(nanjing=[by_app[i] for i in nj], taizhou=[by_app[i] for i in tz],
                    revoked=by_app[nj[0]], replaced=by_app[nj[1]], replacement=by_app[again[0]])


def submission_of(app, cert: Certificate) -> str:
    with app.sessions() as s:
        return s.scalar(select(Application.submission_id).where(Application.id == cert.application_id))


def hall_get(base: str, path: str, *, secret: str = HALL_SECRET, nonce: str | None = None,
             now: float | None = None, **kw: Any):
    import requests

    from zhicheng.domain.signing import signed_headers
    headers = signed_headers(HALL_APP_ID, secret, "GET", path, b"",
                             int(now if now is not None else time.time()), nonce=nonce)
    return requests.get(base + path, headers=headers, timeout=30, **kw)
