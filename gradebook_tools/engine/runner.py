"""What the coordinator asks of a place where tasks run: this machine's cores or a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gradebook_tools.engine.bundle import CourseBundle
    from gradebook_tools.engine.task import GradingTask, TaskResult


class Runner(Protocol):
    """Runs grading tasks and yields their results as they complete.

    Implemented by :class:`gradebook_tools.engine.local.LocalRunner` and
    :class:`gradebook_tools.engine.dask.DaskRunner`. ``tasks`` is consumed as the run
    goes (grading starts while the rest is planned); a task whose worker died is
    retried, then returned failed with the reason; a failure of the machine or the
    course's set-up comes back as a result with ``course_problem`` set, never as a
    student's failure.
    """

    def run(
        self, tasks: Iterable[GradingTask], bundle: CourseBundle, started: Callable[[GradingTask], None] | None = None
    ) -> Iterator[TaskResult]: ...
