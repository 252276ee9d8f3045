"""The catalogue of known mistakes: complete, caught by the hidden checks, and named by the grader.

Fast tests, in this process: each variant's whole notebook (the solution with
that one cell replaced) runs here as a kernel would run it, the kernel's own
probe code answers the hidden checks, and the grader decides and diagnoses as
in grading (``tests/grading/test_autograde.py`` does the same through the real
``nbgrader autograde``, slowly).
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Callable

import matplotlib
import numpy as np
import pytest

from gradebook_tools.course.cells import grade_id, is_graded_test_cell
from gradebook_tools.course.submissions import fill_answers, solution_code
from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import expected_result
from gradebook_tools.grading.decide import decide
from gradebook_tools.grading.mistakes import catalogue, mistake_id
from gradebook_tools.grading.mistakes.diagnose import likely_mistakes
from gradebook_tools.grading.mistakes.strength import exercise_strength, replies_of
from tests.support.course import EXERCISES, REPO, read_notebook

matplotlib.use("Agg")

SEEDS = (0, 1)
#: every variant of the catalogue; the first mistake and the first alternative of each exercise stay in the fast
#: lane, the others run in the slow lane (each diagnosis tries the exercise's whole catalogue)
VARIANTS = [
    pytest.param(
        exercise,
        number,
        wrong,
        id=f"{exercise}-{'wrong' if wrong else 'alternative'}-{number:02d}",
        marks=() if number == 0 else pytest.mark.slow,
    )
    for exercise in EXERCISES
    for wrong, variants in zip((True, False), catalogue(exercise), strict=True)
    for number in range(len(variants))
]


@functools.cache
def _source(exercise: str):
    return read_notebook(REPO / "source" / exercise / f"{exercise}.ipynb")


def run_notebook(exercise: str, answers: dict[str, str]) -> dict:
    """The namespace after running the notebook's cells as a kernel would, graded test cells left out."""
    notebook = fill_answers(_source(exercise), answers)
    namespace: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cell in notebook.cells:
            if cell.cell_type != "code" or is_graded_test_cell(cell):
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))
            exec(compile(source, grade_id(cell) or "cell", "exec"), namespace)  # noqa: S102 - course code
    import matplotlib.pyplot as plt

    plt.close("all")
    return namespace


def grade_in_process(
    exercise: str, answers: dict[str, str], seed: int | Callable[[str], int]
) -> dict[str, tuple[bool, list[str]]]:
    """Per graded test cell: whether it passes, and the ids of the mistakes the grader names.

    ``seed`` seeds every check's inputs, or is a function of the check's ``grade_id`` (as in grading).
    """
    namespace = run_notebook(exercise, answers)
    results = {}
    for check in checks_for(exercise).values():
        cases = check.make_cases(np.random.default_rng(seed(check.grade_id) if callable(seed) else seed))
        replies = replies_of(dict(namespace), check, cases)
        verdicts = [
            decide(check, c, expected_result(check.reference, c), r) for c, r in zip(cases, replies, strict=True)
        ]
        named = likely_mistakes(exercise, check, cases, replies, verdicts)
        results[check.grade_id] = (all(v.passed for v in verdicts), [m.id for m in named])
    return results


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_graded_function_has_three_catalogued_mistakes_in_a_students_words(exercise):
    wrong, alternatives = catalogue(exercise)
    targets = {check.target for check in checks_for(exercise).values()}
    for target in targets - {"answer"}:
        assert sum(v.function == target for v in wrong) >= 3, target
        assert any(v.function == target for v in alternatives), target
    for variant in wrong:
        assert variant.about and "\n" not in variant.about and not variant.about[0].isupper(), variant.about
        assert variant.review and "\n" not in variant.review, variant.about


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_catalogued_mistake_is_caught_and_every_alternative_passes(exercise):
    """The authoring test of the check-strength report: no mistake survives every check of its function."""
    report = exercise_strength(exercise)
    assert report.uncaught() == []
    assert report.failing_alternatives() == []


@pytest.mark.parametrize("exercise,number,wrong", VARIANTS)
def test_a_variant_submitted_as_a_students_code_is_named_exactly(exercise, number, wrong):
    """A mistake loses exactly its cells and is named in each cell of its function it fails; an alternative
    loses nothing and names nothing."""
    mistakes, alternatives = catalogue(exercise)
    variant = (mistakes if wrong else alternatives)[number]
    checks = checks_for(exercise)
    answers = dict(solution_code(_source(exercise)), **{variant.function: variant.code})
    lost: set[str] = set()
    for seed in SEEDS:
        results = grade_in_process(exercise, answers, seed)
        lost |= {cell for cell, (passed, _) in results.items() if not passed}
        for cell, (passed, named) in results.items():
            if not wrong:
                assert named == [], (cell, named)
            elif not passed and checks[cell].target == variant.function:
                assert named == [mistake_id(variant, mistakes)], (cell, named)
    if wrong:
        own = {cell for cell, check in checks.items() if check.target == variant.function}
        assert lost == set(variant.loses or own), variant.about
    else:
        assert lost == set(), variant.about


def test_the_solution_names_nothing_and_loses_nothing():
    for exercise in EXERCISES:
        results = grade_in_process(exercise, solution_code(_source(exercise)), 0)
        assert all(passed and not named for passed, named in results.values()), exercise
