"""Submissions for the autograding tests: the course's catalogue of mistakes and correct alternatives.

The catalogue lives with the trusted checks (:mod:`gradebook_tools.grading.mistakes`);
the modules here re-export it. The tests put a variant's code in place of the
solution in the answer cell whose ``grade_id`` is ``variant.function`` (or
``answer``), grade the submission with the real ``nbgrader autograde``, and read
the scores back.
"""

from __future__ import annotations

from gradebook_tools.grading.mistakes import Variant, catalogue

__all__ = ["Variant", "students_for", "variants_for"]


def variants_for(exercise_id: str) -> tuple[list[Variant], list[Variant]]:
    """The ``WRONG`` and ``ALTERNATIVES`` lists of the exercise's catalogue."""
    return catalogue(exercise_id)


def students_for(exercise_id: str) -> list[tuple[str, Variant, bool]]:
    """``(student id, variant, is_wrong)`` for every variant of an exercise.

    The student ids (``wrong-00``, ``alternative-00``, ...) name the submissions
    in the graded class and the parametrized tests.
    """
    wrong, alternatives = variants_for(exercise_id)
    return [(f"wrong-{number:02d}", variant, True) for number, variant in enumerate(wrong)] + [
        (f"alternative-{number:02d}", variant, False) for number, variant in enumerate(alternatives)
    ]
