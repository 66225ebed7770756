"""Certificates laid out by worker processes: the same certificates, in order, sealed
here; a worker killed mid-run costs nothing but the chunk's share of time."""
from __future__ import annotations

import os
import signal

import pymupdf as fitz
import pytest

from test_certificate_pdf import content
from zhicheng import worker_pools
from zhicheng.config import get_config
from zhicheng.issuance.keys import KeyStore, verify_signature
from zhicheng.issuance.pdf import read_seal, seal
from zhicheng.issuance.render import MIN_SHARE, RenderPool

NAMES = "欧阳晓燕 司马相如 诸葛孔明 上官婉儿 东方朔 慕容复 令狐冲 独孤求败".split()


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return KeyStore(tmp_path_factory.mktemp("keys")).signing_key("320000", auto_generate=True)


@pytest.fixture
def pool():
    settings = get_config().certificates.model_copy(update={"render_processes": 2})
    yield RenderPool(settings)
    worker_pools.drop(RenderPool(settings)._key)


def chunk(n: int):
    return [content(certificate_no=f"3200002026400{i:05d}", holder_name=NAMES[i % len(NAMES)] + "甲乙丙丁"[i % 4])
            for i in range(n)]


def sealed_facts(pool: RenderPool, contents, key) -> list[tuple[str, str]]:
    out = []
    for c, pdf in zip(contents, pool.unsealed(contents, [key.key_id] * len(contents)), strict=True):
        data = seal(pdf, key.sign)
        s = read_seal(data)
        assert verify_signature(key.private.public_key(), s.signature, s.message)
        with fitz.open(stream=data, filetype="pdf") as doc:
            text = doc[0].get_text()
        assert c.holder_name in text
        out.append((s.certificate_no, c.holder_name))
    return out


def test_a_chunk_shared_among_workers_comes_back_whole_and_in_order(pool, key):
    contents = chunk(2 * MIN_SHARE + 3)
    assert sealed_facts(pool, contents, key) == [(c.certificate_no, c.holder_name) for c in contents]
    assert worker_pools.workers(pool._key)                        # the workers did it


def test_a_killed_worker_costs_only_time(pool, key):
    contents = chunk(2 * MIN_SHARE)
    sealed_facts(pool, contents, key)
    workers = worker_pools.workers(pool._key)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert sealed_facts(pool, contents, key) == [(c.certificate_no, c.holder_name) for c in contents]
    assert sealed_facts(pool, contents, key)                      # a new pool for the next chunk
    assert set(worker_pools.workers(pool._key)).isdisjoint(workers)


def test_a_small_chunk_is_laid_out_here(pool, key):
    sealed_facts(pool, chunk(MIN_SHARE), key)
    assert not worker_pools.workers(pool._key)


def _render_in(settings, n):
    pool = RenderPool(settings)
    return len(pool.unsealed(chunk(n), ["320000-x"] * n)), worker_pools.workers(pool._key)


def test_a_daemonic_process_lays_out_itself(pool):
    """A multiprocessing pool's worker (or a Dask worker) may not start processes."""
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(1) as daemonic:
        made, workers = daemonic.apply(_render_in, (pool.settings, 2 * MIN_SHARE))
    assert made == 2 * MIN_SHARE and workers == []
