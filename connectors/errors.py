"""What a connector raises: which system, which call, what happened, what to do.

The caller's duty per answer is external-systems.md "Common: errors and back-pressure":
`Rejected` is definite (record it against the item, do not retry), `Misconfigured`
means fix the settings, `Unavailable` means the item stays queued for a later run.
"""
from __future__ import annotations

SYSTEM_NAMES = {"hall": "网上办事服务大厅 (hall)", "chsi": "学信 (CHSI)", "province": "省一体化平台 (province)"}


class ExternalError(Exception):
    """Base: `system`, `call` ("POST /api/v1/..."), `status` (None without an answer), `code`."""

    hint = ""

    def __init__(self, system: str, call: str, detail: str, *, status: int | None = None,
                 code: str | None = None) -> None:
        self.system, self.call, self.status, self.code, self.detail = system, call, status, code, detail
        name = SYSTEM_NAMES.get(system, system)
        super().__init__(f"{name} {call}: {detail}" + (f"; {self.hint}" if self.hint else ""))

    def __reduce__(self):
        # pickled whole (a worker process's error reaches its caller as itself)
        return _rebuild, (type(self), self.system, self.call, self.detail, self.status, self.code)


def _rebuild(cls: type, system: str, call: str, detail: str, status: int | None, code: str | None):
    return cls(system, call, detail, status=status, code=code)


class Rejected(ExternalError):
    """400/422 (or a 409 that a fresh nonce did not cure): the request itself is wrong."""

    hint = "not retried; recorded against the item"


class Misconfigured(ExternalError):
    """401/403 or missing settings: nothing will work until the configuration is fixed."""

    hint = "check ZHICHENG_<SYSTEM>_URL, _APP_ID and _APP_SECRET and the clock of this machine"


class Unavailable(ExternalError):
    """Transient failures outlasted the retries: the work stays queued for the next run."""

    hint = "nothing was lost; the next run retries"
