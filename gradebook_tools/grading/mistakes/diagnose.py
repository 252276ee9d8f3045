"""Naming the likely mistake: the catalogued wrong implementations, run in the grader's process.

When a student's function fails a check, each catalogued mistake of that
function runs on the same inputs here, in the grader's own process, never in
the student's kernel (the catalogue is course code). A mistake is named when the
student's replies match its outputs on every case of the check: on the failing
cases the student did what the mistake does, and elsewhere both agree with the
reference. The names and reviews are the catalogue's own sentences: no hidden
input and no reference value ever reaches them.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradebook_tools.grading import reference
from gradebook_tools.grading.compare import RaisesValueError, ReferenceUnsupported, Verdict, judge
from gradebook_tools.grading.decide import STABILITY_WARNINGS, reply_warnings
from gradebook_tools.grading.mistakes import Variant, mistakes_of
from gradebook_tools.grading.spec import Case, Check


@dataclass(frozen=True)
class NamedMistake:
    """A catalogued mistake the student's function seems to make."""

    id: str
    about: str
    review: str

    def sentence(self) -> str:
        """The line the student reads."""
        return f"Your function seems to {self.about}. Review: {self.review}"


@dataclass(frozen=True)
class Outcome:
    """What a catalogued variant did on one case, in the grader's process."""

    value: Any = None
    raised: str | None = None
    value_error: bool = False
    warnings: frozenset[str] = frozenset()


def reference_namespace() -> dict[str, Any]:
    """A fresh namespace like a notebook's after its set-up cell: numpy, and the reference functions.

    A variant that calls another of the notebook's functions gets the reference one.
    """
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__course_variant__", "np": np}
    for name, function in vars(reference).items():
        if inspect.isfunction(function) and function.__module__ == reference.__name__ and not name.startswith("_"):
            namespace[name] = function
    return namespace


def variant_namespace(variant: Variant) -> dict[str, Any]:
    """The namespace after running the variant's cell (course code, so ``exec`` here is trusted)."""
    namespace = reference_namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(variant.code, f"<catalogued {variant.function}>", "exec"), namespace)  # noqa: S102
    return namespace


def run_variant(namespace: dict[str, Any], check: Check, case: Case) -> Outcome:
    """The variant's outcome on one case, with the warnings its call raised (numpy's default handling)."""
    if check.reads_variable:
        return Outcome(value=namespace.get(check.target))
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(dict(case.kwargs))
    with (
        warnings.catch_warnings(record=True) as caught,
        np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"),
    ):
        warnings.simplefilter("always")
        try:
            value = namespace[check.target](*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - what the mistake raises is its outcome
            raised = frozenset(r.category.__name__ for r in caught)
            return Outcome(raised=type(error).__name__, value_error=isinstance(error, ValueError), warnings=raised)
    return Outcome(value=value, warnings=frozenset(r.category.__name__ for r in caught))


def matches(check: Check, case: Case, outcome: Outcome, reply: Any) -> bool:
    """Whether the student's reply on ``case`` is what the variant did."""
    if not isinstance(reply, dict):
        return False
    if check.warnings_fail and bool(STABILITY_WARNINGS & outcome.warnings) != bool(
        STABILITY_WARNINGS & set(reply_warnings(reply))
    ):
        return False
    if outcome.raised is not None:
        if "raised" not in reply:
            return False
        return reply.get("value_error") is True if outcome.value_error else reply.get("raised") == outcome.raised
    if "returned" not in reply:
        return False
    try:
        return judge(case, outcome.value, reply).passed
    except ReferenceUnsupported:  # e.g. the variant returns None: compare the reply's kind only
        return outcome.value is None and reply.get("returned") == {"none": None}


def likely_mistakes(
    exercise_id: str, check: Check, cases: list[Case], replies: list[Any], verdicts: list[Verdict]
) -> list[NamedMistake]:
    """The catalogued mistakes of ``check.target`` that the student's replies match; none when all passed."""
    if all(v.passed for v in verdicts) or len(replies) != len(cases):
        return []
    named = []
    for identifier, variant in mistakes_of(exercise_id, check.target):
        try:
            namespace = variant_namespace(variant)
            outcomes = [run_variant(namespace, check, case) for case in cases]
        except Exception:  # noqa: BLE001 - a catalogue bug must not cost the student a verdict
            continue
        # a mistake the reference would pass on these cases explains nothing
        if all(_same_as_reference(check, case, o) for case, o in zip(cases, outcomes, strict=True)):
            continue
        if all(matches(check, c, o, r) for c, o, r in zip(cases, outcomes, replies, strict=True)):
            named.append(NamedMistake(identifier, variant.about, variant.review))
    return named


def _same_as_reference(check: Check, case: Case, outcome: Outcome) -> bool:
    expected = check.reference() if check.reads_variable else _expected(check, case)
    if isinstance(expected, RaisesValueError):
        return outcome.value_error
    if outcome.raised is not None:
        return False
    if check.warnings_fail and STABILITY_WARNINGS & outcome.warnings:
        return False
    if type(expected) in (bool, int) and type(outcome.value) is not type(expected):
        return False  # a numpy scalar, or a float, where the notebook asks for a Python bool or int
    if isinstance(expected, float) and not isinstance(outcome.value, float):
        return False
    if isinstance(expected, str) != isinstance(outcome.value, str):
        return False
    try:
        return bool(np.all(np.asarray(expected) == np.asarray(outcome.value))) or _close(expected, outcome.value)
    except Exception:  # noqa: BLE001 - values of different kinds are not the same
        return False


def _expected(check: Check, case: Case) -> Any:
    try:
        return check.reference(*copy.deepcopy(case.args), **copy.deepcopy(dict(case.kwargs)))
    except ValueError:
        return RaisesValueError()


def _close(expected: Any, value: Any) -> bool:
    try:
        return bool(
            np.allclose(np.asarray(expected, float), np.asarray(value, float), rtol=1e-6, atol=1e-6, equal_nan=True)
        )
    except Exception:  # noqa: BLE001
        return False
