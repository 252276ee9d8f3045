"""Running grading tasks on a Dask cluster (``gradebook-tools grade --scheduler tcp://HOST:8786``).

Workers are stateless: each task carries the submission's bytes and the course
bundle (one Dask task per run holding its bytes, fetched once by each worker and
made again if every copy died, unpacked once per digest); on the worker it
runs exactly as on this machine, in a grading process with the sandboxed
kernel, kept warm from one task to the next
(:class:`~gradebook_tools.engine.local.WarmWorkers`). The coordinator stays the
only writer of the gradebook. Dask re-runs the task of a
worker that died elsewhere; a submission that keeps killing workers comes back
as ``KilledWorker``, is graded once more alone on the cluster (Dask also blames
the tasks queued beside it) and, killing its worker again, is recorded as failed
with that reason.

The coordinator keeps a window of submissions on the cluster
(:func:`in_flight_for`), sending the next as each result comes back, so the
scheduler never holds a whole class's bytes.

Workers advertise sandbox slots as a resource (``dask worker ... --resources
sandbox=2``); tasks then take one slot each. Grading workers must be allowed to
start processes: ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` (docs/grading_cluster.md).
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from gradebook_tools.course.errors import CourseProblem
from gradebook_tools.engine.bundle import CourseBundle
from gradebook_tools.engine.task import GradingTask, TaskResult
from gradebook_tools.gradebook.outcomes import FAILED

if TYPE_CHECKING:
    from distributed import Client, Future, Security

    from gradebook_tools.engine.local import WarmWorkers

#: Name of the worker resource that counts sandboxed kernels.
SANDBOX_RESOURCE = "sandbox"


def course_bundle(bundle: CourseBundle) -> CourseBundle:
    """The Dask task that hands the course bundle to the grading tasks of a run."""
    return bundle


def grade_on_worker(task: GradingTask, bundle: CourseBundle, task_timeout: float) -> TaskResult:
    """The Dask task: grade one submission in one of this worker's grading processes."""
    if multiprocessing.current_process().daemon:
        raise CourseProblem(
            "this Dask worker may not start processes: start grading workers with "
            "DASK_DISTRIBUTED__WORKER__DAEMON=False (see docs/grading_cluster.md)"
        )
    return _warm_workers(task_timeout).grade(task, bundle)


_WARM: dict[float, WarmWorkers] = {}
_WARM_LOCK = threading.Lock()


def _warm_workers(task_timeout: float) -> WarmWorkers:
    """This Dask worker's grading processes, kept warm from one task to the next (per time limit)."""
    from gradebook_tools.engine.local import LocalRunner, WarmWorkers

    with _WARM_LOCK:
        if task_timeout not in _WARM:
            _WARM[task_timeout] = WarmWorkers(LocalRunner(1, task_timeout=task_timeout))
        return _WARM[task_timeout]


#: Submissions in flight on a cluster at least: room for an adaptive cluster to see a backlog and grow.
MIN_IN_FLIGHT = 256


def in_flight_for(workers: dict[str, dict[str, Any]]) -> int:
    """How many submissions a run keeps on the cluster: four per grading slot, at least :data:`MIN_IN_FLIGHT`.

    Each queued submission waits on the scheduler as its bytes (~0.1-1 MB):
    a class of 1,000 x 10 sent at once would hold them all there.
    """
    slots = sum((w.get("resources") or {}).get(SANDBOX_RESOURCE, w.get("nthreads", 1)) for w in workers.values())
    return max(MIN_IN_FLIGHT, 4 * int(slots))


class DaskRunner:
    """Send grading tasks to the Dask scheduler at ``address``.

    ``security`` is a ``distributed.Security`` (e.g. a dask-gateway cluster's
    ``cluster.security``); None takes Dask's configuration (``distributed.comm.tls``).
    """

    def __init__(
        self,
        address: str,
        task_timeout: float = 3600,
        connect_timeout: float = 30,
        security: Security | None = None,
        in_flight: int | None = None,
    ):
        self.address, self.task_timeout, self.connect_timeout = address, task_timeout, connect_timeout
        self.security = security
        #: Submissions sent to the cluster and not yet back, at most (default :func:`in_flight_for`).
        self.in_flight = in_flight

    def _client(self) -> Client:
        try:
            from distributed import Client
        except ImportError as error:
            raise CourseProblem("grading on a cluster needs Dask: pip install distributed") from error
        try:
            return Client(self.address, timeout=self.connect_timeout, security=self.security)
        except (OSError, TypeError, ValueError) as error:  # unreachable, or no TLS configuration for tls://
            raise CourseProblem(f"cannot reach the Dask scheduler at {self.address}: {error}") from error

    def run(
        self,
        tasks: Iterable[GradingTask],
        bundle: CourseBundle,
        started: Callable[[GradingTask], None] | None = None,
    ) -> Iterator[TaskResult]:
        """Yield each task's result as it completes."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        planned = iter(tasks)
        with self._client() as client:
            workers = client.scheduler_info().get("workers", {})
            if not workers:
                raise CourseProblem(f"the Dask scheduler at {self.address} has no workers")
            slots = any(SANDBOX_RESOURCE in (w.get("resources") or {}) for w in workers.values())
            options = {"resources": {SANDBOX_RESOURCE: 1}} if slots else {}
            # a task holding the bytes, not scattered data: if every worker holding it dies, Dask makes it again
            shared_bundle = client.submit(course_bundle, bundle, key=f"course-bundle-{bundle.digest}", pure=False)
            futures: dict[object, GradingTask] = {}  # by Dask key

            def submit(task: GradingTask) -> Future[TaskResult]:
                future: Future[TaskResult] = client.submit(
                    grade_on_worker,
                    task,
                    shared_bundle,
                    self.task_timeout,
                    key=f"grade-{task.assignment}-{uuid.uuid4().hex}",
                    pure=False,
                    **options,
                )
                futures[future.key] = task
                return future

            def outcome(future: Future[TaskResult]) -> TaskResult | None:
                """The task's result; None when its workers kept dying under it (Dask's KilledWorker)."""
                try:
                    return future.result()
                except KilledWorker:
                    return None
                except CourseProblem:
                    raise
                except Exception as error:  # noqa: BLE001 - the worker's own failure, not the student's
                    raise CourseProblem(f"a Dask worker failed: {type(error).__name__}: {error}") from error
                finally:
                    future.release()

            # the scheduler holds every submitted submission's bytes: send them a window at a time
            window = self.in_flight or in_flight_for(workers)
            running = as_completed()

            def top_up() -> None:
                while running.count() < window:
                    task = next(planned, None)
                    if task is None:
                        return
                    running.add(submit(task))
                    if started:
                        started(task)

            top_up()
            # Dask counts a worker's death against every task queued on that worker, so a submission queued
            # behind one that kills workers can come back KilledWorker too: each such suspect is graded again
            # at the end, alone on the cluster; one that still kills its workers then is the culprit.
            suspects = []
            for future in running:
                result = outcome(future)
                if result is None:
                    suspects.append(futures.pop(future.key))
                else:
                    futures.pop(future.key, None)
                    yield result
                top_up()
            for task in suspects:
                yield outcome(submit(task)) or TaskResult(
                    task.assignment,
                    task.student,
                    task.fingerprint,
                    FAILED,
                    "grading this submission killed the grading workers again and again (KilledWorker), "
                    "also when it was graded alone: it was not graded and scores 0",
                )
