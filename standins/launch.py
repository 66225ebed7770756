"""Start the three stand-ins together: for `zhicheng stand-ins`, the demo and tests.

    with start_standins(year_dir=..., state_dir=...) as s:
        os.environ.update(s.env())          # ZHICHENG_HALL_URL, ..._APP_ID, ..._APP_SECRET
        s.hall.faults.set("submissions", error_rate=0.2)
        ...
"""
from __future__ import annotations

import secrets as _secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from zhicheng.standins.chsi import Chsi
from zhicheng.standins.hall import Hall
from zhicheng.standins.province import Province
from zhicheng.standins.server import StandIn

DEFAULT_APP_ID = "zhicheng-dev"


@dataclass
class StandIns:
    hall: Hall
    chsi: Chsi
    province: Province
    app_id: str
    app_secret: str
    state_dir: Path

    def env(self) -> dict[str, str]:
        """The ZHICHENG_* settings that point the back office at these stand-ins."""
        out = {}
        for name, server in (("HALL", self.hall), ("CHSI", self.chsi), ("PROVINCE", self.province)):
            out.update({f"ZHICHENG_{name}_URL": server.url, f"ZHICHENG_{name}_APP_ID": self.app_id,
                        f"ZHICHENG_{name}_APP_SECRET": self.app_secret})
        return out

    def stop(self) -> None:
        for server in (self.hall, self.chsi, self.province):
            server.stop()

    def __enter__(self) -> StandIns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Common(TypedDict):
    """What the three servers are made with alike."""
    secrets: dict[str, str]
    seed: int
    clock: Callable[[], float]


def start_standins(*, year_dir: str | Path | None = None, state_dir: str | Path | None = None,
                   port_base: int = 0, app_id: str = DEFAULT_APP_ID, app_secret: str | None = None,
                   seed: int = 0, chsi_rate_limit: float | None = None,
                   clock: Callable[[], float] = time.time) -> StandIns:
    """Hall on port_base, 学信 on port_base+1, province on port_base+2 (0: free ports).

    State files are hall.sqlite, chsi.sqlite and province.sqlite in state_dir (a fresh
    temporary folder when None); a restart on the same state_dir keeps what was there.
    """
    state = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="zhicheng-standins-"))
    state.mkdir(parents=True, exist_ok=True)
    secret = app_secret or _secrets.token_hex(16)
    common = _Common(secrets={app_id: secret}, seed=seed, clock=clock)

    def port(i: int) -> int:
        return port_base + i if port_base else 0

    started: list[StandIn] = []
    try:
        hall = Hall(state_path=state / "hall.sqlite", year_dir=year_dir, port=port(0), **common).start()
        started.append(hall)
        chsi = Chsi(state_path=state / "chsi.sqlite", year_dir=year_dir, rate_limit=chsi_rate_limit,
                    port=port(1), **common).start()
        started.append(chsi)
        province = Province(state_path=state / "province.sqlite", year_dir=year_dir, port=port(2),
                            **common).start()
    except BaseException:
        for server in started:
            server.stop()
        raise
    return StandIns(hall, chsi, province, app_id, secret, state)
