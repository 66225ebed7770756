"""Push throughput against the loopback province stand-in, and the ratio to sending one
record per request, measured in the same run on the same machine.

Both sides run the whole push (plan, batch keys committed, signed POST, answers stored)
on SQLite, each against a fresh stand-in: batches of `chunks.push_batch` (500) for
BENCH_DELIVERY_COUNT records (default 10000), and batches of one for
BENCH_DELIVERY_BASELINE records (default 500). Targets: >= 2,000 records/s, >= 20x.

The hall's notifications (no batch form in its contract): BENCH_DELIVERY_HALL
notifications (default 3000) pushed `outbox.hall_requests_in_flight` at a time, against
one at a time as the baseline, each run on a fresh stand-in hall in its own process (as
in the demo: a stand-in in this process would share its interpreter with the client);
then a tenth as many to a hall that answers BENCH_DELIVERY_HALL_LATENCY seconds late
(default 0.02, a hall across a network), the same two ways.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

COUNT = int(os.environ.get("BENCH_DELIVERY_COUNT", "10000"))
BASELINE_N = int(os.environ.get("BENCH_DELIVERY_BASELINE", "500"))
HALL_N = int(os.environ.get("BENCH_DELIVERY_HALL", "3000"))
# A hall this far away (seconds the stand-in waits before answering), for a second pair.
HALL_LATENCY = float(os.environ.get("BENCH_DELIVERY_HALL_LATENCY", "0.02"))
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


def hall(n: int, in_flight: int, latency: float = 0.0) -> dict:
    """Push n queued notifications to a fresh stand-in hall, `in_flight` at a time, the
    hall answering each `latency` seconds late (its fault `delay`)."""
    from zhicheng.config import get_config
    from zhicheng.connectors.hall import HallClient
    from zhicheng.delivery.hall import push_hall
    from zhicheng.outbox import enqueue
    from zhicheng.db.engine import unit_of_work
    from zhicheng.settings import Settings
    from zhicheng.standins.remote import start_remote_standins
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        app = _app(home)
        with unit_of_work(app.sessions) as s:
            for i in range(n):
                key = f"issued:B{i}:v1"
                enqueue(session=s, target="hall_notification", kind="certificate_issued", dedupe_key=key, now=AS_OF,
                        payload={"id_number": f"32010219800101{i:04d}", "template": "issued",
                                 "params": {"name": "张三", "certificate_no": f"B{i}"}, "idempotency_key": key})
        standins = start_remote_standins(year_dir=None, state_dir=home / "standins")
        try:
            if latency:
                standins.hall.admin("POST", "faults", {"endpoint": "notifications", "faults": {"delay": latency}})
            env = standins.env()
            settings = Settings(hall_url=env["ZHICHENG_HALL_URL"], hall_app_id=env["ZHICHENG_HALL_APP_ID"],
                                hall_app_secret=env["ZHICHENG_HALL_APP_SECRET"])
            with HallClient.from_settings(settings, get_config()) as client:
                started, cpu = time.perf_counter(), time.process_time()
                out = push_hall(sessions=app.sessions, client=client, now=AS_OF, max_attempts=8,
                                chunk_size=get_config().policy.chunks.push_hall, in_flight=in_flight)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            received = standins.hall.stats.get("notifications", {}).get("202", 0)   # each applied once
        finally:
            standins.stop()
            app.engine.dispose()
    assert out["sent"] == n and received == n, (out, received)
    return {"notifications": n, "in_flight": in_flight, "latency": latency, "seconds": round(seconds, 3),
            "per_second": round(n / seconds, 1), "cpu_ms_each": round(cpu * 1000 / n, 3)}


def main() -> dict:
    from zhicheng.config import get_config
    from zhicheng.delivery.service import policy
    size, _ = policy(get_config())
    batched = run(COUNT, size)
    single = run(BASELINE_N, 1)
    ratio = batched["records_per_second"] / single["records_per_second"]
    in_flight = get_config().policy.outbox.hall_requests_in_flight
    one_by_one, several = hall(HALL_N, 1), hall(HALL_N, in_flight)
    far = HALL_N // 10   # at 20 ms a notification, a tenth of them is enough
    far_one, far_several = hall(far, 1, HALL_LATENCY), hall(far, in_flight, HALL_LATENCY)
    return {"batched": batched, "one_per_request": single, "ratio": round(ratio, 1),
            "targets": {"records_per_second": 2000, "ratio": 20},
            "met": batched["records_per_second"] >= 2000 and ratio >= 20,
            "hall": {"one_at_a_time": one_by_one, "in_flight": several,
                     "ratio": round(several["per_second"] / one_by_one["per_second"], 2),
                     "far": {"one_at_a_time": far_one, "in_flight": far_several,
                             "ratio": round(far_several["per_second"] / far_one["per_second"], 2)}}}


if __name__ == "__main__":
    import json
    print(json.dumps(main(), indent=2))
