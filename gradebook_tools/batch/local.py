"""Running grading tasks on this machine: one fresh process per task, ``slots`` at a time.

The processes are forked from a server that imported nbgrader and the grader
once (multiprocessing's ``forkserver``), so a task starts in milliseconds, not
the ~3 CPU-seconds of a new ``nbgrader`` process; and every task has a process
of its own, so one that crashes or hangs is killed and recorded alone while the
others go on.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from pathlib import Path

from .bundle import CourseBundle, unpacked
from .task import FAILED, GradingTask, TaskResult, run_task

#: Modules the fork server imports once for every task.
PRELOAD = ["gradebook_tools.batch.task"]
_PR_SET_PDEATHSIG = 1


def default_slots() -> int:
    """Tasks at once by default: the cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed coordinator or Dask worker)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _child(task: GradingTask, bundle_folder: Path, connection) -> None:
    _die_with_parent()
    # nothing of the kernel or of nbgrader reaches the terminal: the outcome travels as data
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    connection.send(run_task(task, bundle_folder))
    connection.close()


class LocalRunner:
    """Run tasks in processes of their own on this machine.

    Parameters
    ----------
    slots
        Tasks at once (default: the machine's cores).
    task_timeout
        Seconds after which a task's process is killed and the submission recorded as failed.
    attempts
        Tries of a task whose process died without a result.
    """

    def __init__(self, slots: int | None = None, task_timeout: float = 3600, attempts: int = 2):
        self.slots = slots or default_slots()
        self.task_timeout, self.attempts = task_timeout, attempts
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)

    def run(self, tasks: Iterable[GradingTask], bundle: CourseBundle,
            started: Callable[[GradingTask], None] | None = None) -> Iterator[TaskResult]:
        """Yield each task's result as it completes."""
        bundle_folder = unpacked(bundle)
        queue = [(task, 1) for task in tasks]
        queue.reverse()
        running: dict = {}  # connection -> (process, task, attempt, deadline)
        try:
            while queue or running:
                while queue and len(running) < self.slots:
                    task, attempt = queue.pop()
                    receiving, sending = self._context.Pipe(duplex=False)
                    process = self._context.Process(target=_child, args=(task, bundle_folder, sending), daemon=True)
                    process.start()
                    sending.close()
                    running[receiving] = (process, task, attempt, time.monotonic() + self.task_timeout)
                    if started:
                        started(task)
                deadline = min(entry[3] for entry in running.values())
                for connection in wait(list(running), timeout=max(0.0, deadline - time.monotonic())):
                    process, task, attempt, _ = running.pop(connection)
                    result = self._receive(connection, process, task)
                    if result is None and attempt < self.attempts:
                        queue.append((task, attempt + 1))
                        continue
                    yield result or _died(task, process.exitcode, attempt)
                for connection, (process, task, attempt, deadline) in list(running.items()):
                    if time.monotonic() > deadline:
                        process.kill()
                        process.join()
                        del running[connection]
                        yield TaskResult(task.assignment, task.student, task.fingerprint, FAILED,
                                         f"grading took longer than {self.task_timeout:g} s and was stopped: "
                                         "it scores 0")
        finally:
            for process, *_ in running.values():
                process.kill()
                process.join()

    @staticmethod
    def _receive(connection, process, task) -> TaskResult | None:
        try:
            result = connection.recv()
        except (EOFError, OSError):
            result = None
        connection.close()
        process.join()
        return result if isinstance(result, TaskResult) and result.student == task.student else None


def _died(task: GradingTask, exitcode: int | None, attempts: int) -> TaskResult:
    return TaskResult(
        task.assignment, task.student, task.fingerprint, FAILED,
        f"the grading process died on this submission {attempts} times (exit code {exitcode}): it scores 0",
    )
