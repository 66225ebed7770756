"""What every model of config/ is: strict (an unknown key is a typo, refused) and frozen
(config is read once at start-up and never changed by a run)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
