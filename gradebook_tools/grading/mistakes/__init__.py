"""The catalogue of known wrong implementations, one module per exercise: part of the trusted checks.

Each module ``mistakes/<id>.py`` holds two lists of :class:`Variant`:
``WRONG``, the typical mistakes (at least three per graded function), each with
a one-line description a student understands and what to review, and
``ALTERNATIVES``, correct implementations written differently.

When a student's function fails a check, the grader runs the catalogued
mistakes of that function on the same inputs *in its own process* (never in the
kernel) and names those whose outputs the student's match
(:mod:`gradebook_tools.grading.mistakes.diagnose`). The tests submit every variant as a
student's code and grade it for real; ``gradebook-tools checks-report`` shows
which hidden check catches which mistake.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One answer cell's code: a catalogued mistake or a correct alternative.

    Parameters
    ----------
    function
        The ``grade_id`` of the answer cell it replaces (a function name or ``answer``).
    about
        For a mistake, what the code does wrong in a student's words, completing
        "your function seems to ..." (e.g. "normalise over the batch axis instead
        of the last axis"); for an alternative, how it is written.
    code
        The whole cell source: a complete ``def`` (or ``answer = ...``).
    loses
        For a mistake, the ``grade_id``s of the test cells it must fail;
        ``None`` means every test cell of ``function``. Every other test cell
        of the notebook keeps its points. Unused for alternatives.
    review
        For a mistake, what to review, in one line.
    """

    function: str
    about: str
    code: str
    loses: tuple[str, ...] | None = None
    review: str = ""


def catalogue(exercise_id: str) -> tuple[list[Variant], list[Variant]]:
    """The ``WRONG`` and ``ALTERNATIVES`` lists of ``mistakes/<exercise_id>.py``.

    Raises
    ------
    ModuleNotFoundError
        When the exercise has no catalogue.
    """
    module = importlib.import_module(f"{__name__}.{exercise_id}")
    return list(module.WRONG), list(module.ALTERNATIVES)


def mistake_id(variant: Variant, wrong: list[Variant]) -> str:
    """A stable id of a mistake within its exercise: ``<function>.<n>``, n counting that function's mistakes."""
    same = [v for v in wrong if v.function == variant.function]
    return f"{variant.function}.{same.index(variant) + 1}"


def mistakes_of(exercise_id: str, function: str) -> list[tuple[str, Variant]]:
    """``(id, variant)`` of every catalogued mistake of one function (or ``answer``); none for an unknown id."""
    try:
        wrong, _ = catalogue(exercise_id)
    except ModuleNotFoundError:
        return []
    return [(mistake_id(v, wrong), v) for v in wrong if v.function == function]
