"""Progress of a job that runs several steps: each step reports into its slice of the bar."""
from __future__ import annotations

from ..tasks import TaskState


class SubTask(TaskState):
    """Reports fraction f of a step as lo + (hi - lo) f of the parent; cancelled with the parent."""

    def __init__(self, parent: TaskState, lo: float, hi: float, prefix: str = ""):
        self._parent = parent

        def forward(f, text):
            parent.progress(lo + (hi - lo) * f, f"{prefix}: {text}" if prefix and text else (text or prefix))

        super().__init__(forward)

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled or super().cancelled

    def check(self) -> None:
        self._parent.check()
        super().check()
