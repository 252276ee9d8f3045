"""The source notebooks follow the curriculum's graded interface, and match their hidden checks."""

from __future__ import annotations

import numpy as np
import pytest

from gradebook_tools.grading import reference
from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import RaisesValueError, expected_result
from gradebook_tools.grading.probe import encode_input
from tests.course import EXERCISES, REPO, grade_id, read_notebook

# The graded functions of shared/CURRICULUM.md, in its order.
CURRICULUM = {
    "ex01_response_only_sft": ["log_softmax", "response_mask_from_roles", "response_only_loss"],
    "ex02_bradley_terry": ["preference_probability", "reward_model_loss", "preference_accuracy"],
    "ex03_dpo": ["dpo_margin", "dpo_loss", "implicit_reward"],
    "ex04_attack_success_rate": ["attack_success_rate", "wilson_interval", "trials_for_margin"],
    "ex05_guardrail_threshold": ["guardrail_action", "threshold_sweep", "choose_threshold"],
    "ex06_refusal_tradeoff": ["refusal_metrics", "refusal_adjusted_utility"],
    "ex07_review_priority": ["review_priority", "binary_entropy", "select_for_review"],
    "ex08_reviewer_agreement": ["raw_agreement", "cohens_kappa", "disagreements"],
    "ex09_kl_budget": ["kl_divergence", "kl_penalized_rewards", "kl_regularized_objective"],
    "ex10_regression_gate": ["release_gate", "multi_metric_gate", "best_validation_step"],
}


def nbgrader_cells(exercise):
    notebook = read_notebook(REPO / "source" / exercise / f"{exercise}.ipynb")
    return notebook, [cell for cell in notebook.cells if "nbgrader" in cell.metadata]


def test_the_ten_exercises_exist():
    assert EXERCISES == sorted(CURRICULUM)


@pytest.mark.parametrize("exercise", sorted(CURRICULUM))
def test_answer_cells_follow_the_curriculum(exercise):
    _, cells = nbgrader_cells(exercise)
    autograded_answers = [
        grade_id(c) for c in cells if c.metadata.nbgrader.get("solution") and not c.metadata.nbgrader.get("grade")
    ]
    assert autograded_answers == CURRICULUM[exercise] + ["answer"]
    for cell in cells:
        if grade_id(cell) in CURRICULUM[exercise]:
            assert f"def {grade_id(cell)}(" in cell.source
    explanation = [c for c in cells if grade_id(c) == "explanation"]
    assert len(explanation) == 1 and explanation[0].cell_type == "markdown"
    assert explanation[0].metadata.nbgrader["grade"] and explanation[0].metadata.nbgrader["solution"]
    assert explanation[0].metadata.nbgrader["points"] == 2


@pytest.mark.parametrize("exercise", sorted(CURRICULUM))
def test_test_cells_match_the_hidden_checks(exercise):
    notebook, cells = nbgrader_cells(exercise)
    tests = [c for c in cells if c.metadata.nbgrader.get("grade") and not c.metadata.nbgrader.get("solution")]
    checks = checks_for(exercise)
    assert [grade_id(c) for c in tests] == list(checks), "one check per test cell, in the notebook's order"
    assert sum(c.metadata.nbgrader["points"] for c in tests) == 8
    for cell in tests:
        target = checks[grade_id(cell)].target
        assert grade_id(cell).startswith(f"test_{target}")
        assert cell.metadata.nbgrader["locked"]
        assert "### BEGIN HIDDEN TESTS" in cell.source
    assert {checks[grade_id(c)].target for c in tests} == set(CURRICULUM[exercise]) | {"answer"}
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "outputs cleared"


@pytest.mark.parametrize("exercise", sorted(CURRICULUM))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_check_can_fail_a_cheat(exercise, seed):
    """A function that always raises, or knows only the visible cases, fails every check."""
    for check in checks_for(exercise).values():
        cases = check.make_cases(np.random.default_rng(seed))
        assert cases, check.grade_id
        for case in cases:
            encode_input(list(case.args)), encode_input(dict(case.kwargs))
        if check.reads_variable:
            continue
        trusted = check.reference or getattr(reference, check.target)
        results = [expected_result(trusted, case) for case in cases]
        assert any(not isinstance(r, RaisesValueError) for r in results), f"{check.grade_id}: no valid case"
        assert any(not case.visible for case in cases), f"{check.grade_id}: only visible cases"
