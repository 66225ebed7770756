"""The three stand-ins in a process of their own (`zhicheng stand-ins --json`), driven
through their admin endpoints.

The demo and the cycle bench use it: in-process stand-ins answer from threads of the
back office's own interpreter and compete with it for one GIL, as the real hall, 学信
and province never would; measured on a year of 500 applications, that made intake
take twice as long.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from zhicheng.standins.launch import DEFAULT_APP_ID

START_TIMEOUT_SECONDS = 300   # loading a large year's files into the hall's state takes a while


@dataclass
class RemoteServer:
    url: str

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = requests.request(method, f"{self.url}/_admin/{path}", json=body, timeout=60)
        if r.status_code >= 300:
            raise RuntimeError(f"stand-in {self.url}/_admin/{path}: {r.status_code} {r.text[:300]}")
        return r.json()

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        return self.admin("GET", "stats")


class RemoteHall(RemoteServer):
    def add_submission(self, submission: dict, materials: dict[str, tuple[bytes, str]] | None = None) -> None:
        self.admin("POST", "submissions", {"submission": submission, "materials": [
            {"material_id": mid, "content_type": ctype, "content_base64": base64.b64encode(data).decode()}
            for mid, (data, ctype) in (materials or {}).items()]})

    @property
    def sms_sent(self) -> int:
        return self.admin("GET", "sms/count")["sent"]


@dataclass
class RemoteStandIns:
    hall: RemoteHall
    chsi: RemoteServer
    province: RemoteServer
    process: subprocess.Popen
    settings: dict[str, str]

    def env(self) -> dict[str, str]:
        return dict(self.settings)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()     # the CLI stops its servers on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_remote_standins(*, year_dir: Path | None, state_dir: Path, seed: int = 0) -> RemoteStandIns:
    """The three stand-ins in a child process, with `year_dir` loaded (None: empty)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ZHICHENG_STANDINS_APP_SECRET": secrets.token_hex(16)}
    log = (state_dir / "stand-ins.log").open("ab")
    year = ["--year", str(year_dir)] if year_dir is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "zhicheng.cli.main", "stand-ins", *year, "--state",
         str(state_dir), "--port-base", "0", "--app-id", DEFAULT_APP_ID, "--seed", str(seed), "--json"],
        stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    log.close()
    try:
        doc = _first_document(proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return RemoteStandIns(RemoteHall(doc["hall"]), RemoteServer(doc["chsi"]), RemoteServer(doc["province"]),
                          proc, doc["env"])


def _first_document(proc: subprocess.Popen) -> dict[str, Any]:
    """The JSON the CLI prints once its servers listen (it then waits for SIGTERM).
    A child that neither prints nor exits in time is killed, which ends the reading."""
    watchdog = threading.Timer(START_TIMEOUT_SECONDS, proc.kill)
    watchdog.start()
    text = ""
    assert proc.stdout is not None, "start the child with stdout=PIPE"
    try:
        for line in proc.stdout:
            text += line
            try:
                return json.loads(text)
            except ValueError:
                continue
    finally:
        watchdog.cancel()
    raise RuntimeError(f"the stand-ins did not start (exit {proc.poll()}); see stand-ins.log in their state folder")
