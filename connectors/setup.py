"""Build a system's SignedClient from the settings (URL, credentials) and config/connectors.yaml."""
from __future__ import annotations

import os
from typing import Any

from zhicheng.connectors.errors import Misconfigured
from zhicheng.connectors.http import Policy, SignedClient

SYSTEMS = ("hall", "chsi", "province")


def policy_for(system: str, config: Any) -> Policy:
    """The connector policy of one system: defaults, the system's own keys, then the
    deployment's ZHICHENG_<SYSTEM>_RATE_PER_SECOND."""
    merged = config.connectors.policy_of(system)   # its keys: checked by the model at start-up
    rate = os.environ.get(f"ZHICHENG_{system.upper()}_RATE_PER_SECOND")
    if rate:
        merged["rate_per_second"] = float(rate) if float(rate) > 0 else None
    return Policy(**merged)


def client_for(system: str, settings: Any, config: Any, **kw: Any) -> SignedClient:
    s = settings.system(system)
    missing = [f"ZHICHENG_{system.upper()}_{k}" for k, v in
               (("URL", s.url), ("APP_ID", s.app_id), ("APP_SECRET", s.app_secret)) if not v]
    if missing:
        raise Misconfigured(system, "settings", f"not configured: set {', '.join(missing)} "
                            "(`zhicheng stand-ins` prints them for the stand-ins)")
    return SignedClient(system, url=s.url, app_id=s.app_id, secret=s.app_secret,
                        policy=policy_for(system, config), **kw)
