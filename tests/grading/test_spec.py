"""How a hidden check is written (``grading/spec.py``): the decorators and the reference look-up."""

from __future__ import annotations

import numpy as np
import pytest

from gradebook_tools.grading import reference
from gradebook_tools.grading.checks import UnknownNotebook, checks_for
from gradebook_tools.grading.spec import Case, Check, check, worked_answer


def test_check_takes_its_grade_id_from_the_name_and_its_summary_from_the_docstring():
    @check("log_softmax")
    def test_log_softmax_rows(rng):
        """log_softmax of two rows"""
        return [Case("two rows", (rng.normal(size=(2, 3)),))]

    assert (test_log_softmax_rows.grade_id, test_log_softmax_rows.target, test_log_softmax_rows.summary) == (
        "test_log_softmax_rows",
        "log_softmax",
        "log_softmax of two rows",
    )
    assert not test_log_softmax_rows.reads_variable


def test_check_is_decided_by_the_reference_function_named_like_its_target():
    @check("dpo_loss")
    def test_dpo_loss_values(rng):
        """dpo_loss"""
        return []

    assert test_dpo_loss_values.reference is reference.dpo_loss


def test_a_target_without_a_reference_function_is_refused_with_its_name():
    with pytest.raises(LookupError, match="reference.py has no function 'no_such_function'"):

        @check("no_such_function")
        def test_no_such_function(rng):
            """a function the course does not have"""
            return []


def test_a_check_without_a_one_line_docstring_is_refused():
    with pytest.raises(ValueError, match="test_undocumented: give it a one-line docstring"):

        @check("log_softmax")
        def test_undocumented(rng):
            return []


def test_worked_answer_reads_the_variable_and_expects_the_computed_value():
    @worked_answer
    def test_answer():
        """answer is the worked loss"""
        return reference.reward_model_loss([1.0], [0.0])

    assert (test_answer.grade_id, test_answer.target, test_answer.reads_variable) == ("test_answer", "answer", True)
    assert test_answer.make_cases(np.random.default_rng(0)) == [Case("the value of answer")]
    assert test_answer.reference() == reference.reward_model_loss([1.0], [0.0])


def test_an_answer_check_built_by_hand_needs_its_reference():
    with pytest.raises(LookupError, match="check test_answer"):
        Check("test_answer", "answer", "answer", lambda rng: [])


def test_checks_for_an_unknown_notebook():
    with pytest.raises(UnknownNotebook, match="no hidden checks for notebook 'ex99_unknown'"):
        checks_for("ex99_unknown")


@pytest.mark.parametrize("name", ["../ex01", "Ex01", "ex01.py", ""])
def test_checks_for_refuses_names_that_are_not_notebook_ids(name):
    with pytest.raises(UnknownNotebook):
        checks_for(name)
