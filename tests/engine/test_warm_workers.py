"""Grading processes kept warm between tasks handed over one at a time (each Dask worker's way).

Real nbgrader, real sandboxed kernels: the scores read back from the gradebook
are those the class deserves, one process grades them all, and a task that
kills its process is retried, recorded failed, and leaves the pool working.
"""

from __future__ import annotations

import io
import tarfile

import pytest

from gradebook_tools.engine.bundle import CourseBundle
from gradebook_tools.engine.coordinator import BatchGrader
from gradebook_tools.engine.local import LocalRunner, WarmWorkers
from gradebook_tools.engine.task import FAILED, GRADED, GradingTask
from tests.support.course import fill_answers, solution_code

pytestmark = pytest.mark.slow  # real kernels

EXERCISE = "ex01_response_only_sft"


@pytest.fixture(scope="module")
def course(make_course):
    course = make_course([EXERCISE])
    release = course.release(EXERCISE)
    good = fill_answers(release, solution_code(course.source(EXERCISE)))
    for student, notebook in (("good-a", good), ("blank", release), ("good-b", good)):
        course.submit(student, EXERCISE, notebook)
    return course


class OneAtATime:
    """A runner that hands each task to the warm workers and waits for it, as a Dask task does."""

    def __init__(self, warm: WarmWorkers):
        self.warm = warm

    def run(self, tasks, bundle, started=None):
        for task in tasks:
            yield self.warm.grade(task, bundle)


class CountedRunner(LocalRunner):
    """A LocalRunner that counts the worker processes it starts."""

    started = 0

    def _start_worker(self):
        self.started += 1
        return super()._start_worker()


def empty_bundle() -> CourseBundle:
    """A bundle without the course's files: a task given it fails in its worker before any kernel."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz"):
        pass
    return CourseBundle(buffer.getvalue())


def test_one_warm_process_grades_the_class_and_survives_a_killing_task(course):
    runner = CountedRunner(1, task_timeout=600)
    warm = WarmWorkers(runner)

    outcomes = BatchGrader(course.root, course.db_url, runner=OneAtATime(warm)).run([EXERCISE])

    assert {(o.student, o.state) for o in outcomes} == {("good-a", GRADED), ("blank", GRADED), ("good-b", GRADED)}
    maximum = course.max_scores(EXERCISE)
    assert course.auto_scores(EXERCISE, "good-a") == maximum
    assert course.auto_scores(EXERCISE, "good-b") == maximum
    assert course.auto_scores(EXERCISE, "blank") == dict.fromkeys(maximum, 0.0)
    assert runner.started == 1, "every task took the same warm process"
    (idle,) = warm._idle
    pid = idle.process.pid

    # a task whose process dies (here: no course files to lay out) is tried again in a new one, then failed
    dying = GradingTask(EXERCISE, "good-a", {}, "fingerprint")
    result = warm.grade(dying, empty_bundle())
    assert result.state == FAILED
    assert "the grading process died on this submission 2 times" in result.reason
    assert "it scores 0" in result.reason
    assert runner.started == 3
    (replacement,) = warm._idle
    assert replacement.process.pid != pid and replacement.process.is_alive()
    assert not idle.process.is_alive()

    # the pool goes on grading: everything again, forced, in the replacement process
    again = BatchGrader(course.root, course.db_url, runner=OneAtATime(warm), force=True).run([EXERCISE])
    assert {o.state for o in again} == {GRADED}
    assert course.auto_scores(EXERCISE, "good-b") == maximum
    assert runner.started == 3
    runner._stop(replacement)
