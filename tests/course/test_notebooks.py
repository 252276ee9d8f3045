"""The source notebooks follow the curriculum's graded interface, and match their hidden checks.

Fast: no kernel, no nbgrader command. The graded functions of each exercise
are read from docs/curriculum.md, the exercises from ``c.CourseSections.sections``.
"""

from __future__ import annotations

import ast
import functools

import numpy as np
import pytest

from gradebook_tools.grading import reference
from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import RaisesValueError, expected_result
from gradebook_tools.grading.probe import encode_input
from tests.support.course import EXERCISES, REPO, curriculum, grade_id, read_notebook
from tests.variants import students_for

SEEDS = (0, 1, 2)
CHECKS = [(exercise, check_id) for exercise in EXERCISES for check_id in checks_for(exercise)]
VARIANTS = [(exercise, student) for exercise in EXERCISES for student, _, _ in students_for(exercise)]


@functools.cache
def graded_functions(exercise: str) -> list[str]:
    """The graded functions of ``exercise`` in docs/curriculum.md, in its order."""
    return curriculum()[exercise]


@functools.cache
def nbgrader_cells(exercise):
    notebook = read_notebook(REPO / "source" / exercise / f"{exercise}.ipynb")
    return notebook, [cell for cell in notebook.cells if "nbgrader" in cell.metadata]


def graded_test_cells(exercise):
    return [
        c
        for c in nbgrader_cells(exercise)[1]
        if c.metadata.nbgrader.get("grade") and not c.metadata.nbgrader.get("solution")
    ]


def variant(exercise, student):
    return next(v for s, v, _ in students_for(exercise) if s == student)


def test_the_ten_exercises_exist():
    assert EXERCISES == list(curriculum()), "c.CourseSections.sections lists the curriculum's exercises, in its order"
    assert len(EXERCISES) == 10


@pytest.mark.parametrize("exercise", EXERCISES)
def test_answer_cells_follow_the_curriculum(exercise):
    _, cells = nbgrader_cells(exercise)
    autograded_answers = [
        grade_id(c) for c in cells if c.metadata.nbgrader.get("solution") and not c.metadata.nbgrader.get("grade")
    ]
    assert autograded_answers == graded_functions(exercise) + ["answer"]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_function_cell_defines_its_function(exercise):
    _, cells = nbgrader_cells(exercise)
    for cell in cells:
        if grade_id(cell) in graded_functions(exercise):
            assert f"def {grade_id(cell)}(" in cell.source


@pytest.mark.parametrize("exercise", EXERCISES)
def test_explanation_is_one_manually_graded_markdown_cell_of_2_points(exercise):
    _, cells = nbgrader_cells(exercise)
    explanation = [c for c in cells if grade_id(c) == "explanation"]
    assert len(explanation) == 1 and explanation[0].cell_type == "markdown"
    assert explanation[0].metadata.nbgrader["grade"] and explanation[0].metadata.nbgrader["solution"]
    assert explanation[0].metadata.nbgrader["points"] == 2


@pytest.mark.parametrize("exercise", EXERCISES)
def test_one_hidden_check_per_test_cell_in_the_notebooks_order(exercise):
    assert [grade_id(c) for c in graded_test_cells(exercise)] == list(checks_for(exercise)), (
        "one check per test cell, in the notebook's order"
    )


@pytest.mark.parametrize("exercise", EXERCISES)
def test_test_cells_carry_8_points(exercise):
    assert sum(c.metadata.nbgrader["points"] for c in graded_test_cells(exercise)) == 8


@pytest.mark.parametrize("exercise", EXERCISES)
def test_test_cells_are_locked_named_after_their_target_and_hide_their_tests(exercise):
    checks = checks_for(exercise)
    for cell in graded_test_cells(exercise):
        target = checks[grade_id(cell)].target
        assert grade_id(cell).startswith(f"test_{target}")
        assert cell.metadata.nbgrader["locked"]
        assert "### BEGIN HIDDEN TESTS" in cell.source


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_function_and_the_answer_have_a_test_cell(exercise):
    checks = checks_for(exercise)
    assert {checks[grade_id(c)].target for c in graded_test_cells(exercise)} == set(graded_functions(exercise)) | {
        "answer"
    }


@pytest.mark.parametrize("exercise", EXERCISES)
def test_outputs_are_cleared(exercise):
    notebook, _ = nbgrader_cells(exercise)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "outputs cleared"


@pytest.mark.parametrize("exercise,check_id", CHECKS, ids=[f"{e}-{c}" for e, c in CHECKS])
@pytest.mark.parametrize("seed", SEEDS)
def test_every_check_can_fail_a_cheat(exercise, check_id, seed):
    """A function that always raises, or knows only the visible cases, fails every check."""
    check = checks_for(exercise)[check_id]
    cases = check.make_cases(np.random.default_rng(seed))
    assert cases, check.grade_id
    for case in cases:
        encode_input(list(case.args)), encode_input(dict(case.kwargs))
    if check.reads_variable:
        return
    results = [expected_result(check.reference, case) for case in cases]
    assert any(not isinstance(r, RaisesValueError) for r in results), f"{check.grade_id}: no valid case"
    assert any(not case.visible for case in cases), f"{check.grade_id}: only visible cases"


# ------------------------------------------------ the variants of tests/variants


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_function_and_the_answer_have_a_wrong_variant(exercise):
    targets = {check.target for check in checks_for(exercise).values()}
    assert {v.function for _, v, wrong in students_for(exercise) if wrong} >= targets, "a function has no wrong variant"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_function_has_a_correct_alternative(exercise):
    targets = {check.target for check in checks_for(exercise).values()}
    assert {v.function for _, v, wrong in students_for(exercise) if not wrong} >= targets - {"answer"}


@pytest.mark.parametrize("exercise,student", VARIANTS, ids=[f"{e}-{s}" for e, s in VARIANTS])
def test_variant_replaces_an_answer_cell_and_defines_its_name(exercise, student):
    found = variant(exercise, student)
    assert found.function in graded_functions(exercise) + ["answer"], found.about
    defined = {
        name
        for node in ast.walk(ast.parse(found.code))
        for name in (
            [node.name]
            if isinstance(node, ast.FunctionDef)
            else [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign)
            else []
        )
    }
    assert found.function in defined, f"{found.about}: the code defines no {found.function}"


@pytest.mark.parametrize("exercise,student", VARIANTS, ids=[f"{e}-{s}" for e, s in VARIANTS])
def test_variant_loses_only_test_cells_of_its_notebook(exercise, student):
    found = variant(exercise, student)
    assert set(found.loses or ()) <= set(checks_for(exercise)), f"{found.about}: unknown test cells in loses"


def test_reference_has_one_function_per_graded_function_of_the_curriculum():
    """No graded function without its reference, and no reference function that nothing grades."""
    public = {name for name, value in vars(reference).items() if callable(value) and not name.startswith("_")}
    public = {name for name in public if getattr(reference, name).__module__ == reference.__name__}
    assert public == {function for exercise in EXERCISES for function in graded_functions(exercise)}
