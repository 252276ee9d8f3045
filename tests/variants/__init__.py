"""Submissions for the autograding tests: typical wrong answers and correct alternatives.

One module per exercise id with two lists, ``WRONG`` and ``ALTERNATIVES``, of
:class:`Variant`. The tests put a variant's code in place of the solution in the
answer cell whose ``grade_id`` is ``variant.function`` (or ``answer``), grade the
submission with the real ``nbgrader autograde``, and read the scores back.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One answer cell's code.

    Parameters
    ----------
    function
        The ``grade_id`` of the answer cell it replaces (a function name or ``answer``).
    about
        What the code does, e.g. "forgets the log: returns the softmax".
    code
        The whole cell source: a complete ``def`` (or ``answer = ...``).
    loses
        For a wrong variant, the ``grade_id``s of the test cells it must fail;
        ``None`` means every test cell of ``function``. Every other test cell
        of the notebook must keep its points. Unused for alternatives.
    """

    function: str
    about: str
    code: str
    loses: tuple[str, ...] | None = None


def variants_for(exercise_id: str) -> tuple[list[Variant], list[Variant]]:
    """The ``WRONG`` and ``ALTERNATIVES`` lists of ``tests/variants/<exercise_id>.py``."""
    module = importlib.import_module(f"{__name__}.{exercise_id}")
    return module.WRONG, module.ALTERNATIVES


def students_for(exercise_id: str) -> list[tuple[str, Variant, bool]]:
    """``(student id, variant, is_wrong)`` for every variant of an exercise.

    The student ids (``wrong-00``, ``alternative-00``, ...) name the submissions
    in the graded class and the parametrized tests.
    """
    wrong, alternatives = variants_for(exercise_id)
    return [(f"wrong-{number:02d}", variant, True) for number, variant in enumerate(wrong)] + [
        (f"alternative-{number:02d}", variant, False) for number, variant in enumerate(alternatives)
    ]
