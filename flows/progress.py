"""A progress bar in the flow run's Artifacts tab for runs that take minutes."""
from __future__ import annotations

from prefect.artifacts import create_progress_artifact, update_progress_artifact


class Progress:
    """Percent of chunks done; shown only when there is more than one chunk."""

    def __init__(self, key: str, chunks: int, description: str) -> None:
        self.chunks, self.done = chunks, 0
        self.id = create_progress_artifact(0.0, key=key, description=description) if chunks > 1 else None

    def step(self) -> None:
        self.done += 1
        if self.id is not None:
            update_progress_artifact(self.id, 100.0 * self.done / self.chunks)
