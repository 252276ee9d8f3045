"""What decides a case beyond the value: Python scalars, and warnings in the stability cells.

The student's code runs here through the kernel's own probe code
(:func:`gradebook_tools.grading.mistakes.strength.replies_of`), so the reply is
exactly what a kernel would send.
"""

from __future__ import annotations

import json

import numpy as np

from gradebook_tools.cli import EXIT_OK, main
from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import expected_result
from gradebook_tools.grading.decide import decide, reply_warnings
from gradebook_tools.grading.mistakes.diagnose import reference_namespace
from gradebook_tools.grading.mistakes.strength import replies_of
from gradebook_tools.grading.spec import Case

NAIVE_SIGMOID = """
def preference_probability(r_w, r_l):
    margin = np.asarray(r_w, dtype=float) - np.asarray(r_l, dtype=float)
    prob = 1.0 / (1.0 + np.exp(-margin))
    return float(prob) if prob.ndim == 0 else prob
"""
SILENCED_SIGMOID = """
def preference_probability(r_w, r_l):
    margin = np.asarray(r_w, dtype=float) - np.asarray(r_l, dtype=float)
    with np.errstate(over="ignore"):  # the student's own choice: exp(1e4) = inf gives 1 / inf = 0
        prob = 1.0 / (1.0 + np.exp(-margin))
    return float(prob) if prob.ndim == 0 else prob
"""


def verdicts_of(code: str, exercise: str, grade_id: str, cases: list[Case] | None = None):
    namespace = reference_namespace()
    exec(code, namespace)  # noqa: S102 - test code
    check = checks_for(exercise)[grade_id]
    cases = cases if cases is not None else check.make_cases(np.random.default_rng(0))
    replies = replies_of(namespace, check, cases)
    return [decide(check, c, expected_result(check.reference, c), r) for c, r in zip(cases, replies, strict=True)]


def test_an_overflow_warning_fails_a_stability_cell_although_the_values_are_right():
    verdicts = verdicts_of(NAIVE_SIGMOID, "ex02_bradley_terry", "test_preference_probability_stability")
    failed = {v.about: v.reason for v in verdicts if not v.passed}
    assert "margins of magnitude 1e4 of both signs" in failed
    assert failed["margins of magnitude 1e4 of both signs"].startswith("raised a RuntimeWarning")
    assert "without warnings" in failed["margins of magnitude 1e4 of both signs"]


def test_warnings_cost_nothing_outside_the_stability_cells():
    assert all(v.passed for v in verdicts_of(NAIVE_SIGMOID, "ex02_bradley_terry", "test_preference_probability_values"))


def test_a_function_that_silences_its_own_warning_passes_the_stability_cell():
    verdicts = verdicts_of(SILENCED_SIGMOID, "ex02_bradley_terry", "test_preference_probability_stability")
    assert [v for v in verdicts if not v.passed] == []


def test_a_numpy_bool_fails_where_the_notebook_asks_for_a_python_bool():
    code = (
        "def release_gate(s, c, min_safety_gain=0.02, max_capability_drop=0.02):\n"
        "    return np.bool_(s > min_safety_gain and c > -max_capability_drop)\n"
    )
    verdicts = verdicts_of(code, "ex10_regression_gate", "test_release_gate_values")
    assert {v.reason for v in verdicts} == {"returned a numpy bool (numpy.bool_); return a Python bool, e.g. bool(...)"}


def test_a_tuple_item_is_named_in_the_students_words():
    code = "def threshold_sweep(h, b, t):\n    tpr, fpr = reference_sweep(h, b, t)\n    return tpr + 0.5, fpr\n"
    namespace_code = "reference_sweep = threshold_sweep\n" + code
    verdicts = verdicts_of(namespace_code, "ex05_guardrail_threshold", "test_threshold_sweep_values")
    assert (
        verdicts[1].reason
        == "the first returned value (tpr): differs from the reference by up to 0.5 (tolerance 1e-06)"
    )


def test_a_reply_whose_warnings_are_not_a_list_of_strings_counts_no_warning():
    assert reply_warnings({"returned": {"float": 1.0}, "warnings": "RuntimeWarning"}) == []
    assert reply_warnings({"returned": {"float": 1.0}, "warnings": [1, "RuntimeWarning", None]}) == ["RuntimeWarning"]
    assert reply_warnings("not a dict") == []


def test_checks_report_json_names_what_each_check_catches(capsys):
    assert main(["checks-report", "ex05_guardrail_threshold", "--format", "json"]) == EXIT_OK
    [report] = json.loads(capsys.readouterr().out)
    checks = {c["grade_id"]: c for c in report["checks"]}
    assert checks["test_guardrail_action_values"]["caught"] == ["guardrail_action.1", "guardrail_action.3"]
    assert checks["test_guardrail_action_values"]["survived"] == ["guardrail_action.2"]
    assert checks["test_guardrail_action_invalid_tau"]["caught"] == [
        "guardrail_action.1",
        "guardrail_action.2",
        "guardrail_action.3",
    ]
    assert checks["test_choose_threshold_edge_cases"]["survived"] == ["choose_threshold.1"]
    assert report["uncaught"] == [] and report["failing_alternatives"] == []
    assert all(c["alternatives"] >= 1 and c["alternatives_failed"] == [] for c in report["checks"])
    assert report["mistakes"]["guardrail_action.3"].startswith("return a numpy bool")


def test_checks_report_text_lists_every_check(capsys):
    assert main(["checks-report", "ex02_bradley_terry"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "ex02_bradley_terry"
    assert "  test_preference_probability_stability (preference_probability): 1 alternative(s) pass" in out
    assert "  mistakes no check catches: none" in out
