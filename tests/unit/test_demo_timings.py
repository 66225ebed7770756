"""The demo's per-stage account (bench/cycle reads it): CPU and the meters' change."""
import json
import subprocess
import sys

import pytest

from zhicheng.demo import peak_memory
from zhicheng.demo.driver import Timings


def test_a_stage_records_its_cpu_and_the_change_of_every_meter():
    counters = {"db_seconds": 2.0}
    timings = Timings(lambda: dict(counters))
    with timings("busy"):
        sum(i * i for i in range(2_000_000))   # CPU of this process
        counters["db_seconds"] += 1.5
        counters["prefect_api_seconds"] = 0.25  # a meter that appears during the stage
    row = timings.rows[0]
    assert row["stage"] == "busy"
    assert 0 < row["cpu_seconds"] <= row["seconds"] + 0.05
    assert row["db_seconds"] == 1.5 and row["prefect_api_seconds"] == 0.25
    assert row["exited_children_cpu_seconds"] >= 0 and row["peak_rss_mb"] > 0


@pytest.mark.skipif(not peak_memory.reset(), reason="this kernel's peak RSS cannot be reset (Linux /proc only)")
def test_each_stage_has_its_own_peak_and_the_process_keeps_the_largest():
    timings = Timings()
    with timings("large"):
        block = bytearray(300 * 2**20)
        block[::4096] = b"x" * len(block[::4096])   # touch every page: resident, not only reserved
        del block
    with timings("small"):
        sum(range(1000))
    large, small = timings.rows
    assert large["stage_peak_rss_mb"] >= small["stage_peak_rss_mb"] + 250
    assert small["peak_rss_mb"] == large["peak_rss_mb"] >= large["stage_peak_rss_mb"]


@pytest.mark.skipif(peak_memory.current_mb() is None, reason="this OS has no /proc/self/status to read RSS from")
def test_what_a_stage_keeps_shows_after_it_and_python_objects_show_as_blocks():
    timings, kept = Timings(), []
    with timings("keeps native"):
        block = bytearray(200 * 2**20)
        block[::4096] = b"x" * len(block[::4096])
        kept.append(block)   # one allocator block however large: native-sized, not many objects
    with timings("keeps objects"):
        kept.append([object() for _ in range(200_000)])
    native, objects = timings.rows
    assert native["rss_after_mb"] >= native["stage_peak_rss_mb"] - 5 >= 150
    assert objects["python_blocks"] - native["python_blocks"] >= 200_000


# In a process of its own: a heap shared with earlier tests and other threads fills the
# holes, or trims them, between the readings.
_HOLES = """
import json
from zhicheng.demo import peak_memory
before = peak_memory.malloc_mb()
buffers = [bytearray(100_000) for _ in range(1_000)]   # under glibc's mmap threshold: the heap
filled = peak_memory.malloc_mb()
del buffers[::2]   # every other one freed: holes the heap keeps, as a long run's churn leaves
print(json.dumps([before, filled, peak_memory.malloc_mb()]))
"""


@pytest.mark.skipif(peak_memory.malloc_mb() is None, reason="not glibc: no mallinfo2 to read")
def test_memory_freed_inside_the_heap_shows_as_held_not_in_use():
    out = subprocess.run([sys.executable, "-c", _HOLES], capture_output=True, text=True, check=True).stdout
    before, filled, holed = json.loads(out)
    assert filled["in_use"] - before["in_use"] >= 90
    assert holed["in_use"] <= filled["in_use"] - 45 and holed["free_held"] >= before["free_held"] + 45
