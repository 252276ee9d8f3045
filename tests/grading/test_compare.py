"""The comparison rules of ``grading/compare.py``, one table row per rule, without a kernel.

Each row is a student's function returning (or raising) something and the
reference returning (or raising) something else. The student's value goes the
whole way a kernel's reply goes, minus the kernel: ``kernel_probe.course_probe``
encodes it exactly as in the student's kernel, ``probe.parse_reply`` reads the
line back with its limits, and ``compare.judge`` decides against
``compare.expected_result`` of the reference. The expected message is the
exact text the student reads in the feedback.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from gradebook_tools.grading.compare import RaisesValueError, expected_result, judge
from gradebook_tools.grading.probe import parse_reply, probe_cell_source
from gradebook_tools.grading.spec import DEFAULT_TOLERANCE, FLOAT32_TOLERANCE, Case

PASS = None
NOT_PLAIN = ", which is not plain data of the expected type"


class Raise:
    """A function (student's or reference) that raises ``error``."""

    def __init__(self, error: BaseException):
        self.error = error


class Anything(float):
    """A float subclass that equals everything: the kernel's encoder accepts exact types only."""

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@dataclass(frozen=True)
class Rule:
    name: str
    student: Any  # what the student's function returns, or Raise(...)
    reference: Any  # what the reference returns, or Raise(...)
    reason: str | None  # the verdict's reason; None: the case passes
    case: Case = field(default_factory=lambda: Case("a case"))


def _call(outcome):
    def function(*args, **kwargs):
        if isinstance(outcome, Raise):
            raise outcome.error
        return outcome

    return function


def kernel_reply(student, case: Case, defined: bool = True) -> dict:
    """The reply a kernel would send for ``case``, from the real probe code run in this process."""
    source, marker = probe_cell_source("student_function", False, [case])
    namespace = {"student_function": _call(student)} if defined else {}
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(source, "<probe cell>", "exec"), namespace)
    (reply,) = parse_reply(stdout.getvalue(), marker, 1)
    return reply


def verdict_of(rule: Rule):
    return judge(rule.case, expected_result(_call(rule.reference), rule.case), kernel_reply(rule.student, rule.case))


RULES = [
    # ------------------------------------------------------------ bool against int
    Rule("a bool for a bool", True, True, PASS),
    Rule("a numpy bool for a bool", np.bool_(True), True, PASS),
    Rule("the wrong bool", False, True, "returned the wrong bool"),
    Rule("1 for a bool", 1, True, "returned a int; expected a bool"),
    Rule("True for an int", True, 1, "returned a bool; expected an int"),
    Rule("True for a float", True, 1.0, "returned a bool; expected a float"),
    Rule("a float for an int", 3.0, 3, "returned a float; expected an int"),
    Rule("a numpy int64 for an int", np.int64(3), 3, PASS),
    Rule("the wrong int", 4, 3, "returned the wrong integer"),
    Rule("an int for a float", 2, 2.0, PASS),
    Rule("a numpy float32 for a float", np.float32(0.25), 0.25, PASS),
    Rule("a string for a float", "0.5", 0.5, "returned a str; expected a float"),
    Rule("None for a float", None, 0.5, "returned None; expected a float"),
    # ------------------------------------------------------------ tolerance
    Rule("a float within the tolerance", 1.0 + 5e-7, 1.0, PASS),
    Rule(
        "a float beyond the tolerance", 1.0 + 1e-5, 1.0, "differs from the reference by up to 1e-05 (tolerance 1e-06)"
    ),
    Rule(
        "a visible case shows the expected value",
        1.5,
        1.0,
        "differs from the reference by up to 0.5 (tolerance 1e-06) (expected 1)",
        Case("a visible case", visible=True),
    ),
    Rule("a hidden case does not show it", 1.5, 1.0, "differs from the reference by up to 0.5 (tolerance 1e-06)"),
    Rule("a case's own tolerance", 1.01, 1.0, PASS, Case("a loose case", tolerance=0.1)),
    # ------------------------------------------------------------ NaN and inf
    Rule("NaN for a number", float("nan"), 0.5, "returned NaN (a numerical overflow or 0/0?)"),
    Rule("inf for inf", float("inf"), float("inf"), PASS),
    Rule("-inf for -inf", float("-inf"), float("-inf"), PASS),
    Rule(
        "a large number for inf", 1e308, float("inf"), "infinite where the reference is finite, or the other way round"
    ),
    Rule("inf for a number", float("inf"), 1.0, "infinite where the reference is finite, or the other way round"),
    Rule("-inf for inf", float("-inf"), float("inf"), "infinite where the reference is finite, or the other way round"),
    Rule(
        "NaN inside an array",
        np.array([0.1, np.nan]),
        np.array([0.1, 0.2]),
        "returned NaN (a numerical overflow or 0/0?)",
    ),
    Rule("inf inside an array where expected", np.array([1.0, np.inf]), np.array([1.0, np.inf]), PASS),
    # ------------------------------------------------------------ arrays: dtypes and shapes
    Rule("a float array for a float array", np.array([0.5, 1.5]), np.array([0.5, 1.5]), PASS),
    Rule("float32 for float64 within the tolerance", np.array([0.1, 0.2], np.float32), np.array([0.1, 0.2]), PASS),
    Rule("int32 for int64", np.array([1, 2], np.int32), np.array([1, 2], np.int64), PASS),
    Rule("uint8 for int64", np.array([1, 2], np.uint8), np.array([1, 2], np.int64), PASS),
    Rule(
        "an int array for a float array",
        np.array([1, 2]),
        np.array([1.0, 2.0]),
        "returned an array of integer values; expected float values",
    ),
    Rule(
        "a float array for an int array",
        np.array([1.0, 2.0]),
        np.array([1, 2]),
        "returned an array of float values; expected integer values",
    ),
    Rule(
        "0/1 ints for a bool array",
        np.array([1, 0]),
        np.array([True, False]),
        "returned an array of integer values; expected bool values",
    ),
    Rule("a list for an array", [0.5, 1.5], np.array([0.5, 1.5]), "returned a list; expected a numpy array"),
    Rule("a float for an array", 0.5, np.array([0.5]), "returned a float; expected a numpy array"),
    Rule(
        "a row for a vector",
        np.array([[0.5, 1.5, 2.5]]),
        np.array([0.5, 1.5, 2.5]),
        "returned shape (1, 3); expected shape (3,)",
    ),
    Rule("an empty array for a vector", np.array([]), np.array([1.0]), "returned shape (0,); expected shape (1,)"),
    Rule("wrong integer entries", np.array([0, 2, 5]), np.array([0, 2, 4]), "1 of 3 entries are wrong"),
    Rule("an empty int array for an empty int array", np.array([], np.int64), np.array([], np.int64), PASS),
    # ------------------------------------------------------------ unsupported replies
    Rule(
        "a complex array",
        np.array([1 + 1j]),
        np.array([1.0]),
        "returned a numpy array of dtype complex128" + NOT_PLAIN,
    ),
    Rule(
        "a float subclass that equals everything",
        Anything(0.5),
        0.5,
        "returned an object of type tests.grading.test_compare.Anything" + NOT_PLAIN,
    ),
    Rule("a set", {0.5}, 0.5, "returned an object of type builtins.set" + NOT_PLAIN),
    Rule("a dict with int keys", {1: 0.5}, {"a": 0.5}, "returned a dict whose keys are not all strings" + NOT_PLAIN),
    Rule(
        "lists nested five deep",
        [[[[[0.5]]]]],
        [[[[[0.5]]]]],
        "item 0: item 0: item 0: item 0: returned nested too deeply" + NOT_PLAIN,
    ),
    # ------------------------------------------------------------ raising
    Rule("ValueError where the reference raises it", Raise(ValueError("bad")), Raise(ValueError("bad")), PASS),
    Rule(
        "a ValueError subclass where the reference raises ValueError",
        Raise(np.exceptions.AxisError("bad axis")),
        Raise(ValueError("bad")),
        PASS,
    ),
    Rule(
        "TypeError where the reference raises ValueError",
        Raise(TypeError("bad")),
        Raise(ValueError("bad")),
        "raised TypeError; invalid input should raise ValueError",
    ),
    Rule(
        "a value where the reference raises ValueError",
        0.5,
        Raise(ValueError("bad")),
        "returned a value; this input is invalid and should raise ValueError",
    ),
    Rule(
        "an error on a valid input",
        Raise(ZeroDivisionError("boom")),
        0.5,
        "raised ZeroDivisionError on a valid input: boom",
    ),
    Rule("sys.exit on a valid input", Raise(SystemExit(0)), 0.5, "raised SystemExit on a valid input: 0"),
    # ------------------------------------------------------------ tuples, lists, dicts, text
    Rule("a tuple for a tuple", (0.1, 0.2), (0.1, 0.2), PASS),
    Rule("a list for a tuple", [0.1, 0.2], (0.1, 0.2), PASS),
    Rule("three items for two", (0.1, 0.2, 0.3), (0.1, 0.2), "returned 3 items; expected 2"),
    Rule("a float for a tuple", 0.1, (0.1, 0.2), "returned a float; expected a tuple of 2"),
    Rule("a wrong item", (True, False), (True, True), "item 1: returned the wrong bool"),
    Rule("a dict for a dict", {"a": 0.5, "b": 1}, {"a": 0.5, "b": 1}, PASS),
    Rule("missing keys", {"a": 0.5}, {"a": 0.5, "b": 1.0}, "returned keys ['a']; expected ['a', 'b']"),
    Rule(
        "a wrong value",
        {"a": 0.5, "b": 2.0},
        {"a": 0.5, "b": 1.0},
        "'b': differs from the reference by up to 1 (tolerance 1e-06)",
    ),
    Rule("a list for a dict", [0.5], {"a": 0.5}, "returned a list; expected a dict"),
    Rule("the right text", "ship", "ship", PASS),
    Rule("the wrong text", "hold", "ship", "returned the wrong text"),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_comparison_rule(rule):
    verdict = verdict_of(rule)
    assert (verdict.passed, verdict.reason) == (rule.reason is None, rule.reason or "")
    assert verdict.about == rule.case.about


def test_a_function_that_is_not_defined():
    reply = kernel_reply(0.5, Case("a case"), defined=False)
    verdict = judge(Case("a case"), 0.5, reply)
    assert (verdict.passed, verdict.reason) == (False, "not defined (run the cell that defines it, and keep its name)")


def test_a_reply_without_a_returned_value_cannot_be_read():
    assert judge(Case("a case"), 0.5, {"returned": 0.5}).reason == "the reply could not be read"


def test_a_reference_of_an_unsupported_type_is_a_course_error_not_a_failed_case():
    with pytest.raises(TypeError, match="the reference returned an unsupported set"):
        judge(Case("a case"), {0.5}, {"returned": {"float": 0.5}})


def test_expected_result_turns_the_references_value_error_into_raises_value_error():
    assert isinstance(expected_result(_call(Raise(ValueError("bad"))), Case("a case")), RaisesValueError)


def test_expected_result_lets_other_reference_errors_through():
    with pytest.raises(ZeroDivisionError):
        expected_result(_call(Raise(ZeroDivisionError("course bug"))), Case("a case"))


@pytest.mark.parametrize(
    "case,tolerance",
    [
        (Case("float64 inputs", (np.zeros(2),)), DEFAULT_TOLERANCE),
        (Case("a float32 argument", (np.zeros(2, np.float32),)), FLOAT32_TOLERANCE),
        (Case("a float32 keyword argument", kwargs={"x": np.zeros(2, np.float32)}), FLOAT32_TOLERANCE),
        (Case("its own tolerance", (np.zeros(2, np.float32),), tolerance=1e-3), 1e-3),
        (Case("Python lists", ([0.5, 1.5],)), DEFAULT_TOLERANCE),
    ],
    ids=lambda value: value.about if isinstance(value, Case) else str(value),
)
def test_effective_tolerance(case, tolerance):
    assert case.effective_tolerance() == tolerance
