"""Every exercise through the real `nbgrader autograde`, scores read back from the gradebook.

Per exercise, one class of fictional students is graded in one run: the
solution (twice, with different per-student hidden inputs), a blank release,
each typical wrong implementation and each correct alternative
(``tests/variants/<id>.py``). Then one test per student says what it earned.
The tests of one exercise share its graded class: under pytest-xdist, run with
``--dist loadgroup`` so that they stay on one worker.
"""

from __future__ import annotations

import pytest

from tests.support.course import EXERCISES, fill_answers, solution_code
from tests.variants import students_for

pytestmark = pytest.mark.slow

SOLUTION_STUDENTS = ("solution-a", "solution-b")


def per_exercise(students):
    """Parameters ``(exercise, student, ...)`` with readable ids, grouped per exercise for xdist."""
    return [
        pytest.param(exercise, *rest, id="-".join([exercise, *map(str, ids)]), marks=pytest.mark.xdist_group(exercise))
        for exercise in EXERCISES
        for ids, rest in students(exercise)
    ]


SOLUTIONS = per_exercise(lambda exercise: [((student,), (student,)) for student in SOLUTION_STUDENTS])
BLANK = per_exercise(lambda exercise: [((), ())])
WRONG = per_exercise(lambda exercise: [((s, v.function), (s, v)) for s, v, wrong in students_for(exercise) if wrong])
ALTERNATIVES = per_exercise(
    lambda exercise: [((s, v.function), (s, v)) for s, v, wrong in students_for(exercise) if not wrong]
)


@pytest.fixture(scope="module")
def graded(make_course):
    """``graded(exercise)`` → the course with that exercise's class autograded (cached)."""
    cache = {}

    def grade(exercise):
        if exercise not in cache:
            course = make_course([exercise])
            release, solution = course.release(exercise), solution_code(course.source(exercise))
            for student in SOLUTION_STUDENTS:
                course.submit(student, exercise, fill_answers(release, solution))
            course.submit("blank", exercise, release)
            for student, variant, _ in students_for(exercise):
                answers = dict(solution, **{variant.function: variant.code})
                course.submit(student, exercise, fill_answers(release, answers))
            course.autograde(exercise)
            cache[exercise] = course
        return cache[exercise]

    return grade


@pytest.mark.parametrize("exercise,student", SOLUTIONS)
def test_solution_earns_every_automatic_point(graded, exercise, student):
    course = graded(exercise)
    maximum = course.max_scores(exercise)
    assert sum(maximum.values()) == 8
    assert course.auto_scores(exercise, student) == maximum


@pytest.mark.parametrize("exercise", BLANK)
def test_blank_release_scores_zero(graded, exercise):
    course = graded(exercise)
    assert set(course.auto_scores(exercise, "blank").values()) == {0}


@pytest.mark.parametrize("exercise,student,variant", WRONG)
def test_wrong_implementation_loses_exactly_its_points(graded, exercise, student, variant):
    course = graded(exercise)
    maximum, targets = course.max_scores(exercise), course.targets(exercise)
    lost = set(variant.loses or [cell for cell, target in targets.items() if target == variant.function])
    expected = {cell: 0 if cell in lost else points for cell, points in maximum.items()}
    assert course.auto_scores(exercise, student) == expected, variant.about


@pytest.mark.parametrize("exercise,student,variant", ALTERNATIVES)
def test_correct_alternative_keeps_full_credit(graded, exercise, student, variant):
    course = graded(exercise)
    assert course.auto_scores(exercise, student) == course.max_scores(exercise), variant.about
