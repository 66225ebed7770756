"""Thin Prefect tasks of intake: one task a page of the hall's submissions, one for
the applicants' cancellations; and the lock one intake holds."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from prefect.cache_policies import NONE as NO_CACHE

from zhicheng.connectors.errors import Unavailable
from zhicheng.connectors.hall import HallClient
from zhicheng.intake import service as intake
from zhicheng.intake.downloads import Downloader
from zhicheng.locks import exclusive
from zhicheng.runtime import task
from zhicheng.bootstrap import app_at


def page_size(as_of: str | None) -> int:
    """Submissions a page asks the hall for (config/policy.yaml chunks.intake_page)."""
    return app_at(as_of).config.policy.chunks.intake_page


@contextmanager
def one_run(as_of: str | None) -> Iterator[None]:
    """One intake at a time: a second one raises zhicheng.locks.AlreadyRunning at once."""
    app = app_at(as_of)
    with exclusive(app.engine, "intake", now=app.clock.now()):
        yield


@task(name="intake-page", cache_policy=NO_CACHE)
def pull_page(as_of: str | None, limit: int) -> dict[str, Any]:
    """One page; {"paused": reason} when the hall is unavailable (nothing stored, cursor kept)."""
    app = app_at(as_of)
    try:
        with HallClient.from_settings(app.settings, app.config) as hall:
            fetch = Downloader.from_config(hall, app.settings.home, app.config).fetch
            got = intake.pull_page(sessions=app.sessions, hall=hall, config=app.config, fetch=fetch,
                                   files_root=app.settings.home, now=app.clock.now(), limit=limit)
    except Unavailable as exc:
        return {"paused": str(exc)}
    return asdict(got)


@task(name="intake-remove-partial-files", cache_policy=NO_CACHE)
def remove_partial_files(as_of: str | None) -> int:
    """Temporary files a killed run left (call under the intake lock)."""
    return intake.remove_partial_files(app_at(as_of).settings.home)


@task(name="intake-cancellations", cache_policy=NO_CACHE)
def pull_cancellations(as_of: str | None) -> dict[str, Any]:
    """Applicants' cancellations (取消申请); {"paused": reason} when the hall is unavailable."""
    from zhicheng.intake import cancellation
    app = app_at(as_of)
    try:
        with HallClient.from_settings(app.settings, app.config) as hall:
            return cancellation.pull(app.sessions, hall=hall, config=app.config, now=app.clock.now())
    except Unavailable as exc:
        return {"paused": str(exc), "supported": True, "accepted": 0, "refused": 0}
