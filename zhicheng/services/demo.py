"""The demo's script: what a newcomer sees the back office do."""
from __future__ import annotations

from pathlib import Path

from zhicheng.bootstrap import build_app
from zhicheng.services.setup import upgrade_database


def run_demo(*, applications: int, seed: int, workspace: Path) -> dict:
    app = build_app()
    steps: list[tuple[str, str]] = []
    db = upgrade_database(app)
    steps.append(("database", f"{db['database']} at revision {db['revision']}"))
    steps.append(("reference data", f"{db['committees']} committees, {db['batches']} batches"))
    committee = app.config.committees["TZ-GC-ZJ"]
    stages = app.config.chains.route(committee.tier, "县区级", committee.delegated)
    steps.append((f"route of a 评审 application to {committee.name} reported from 县区级",
                  " ---> ".join(stages)))
    return {"workspace": str(workspace), "applications": applications, "seed": seed,
            "steps": [list(s) for s in steps]}
