"""How far a long stage has got: a progress artifact in the flow run's Artifacts tab,
and whoever watches in this process (the command line's progress bar or log lines)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from zhicheng.runtime import in_prefect_run


@dataclass(frozen=True)
class Report:
    key: str
    description: str
    done: int
    total: int | None   # None: not known in advance (intake's pages)
    unit: str
    finished: bool


Watcher = Callable[[Report], None]
_watchers: list[Watcher] = []


def watch(watcher: Watcher) -> Callable[[], None]:
    """Tell `watcher` of every step of every stage in this process; returns the undo."""
    _watchers.append(watcher)
    return lambda: _watchers.remove(watcher)


class Progress:
    """Steps of a stage (chunks, batches, pages, suites). The artifact is made in a
    Prefect run when there is more than one step to show."""

    def __init__(self, key: str, total: int | None, description: str, unit: str = "批") -> None:
        self.key, self.total, self.description, self.unit, self.done = key, total, description, unit, 0
        self.id: UUID | None = None
        if in_prefect_run() and (total is None or total > 1):
            from prefect.artifacts import create_progress_artifact
            # @sync_compatible: called from sync code it returns the UUID, not a coroutine
            self.id = create_progress_artifact(0.0, key=key, description=description)  # type: ignore[assignment]
        self._tell(finished=False)

    def step(self, n: int = 1, *, description: str | None = None) -> None:
        self.done += n
        if description is not None:
            self.description = description
        self._update(finished=False)

    def finish(self, description: str | None = None) -> None:
        """The stage is over (a paused or interrupted one too): the bar is full."""
        if description is not None:
            self.description = description
        self._update(finished=True)

    def _update(self, *, finished: bool) -> None:
        if self.id is not None:
            from prefect.artifacts import update_progress_artifact
            update_progress_artifact(self.id, 100.0 if finished else self._percent(), description=self.description)
        self._tell(finished=finished)

    def _percent(self) -> float:
        return 100.0 * min(self.done, self.total) / self.total if self.total else 0.0

    def _tell(self, *, finished: bool) -> None:
        if self.total == 0:
            return  # nothing to do: nothing to show
        report = Report(self.key, self.description, self.done, self.total, self.unit, finished)
        for watcher in list(_watchers):
            watcher(report)
