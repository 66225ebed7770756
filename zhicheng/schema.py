"""Every table of zhicheng: importing this module registers the kernel's models and each
feature's on `Base.metadata`, and attaches the audit trail's rules to it.

Alembic's env (zhicheng/db/migrations/env.py) and create_all (tests, benchmarks) start
from here; a feature's code imports only the models it uses (`zhicheng.votes.models`).
"""
from zhicheng.db import audit
from zhicheng.db import models as kernel
from zhicheng.db.base import Base
from zhicheng.education import models as education
from zhicheng.issuance import models as issuance
from zhicheng.publicity import models as publicity
from zhicheng.review import models as review
from zhicheng.votes import models as votes
from zhicheng.year_end import models as year_end

MODULES = (kernel, education, issuance, publicity, review, votes, year_end)
metadata = Base.metadata

__all__ = ["Base", "MODULES", "metadata"]

audit.install(metadata)  # the append-only rules, with every create_all
