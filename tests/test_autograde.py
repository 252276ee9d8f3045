"""Every exercise through the real `nbgrader autograde`, scores read back from the gradebook.

Per exercise, one class of fictional students is graded in one run: the
solution (twice, with different per-student hidden inputs), a blank release,
each typical wrong implementation and each correct alternative.
"""

from __future__ import annotations

import pytest

from tests.course import EXERCISES, fill_answers, solution_code
from tests.variants import variants_for

SOLUTION_STUDENTS = ("solution-a", "solution-b")


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
            wrong, alternatives = variants_for(exercise)
            for prefix, variants in (("wrong", wrong), ("alternative", alternatives)):
                for number, variant in enumerate(variants):
                    answers = dict(solution, **{variant.function: variant.code})
                    course.submit(f"{prefix}-{number:02d}", exercise, fill_answers(release, answers))
            course.autograde(exercise)
            cache[exercise] = course
        return cache[exercise]

    return grade


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solution_earns_every_automatic_point(graded, exercise):
    course = graded(exercise)
    maximum = course.max_scores(exercise)
    assert sum(maximum.values()) == 8
    for student in SOLUTION_STUDENTS:
        assert course.auto_scores(exercise, student) == maximum


@pytest.mark.parametrize("exercise", EXERCISES)
def test_blank_release_scores_zero(graded, exercise):
    course = graded(exercise)
    assert set(course.auto_scores(exercise, "blank").values()) == {0}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_wrong_implementation_loses_exactly_its_points(graded, exercise):
    course = graded(exercise)
    maximum, targets = course.max_scores(exercise), course.targets(exercise)
    wrong, _ = variants_for(exercise)
    assert {variant.function for variant in wrong} >= set(targets.values()), "a function has no wrong variant"
    for number, variant in enumerate(wrong):
        lost = set(variant.loses or [cell for cell, target in targets.items() if target == variant.function])
        expected = {cell: 0 if cell in lost else points for cell, points in maximum.items()}
        assert course.auto_scores(exercise, f"wrong-{number:02d}") == expected, variant.about


@pytest.mark.parametrize("exercise", EXERCISES)
def test_correct_alternatives_keep_full_credit(graded, exercise):
    course = graded(exercise)
    maximum, targets = course.max_scores(exercise), course.targets(exercise)
    _, alternatives = variants_for(exercise)
    assert {variant.function for variant in alternatives} >= set(targets.values()) - {"answer"}
    for number, variant in enumerate(alternatives):
        assert course.auto_scores(exercise, f"alternative-{number:02d}") == maximum, variant.about
