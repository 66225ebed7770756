"""What every handler of the web service shares: the App, its web settings, the guess
limiters, the templates, the session signer."""
from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import URLSafeTimedSerializer
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from zhicheng.bootstrap import App
from zhicheng.config.files import WebFile
from zhicheng.domain.verification import GuessLimiter, GuessPolicy
from zhicheng.private_files import private_dir
from zhicheng.web.reads import Reader

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class WebContext:
    app: App
    settings: WebFile
    session_secret: str
    templates: Jinja2Templates
    guesses: GuessLimiter
    logins: GuessLimiter
    reader: Reader
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, app: App, *, session_secret: str | None = None) -> "WebContext":
        settings = app.config.web
        policy = GuessPolicy(**settings.guesses.given())
        import jinja2
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                 auto_reload=False)  # shipped with the code: no stat a page
        templates = Jinja2Templates(env=env)
        return cls(app=app, settings=settings, templates=templates,
                   session_secret=session_secret or _session_secret(app),
                   guesses=GuessLimiter(policy), logins=GuessLimiter(policy),
                   reader=Reader(app.engine, schema=app.settings.database_schema))

    def now_unix(self) -> float:
        return self.app.clock.now().timestamp()

    def signer(self, salt: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.session_secret, salt=salt)

    @property
    def downloads_prefix(self) -> str:
        """The path under which the hall reaches the downloads (the path it signs)."""
        return urlsplit(self.settings.downloads_url).path.rstrip("/")

    def render(self, request: Request, name: str, status_code: int = 200, **values: Any):
        response = self.templates.TemplateResponse(request, name, values, status_code=status_code)
        return response


def client_of(request: Request) -> str:
    """The client's address (behind a proxy: as uvicorn's --forwarded-allow-ips trusts)."""
    client = request.scope.get("client")  # (host, port), read once
    return client[0] if client else "?"


def _session_secret(app: App) -> str:
    """ZHICHENG_WEB_SESSION_SECRET, else a key kept in the workspace (0600), made once:
    every worker process on the machine signs and reads the same sessions."""
    given = app.settings.web_session_secret
    if given and given.get_secret_value():
        return given.get_secret_value()
    path = private_dir(app.settings.home / "keys") / "web-session.key"
    try:  # O_EXCL: of two processes starting together, one makes it and both read it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    for _ in range(100):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)  # the other process is between its open and its write
    raise RuntimeError(f"{path} is empty: remove it and start again")
