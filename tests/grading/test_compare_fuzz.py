"""Any reply the grader cannot read fails only its own case (issue 16, property 7).

For every hidden check of the curriculum, Hypothesis puts one arbitrary JSON
value (missing keys, wrong types, arrays without a shape, absurd shapes and
sizes, deep nesting) in place of one case's reply, beside honest replies for
the other cases. ``judge`` must never raise, the hostile case must come back
as a failed :class:`Verdict` with a plain reason, and every honest case must
still pass.
"""

from __future__ import annotations

import contextlib
import io
import json
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import Verdict, expected_result, judge
from gradebook_tools.grading.probe import parse_reply, probe_cell_source
from gradebook_tools.grading.spec import Case, Check

#: thousands of Hypothesis examples over every check: the slow lane (the named shapes below stay in the fast one)
FUZZ = pytest.mark.slow

NOTEBOOKS = [
    "ex01_response_only_sft",
    "ex02_bradley_terry",
    "ex03_dpo",
    "ex04_attack_success_rate",
    "ex05_guardrail_threshold",
    "ex06_refusal_tradeoff",
    "ex07_review_priority",
    "ex08_reviewer_agreement",
    "ex09_kl_budget",
    "ex10_regression_gate",
]
CHECKS = [check for notebook in NOTEBOOKS for check in checks_for(notebook).values()]
_KEYS = ["missing", "raised", "value_error", "message", "returned", "unsupported"]
_VALUE_KEYS = ["bool", "int", "float", "str", "none", "list", "tuple", "dict", "ndarray", "kind", "shape"]


def test_every_notebook_has_checks():
    assert len(CHECKS) >= 50, len(CHECKS)


@cache
def _cases_and_honest_replies(check: Check) -> tuple[list[Case], list, list[dict]]:
    """The check's cases, the reference's results and a correct kernel's replies, through the real probe."""
    cases = check.make_cases(np.random.default_rng(16))
    expected = [expected_result(check.reference, case) for case in cases]
    source, marker = probe_cell_source("reference_function", False, cases)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(source, "<probe cell>", "exec"), {"reference_function": check.reference})
    return cases, expected, parse_reply(stdout.getvalue(), marker, len(cases))


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["float", "bool", "int", "i", "f", "b", "u", "O", "c", "<f8"])
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(_KEYS + _VALUE_KEYS) | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=40,
)
_shapes = st.lists(st.integers(min_value=-3, max_value=2**63) | st.integers(0, 4) | _scalars, max_size=5) | _json
_encoded = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={key: _json for key in _VALUE_KEYS if key != "shape"} | {"shape": _shapes},
    ),
    lambda inner: (
        st.fixed_dictionaries({}, optional={"list": st.lists(inner | _json, max_size=4)})
        | st.fixed_dictionaries({}, optional={"tuple": st.lists(inner | _json, max_size=4)})
        | st.fixed_dictionaries({}, optional={"dict": st.dictionaries(st.text(max_size=8), inner | _json, max_size=4)})
    ),
    max_leaves=20,
)
#: A reply shaped like the probe's (its keys, arbitrary values) or any JSON value at all.
_replies = st.fixed_dictionaries({}, optional={key: _json for key in _KEYS} | {"returned": _encoded}) | _json


@FUZZ
@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.grade_id + ":" + check.target)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile=_replies, where=st.integers(min_value=0))
def test_an_unreadable_reply_fails_only_its_own_case(check: Check, hostile, where: int):
    cases, expected, honest = _cases_and_honest_replies(check)
    position = where % len(cases)
    # The reply crosses the grader's reader as JSON text, as a kernel's would.
    hostile = json.loads(json.dumps(hostile))
    replies = [hostile if index == position else reply for index, reply in enumerate(honest)]
    verdicts = [judge(case, want, reply) for case, want, reply in zip(cases, expected, replies, strict=True)]
    assert all(isinstance(verdict, Verdict) and isinstance(verdict.reason, str) for verdict in verdicts)
    for index, verdict in enumerate(verdicts):
        if index != position:
            assert verdict.passed, (index, verdict)
    if not verdicts[position].passed:
        assert verdicts[position].reason
    else:  # a forged reply can only pass by being exactly a right answer
        assert judge(cases[position], expected[position], hostile).passed


@pytest.mark.parametrize(
    "reply",
    [
        {"returned": {"ndarray": [1.0, 2.0], "kind": "f"}},  # an array without "shape" (the KeyError)
        {"returned": {"ndarray": [1.0], "kind": "f", "shape": [10**12, 10**12]}},
        {"returned": {"ndarray": [1.0], "kind": "f", "shape": "3"}},
        {"returned": {"ndarray": [[[[1.0]]]], "kind": "f", "shape": [1] * 200}},
        {"returned": {"ndarray": {"a": 1}, "kind": "f", "shape": [1]}},
        {"returned": {"list": [{"float": "x"}]}},
        {"returned": {"dict": [1, 2]}},
        {"returned": []},
        {"raised": {"deep": [1]}, "message": None},
        [],
        "text",
    ],
)
def test_named_shapes_of_unreadable_replies_fail_their_case(reply):
    for check in CHECKS:
        cases, expected, _ = _cases_and_honest_replies(check)
        for case, want in zip(cases, expected, strict=True):
            verdict = judge(case, want, reply)
            assert not verdict.passed and verdict.reason, (check.grade_id, case.about, verdict)


NOTEBOOK_OF = {id(check): notebook for notebook in NOTEBOOKS for check in checks_for(notebook).values()}


@FUZZ
@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.grade_id + ":" + check.target)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile=_replies, where=st.integers(min_value=0))
def test_trusted_executes_whole_decision_survives_an_unreadable_reply(check: Check, hostile, where: int):
    """What ``TrustedExecute._run_check`` does with the replies: the verdicts, then the catalogue of mistakes."""
    decide = pytest.importorskip("gradebook_tools.grading.decide").decide
    likely_mistakes = pytest.importorskip("gradebook_tools.grading.mistakes.diagnose").likely_mistakes
    cases, expected, honest = _cases_and_honest_replies(check)
    position = where % len(cases)
    replies = [json.loads(json.dumps(hostile)) if i == position else reply for i, reply in enumerate(honest)]
    verdicts = [decide(check, case, want, reply) for case, want, reply in zip(cases, expected, replies, strict=True)]
    assert all(verdict.passed for index, verdict in enumerate(verdicts) if index != position)
    likely_mistakes(NOTEBOOK_OF[id(check)], check, cases, replies, verdicts)
