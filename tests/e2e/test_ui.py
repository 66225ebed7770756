"""`make ui` / `zhicheng ui`: a Prefect server on the demo's PREFECT_HOME, with the
deployments registered, its address printed, and nothing left running when stopped."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import free_port, wait_until

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_ui_serves_this_prefect_home_and_stops_with_it(tmp_path):
    port, out = free_port(), tmp_path / "ui.out"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "ZHICHENG_HOME": str(tmp_path / "home")}
    env.pop("PREFECT_API_URL", None)
    with out.open("w") as sink:
        proc = subprocess.Popen([str(BIN / "zhicheng"), "ui", "--port", str(port)], env=env, stdout=sink,
                                stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "Ctrl-C" in out.read_text() or proc.poll() is not None, timeout=240,
                   what="zhicheng ui printing its address")
        assert f"http://127.0.0.1:{port}/runs" in out.read_text(), out.read_text()
        api = f"http://127.0.0.1:{port}/api"
        assert requests.post(f"{api}/deployments/count", json={}, timeout=10).json() == 11
        assert (tmp_path / "prefect" / "prefect.db").exists()   # the demo's database, not ~/.prefect
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

    def gone() -> bool:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return False
        except requests.RequestException:
            return True
    wait_until(gone, timeout=30, what="the Prefect server stopping with zhicheng ui")
