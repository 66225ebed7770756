"""A page's files fetched by worker processes: the same files the flow's process would
fetch, under the hall's faults; an outage reaches the caller as the hall's own error;
a killed worker costs only time."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal

import pytest

from zhicheng import worker_pools
from zhicheng.config import get_config
from zhicheng.connectors.errors import Unavailable
from zhicheng.connectors.hall import HallClient
from zhicheng.connectors.http import SignedClient
from zhicheng.connectors.setup import policy_for
from zhicheng.domain.material_checks import Limits
from zhicheng.intake.downloads import MIN_SHARE, Downloader
from zhicheng.intake.service import download_caps, fetch_here
from zhicheng.standins.generator import generate

pytestmark = pytest.mark.usefixtures("year_dir")  # the hall fixture then serves the generated year


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("downloads") / "year"
    generate(root, applications=8, seed=11)
    return root


@pytest.fixture
def year_dir(generated):
    return generated


@pytest.fixture
def keys(generated):
    """{(submission_id, material_id): the bytes worth reading of it}, as intake asks."""
    subs = [json.loads(x) for x in (generated / "submissions.jsonl").read_text(encoding="utf-8").splitlines()]
    return download_caps(subs, Limits.from_policy(get_config().policy.materials))


@pytest.fixture
def client(hall, standin_credentials):
    # the workers' clients back off as this one does: briefly, so faults cost no time here
    policy = dataclasses.replace(policy_for("hall", get_config()), backoff_base_seconds=0.001,
                                 backoff_cap_seconds=0.005)
    with HallClient(SignedClient("hall", url=hall.url, app_id=standin_credentials[0],
                                 secret=standin_credentials[1], policy=policy)) as c:
        yield c


@pytest.fixture
def downloader(client, tmp_path):
    d = Downloader(client, tmp_path / "workers", processes=2, in_flight=3)
    yield d
    worker_pools.drop(d._key)


def on_disk(root, stored):
    return {k: hashlib.sha256((root / f.storage_path).read_bytes()).hexdigest() == f.sha256
            for k, f in stored.items() if f}


def test_workers_fetch_what_this_process_would_under_faults(hall, client, downloader, keys, tmp_path):
    assert len(keys) >= 2 * MIN_SHARE
    hall.faults.set("material", error_rate=0.2, truncate_rate=0.05, drop_before_rate=0.05)
    got = downloader.fetch(keys)
    here = fetch_here(client, keys, tmp_path / "here")
    assert got == here and set(got) == set(keys) and any(got.values())
    assert all(on_disk(tmp_path / "workers", got).values())
    assert worker_pools.workers(downloader._key)                   # the workers did it


def test_an_outage_in_a_worker_reaches_the_caller_as_the_halls_error(hall, downloader, keys):
    hall.faults.set("material", error_rate=1.0)
    with pytest.raises(Unavailable) as raised:
        downloader.fetch(keys)
    assert raised.value.system == "hall" and "/materials/" in raised.value.call


def test_a_killed_worker_costs_only_time(client, downloader, keys, tmp_path):
    downloader.fetch(dict(list(keys.items())[:2 * MIN_SHARE]))
    workers = worker_pools.workers(downloader._key)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    got = downloader.fetch(keys)
    assert got == fetch_here(client, keys, tmp_path / "here")
    downloader.fetch(keys)                                         # a new pool for the next page
    assert set(worker_pools.workers(downloader._key)).isdisjoint(workers)
