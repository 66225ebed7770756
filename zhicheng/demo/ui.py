"""`zhicheng ui` (`make ui`): the Prefect UI over the demo's runs, artifacts and deployments.

The demo's flows report to a temporary Prefect server whose database lives in
PREFECT_HOME (the Makefile gives the demo `.zhicheng/prefect`). This starts a Prefect
server on that same database, registers the deployments and automations there (as
`zhicheng serve` does, so the Deployments page is not empty), prints the URL and keeps
the server until Ctrl-C.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests


def start_server(port: int, *, host: str = "127.0.0.1", timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """`prefect server start` on this PREFECT_HOME; (process, UI URL) once it answers."""
    url = f"http://{host}:{port}"
    env = {**os.environ, "PREFECT_UI_API_URL": f"{url}/api", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).parent / "prefect"
    proc = subprocess.Popen([str(prefect), "server", "start", "--host", host, "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server start exited ({proc.returncode}): "
                               f"{proc.stderr.read().decode(errors='replace')[-1500:] if proc.stderr else ''}")
        try:
            if requests.get(f"{url}/api/health", timeout=2).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise TimeoutError(f"the Prefect server on port {port} did not answer within {timeout:.0f} s")


def register_here(api: str, register: Callable[[], object]) -> None:
    """Run `register` (deployments, automations) against the API at `api`."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    with temporary_settings({PREFECT_API_URL: api}):
        register()
