"""Push throughput against the loopback province stand-in, and the ratio to sending one
record per request, measured in the same run on the same machine.

Both sides run the whole push (plan, batch keys committed, signed POST, answers stored)
on SQLite, each against a fresh stand-in: batches of `chunks.push_batch` (500) for
BENCH_DELIVERY_COUNT records (default 10000), and batches of one for
BENCH_DELIVERY_BASELINE records (default 500). Targets: >= 2,000 records/s, >= 20x.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

COUNT = int(os.environ.get("BENCH_DELIVERY_COUNT", "10000"))
BASELINE_N = int(os.environ.get("BENCH_DELIVERY_BASELINE", "500"))
AS_OF = dt.datetime(2026, 12, 28, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
APP_ID, SECRET = "bench-app", "bench-secret-0123456789"


def _app(home: Path):
    from zhicheng.bootstrap import build_app
    from zhicheng.clock import FixedClock
    from zhicheng.db.engine import make_engine
    from zhicheng.schema import Base
    from zhicheng.settings import Settings
    url = f"sqlite:///{home / 'bench.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    return build_app(settings=Settings(home=home, database_url=url), clock=FixedClock(AS_OF), engine=engine)


def run(n: int, batch_size: int) -> dict:
    """Push n queued records in batches of batch_size; seconds and records per second."""
    from zhicheng.connectors.province import ProvinceClient
    from zhicheng.delivery.service import push_province
    from zhicheng.demo.delivery_samples import add_certificates
    from zhicheng.settings import Settings
    from zhicheng.standins.province import Province
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        app = _app(home)
        add_certificates(app, n)
        server = Province(state_path=home / "province.sqlite", secrets={APP_ID: SECRET}).start()
        try:
            settings = Settings(province_url=server.url, province_app_id=APP_ID, province_app_secret=SECRET)
            with ProvinceClient.from_settings(settings, app.config) as client:
                started = time.perf_counter()
                out = push_province(sessions=app.sessions, client=client, now=AS_OF,
                                    batch_size=batch_size, max_attempts=8)
                seconds = time.perf_counter() - started
            applied = server.applied_counts()
        finally:
            server.stop()
            app.engine.dispose()
    assert out["sent"] == n and len(applied) == n and set(applied.values()) == {1}, out["counts"]
    return {"records": n, "batch_size": batch_size, "seconds": round(seconds, 3),
            "records_per_second": round(n / seconds, 1)}


def main() -> dict:
    from zhicheng.config import get_config
    from zhicheng.delivery.service import policy
    size, _ = policy(get_config())
    batched = run(COUNT, size)
    single = run(BASELINE_N, 1)
    ratio = batched["records_per_second"] / single["records_per_second"]
    return {"batched": batched, "one_per_request": single, "ratio": round(ratio, 1),
            "targets": {"records_per_second": 2000, "ratio": 20},
            "met": batched["records_per_second"] >= 2000 and ratio >= 20}


if __name__ == "__main__":
    import json
    print(json.dumps(main(), indent=2))
