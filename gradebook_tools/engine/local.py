"""Running grading tasks on this machine: ``slots`` worker processes, each grading one task at a time.

Workers are forked from a server that imported nbgrader and the grader once
(multiprocessing's ``forkserver``), and stay up for the whole run, so a task
pays neither the start of a new ``nbgrader`` process nor a cold start
(compiled templates, the kernel fork server stay warm). A task runs in its own
private course (:func:`~gradebook_tools.engine.task.run_task`): nothing of one
submission is left for the next. A worker that dies or overruns its time is
killed and replaced; its task is tried again, then recorded as failed, and the
other tasks go on.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util
import os
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gradebook_tools.course.errors import CourseProblem
from gradebook_tools.engine.bundle import CourseBundle, unpacked
from gradebook_tools.engine.sql_engines import share_engines
from gradebook_tools.sandbox import runtime_folder
from gradebook_tools.sandbox.cgroups import warn_without_cgroups

if TYPE_CHECKING:  # the coordinator imports nbgrader (with .task) only after the workers' server starts
    from gradebook_tools.engine.task import GradingTask, TaskResult

#: Modules the fork server imports once for every worker.
PRELOAD = ["gradebook_tools.engine.task"]
_PR_SET_PDEATHSIG = 1
#: The socket of multiprocessing's fork server, below the folder its temporary folder is made in.
_LISTENER_TAIL = "pymp-xxxxxxxx/listener-xxxxxxxx"


def default_slots() -> int:
    """Tasks at once by default: one more than the cores this process may use.

    A task alternates between its worker and its kernel and waits for each
    kernel to fork, so with one task a core some core is always idle; one more
    fills it (50 x 10 on 2 cores: 3 at once 114 s, 2 at once 122 s, 4 at once 128 s).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores) + 1


def _short_multiprocessing_tempdir() -> None:
    """Give multiprocessing a temporary folder where its fork server's socket path fits.

    Python 3.11 makes it in ``TMPDIR`` as it is; a deep one fails the run with
    "AF_UNIX path too long". Then it goes in a short folder
    (:func:`~gradebook_tools.sandbox.runtime_folder.socket_root`), made and
    removed by multiprocessing as usual; where there is none, ``CourseProblem``
    names the cause before any worker starts.
    """
    root = runtime_folder.socket_root(_LISTENER_TAIL)
    if root == tempfile.gettempdir():
        problem = runtime_folder.socket_path_problem(os.path.join(root, _LISTENER_TAIL))
        if problem:
            raise CourseProblem(problem)
        return
    grader_tmp, tempfile.tempdir = tempfile.tempdir, root
    try:
        multiprocessing.util.get_temp_dir()
    finally:
        tempfile.tempdir = grader_tmp


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed coordinator or Dask worker)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _exit_on_terminate(signum: int, frame: object) -> None:
    """Stopped (multiprocessing ends daemonic workers with SIGTERM): exit through the process's finalizers.

    They stop this worker's kernel fork server and unmount its kernels' runtime folders.
    """
    raise SystemExit(128 + signum)


def _worker(connection: Connection) -> None:
    from gradebook_tools.engine.task import run_task

    _die_with_parent()
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    share_engines()  # this process grades task after task: nbgrader's queries are compiled once
    # nothing of the kernels or of nbgrader reaches the terminal: outcomes travel as data
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        task, bundle_folder = message
        connection.send(run_task(task, bundle_folder))


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    task: GradingTask | None = None
    attempt: int = 0
    deadline: float = 0.0


class LocalRunner:
    """Run tasks in worker processes on this machine.

    Parameters
    ----------
    slots
        Tasks at once (default: :func:`default_slots`, the machine's cores and one).
    task_timeout
        Seconds after which a task's worker is killed and the submission recorded as failed.
    attempts
        Tries of a task whose worker died without a result.
    """

    def __init__(self, slots: int | None = None, task_timeout: float = 3600, attempts: int = 2):
        self.slots = slots or default_slots()
        self.task_timeout, self.attempts = task_timeout, attempts
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        if os.geteuid() == 0:  # kernels get users and control groups of their own: say once if they cannot
            warn_without_cgroups()
        # the workers' server imports nbgrader and the grader while this process goes on
        _short_multiprocessing_tempdir()
        multiprocessing.forkserver.ensure_running()

    def _start_worker(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_worker, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def run(
        self, tasks: Iterable[GradingTask], bundle: CourseBundle, started: Callable[[GradingTask], None] | None = None
    ) -> Iterator[TaskResult]:
        """Yield each task's result as it completes.

        ``tasks`` is consumed as the run goes: a worker starts on the first task
        while the rest are still being planned (between results, one at a time).
        """
        bundle_folder = unpacked(bundle)
        planned = iter(tasks)
        planning = True
        queue: deque[tuple[GradingTask, int]] = deque()  # (task, attempt); tries again go first
        workers: list[_Worker] = []

        def plan_one() -> None:
            nonlocal planning
            task = next(planned, None) if planning else None
            if task is None:
                planning = False
            else:
                queue.append((task, 1))

        try:
            while True:
                if not queue:
                    plan_one()
                for index, worker in enumerate(workers):
                    if worker.task is None and queue:
                        if not worker.process.is_alive():  # died while idle
                            worker = workers[index] = self._replace(worker)
                        self._hand(worker, *queue.popleft(), bundle_folder, started)
                while queue and len(workers) < self.slots:
                    workers.append(self._start_worker())
                    self._hand(workers[-1], *queue.popleft(), bundle_folder, started)
                busy = [w for w in workers if w.task]
                if not busy and not queue and not planning:
                    return
                if planning and busy:
                    plan_one()  # plan ahead while the workers grade, looking for results between tasks
                    timeout = 0.0
                else:
                    timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else 0.0
                ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=timeout)
                for index, worker in enumerate(workers):
                    if worker.task is None:
                        continue
                    result = self._finished(worker, ready)
                    if result is None:
                        continue
                    task, attempt = worker.task, worker.attempt
                    workers[index], result = self._settle(worker, result)
                    if result is None:
                        queue.appendleft((task, attempt + 1))
                    else:
                        yield result
        finally:
            for worker in workers:
                self._stop(worker)

    def _settle(self, worker: _Worker, result: TaskResult | object) -> tuple[_Worker, TaskResult | None]:
        """What a finished task comes to: the worker to go on with, and the result (None: try again)."""
        task, attempt = cast("GradingTask", worker.task), worker.attempt
        worker.task = None
        if result is _DIED:
            exit_code = worker.process.exitcode
            worker = self._replace(worker)
            if attempt < self.attempts:
                return worker, None
            reason = f"the grading process died on this submission {attempt} times (exit code {exit_code}): it scores 0"
            return worker, _failed(task, reason)
        if result is _OVERRAN:
            reason = f"grading took longer than {self.task_timeout:g} s and was stopped: it scores 0"
            return self._replace(worker), _failed(task, reason)
        return worker, cast("TaskResult", result)

    def _hand(
        self,
        worker: _Worker,
        task: GradingTask,
        attempt: int,
        bundle_folder: Path,
        started: Callable[[GradingTask], None] | None,
    ) -> None:
        worker.task, worker.attempt = task, attempt
        worker.deadline = time.monotonic() + self.task_timeout
        worker.connection.send((task, bundle_folder))
        if started:
            started(task)

    def _finished(self, worker: _Worker, ready: Sequence[object]) -> TaskResult | object | None:
        """The worker's result, _DIED, _OVERRAN, or None while it is still grading."""
        if worker.connection in ready:
            try:
                result = worker.connection.recv()
            except (EOFError, OSError):
                return _DIED
            from gradebook_tools.engine.task import TaskResult

            if isinstance(result, TaskResult) and worker.task is not None and result.student == worker.task.student:
                return result
            return _DIED
        if worker.process.sentinel in ready or not worker.process.is_alive():
            return _DIED
        if time.monotonic() > worker.deadline:
            return _OVERRAN
        return None

    def _replace(self, worker: _Worker) -> _Worker:
        self._stop(worker, kill=True)
        return self._start_worker()

    @staticmethod
    def _stop(worker: _Worker, kill: bool = False) -> None:
        if not kill and worker.process.is_alive():
            try:
                worker.connection.send(None)
            except OSError:
                kill = True
            worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


_DIED, _OVERRAN = object(), object()


class WarmWorkers:
    """Worker processes kept between tasks handed over one at a time, from any thread.

    For a Dask worker, whose tasks arrive singly: each task takes an idle
    worker process (or starts one), so it pays no new process, kernel fork
    server or cold caches. The processes die
    with the Dask worker; a task whose worker dies or overruns is settled as
    :class:`LocalRunner` settles it.
    """

    def __init__(self, runner: LocalRunner):
        self.runner = runner
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def grade(self, task: GradingTask, bundle: CourseBundle) -> TaskResult:
        with self._lock:  # Dask's threads ask at once: one unpacking of the bundle, one taker of each worker
            bundle_folder = unpacked(bundle)
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = self.runner._start_worker()
        elif not worker.process.is_alive():  # died while idle
            worker = self.runner._replace(worker)
        attempt, result = 1, None
        try:
            while result is None:
                self.runner._hand(worker, task, attempt, bundle_folder, None)
                finished = None
                while finished is None:
                    timeout = max(0.0, worker.deadline - time.monotonic())
                    ready = wait([worker.connection, worker.process.sentinel], timeout)
                    finished = self.runner._finished(worker, ready)
                worker, result = self.runner._settle(worker, finished)
                attempt += 1
        except BaseException:
            self.runner._stop(worker, kill=True)
            raise
        with self._lock:
            self._idle.append(worker)
        return result


def _failed(task: GradingTask, reason: str) -> TaskResult:
    from gradebook_tools.engine.task import TaskResult
    from gradebook_tools.gradebook.outcomes import FAILED

    return TaskResult(task.assignment, task.student, task.fingerprint, FAILED, reason)
