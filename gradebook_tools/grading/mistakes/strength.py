"""Check strength: which hidden check catches which catalogued mistake, and that every alternative passes.

Each variant is graded as a student's code would be, minus the kernel: the
variant's cell runs in a fresh namespace (numpy and the reference functions as
the notebook's other functions), the very code sent to a kernel
(:mod:`gradebook_tools.grading.kernel_probe`) calls it on the check's cases and
prints its reply, and the grader reads that reply and decides it as in grading
(:func:`gradebook_tools.grading.decide.decide`). Inputs come from a fixed seed
per check, so a report is reproducible; grading draws them per student.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import Verdict, expected_result
from gradebook_tools.grading.decide import decide
from gradebook_tools.grading.kernel_probe import course_probe
from gradebook_tools.grading.mistakes import Variant, catalogue, mistake_id
from gradebook_tools.grading.mistakes.diagnose import NamedMistake, likely_mistakes, variant_namespace
from gradebook_tools.grading.probe import encode_input, parse_reply
from gradebook_tools.grading.spec import Case, Check

#: Seeds of the inputs a report tries per check (grading seeds them per student and cell).
REPORT_SEEDS = (0, 1, 2)


def replies_of(namespace: dict[str, Any], check: Check, cases: list[Case]) -> list[dict]:
    """The replies the kernel's probe gives for ``namespace``, read as the grader reads them."""
    marker = f"@@course-probe-{secrets.token_hex(8)}@@"
    request = {
        "marker": marker,
        "target": check.target,
        "reads_variable": check.reads_variable,
        "cases": [{"args": encode_input(list(c.args)), "kwargs": encode_input(dict(c.kwargs))} for c in cases],
    }
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        course_probe(json.dumps(request, allow_nan=True), namespace)
    return parse_reply(stdout.getvalue(), marker, len(cases))


def grade_variant(
    exercise_id: str, variant: Variant, check: Check, seed: int
) -> tuple[list[Verdict], list[NamedMistake]]:
    """The verdicts of one check on a variant's code, and the mistakes the grader would name."""
    cases = check.make_cases(np.random.default_rng(seed))
    replies = replies_of(variant_namespace(variant), check, cases)
    verdicts = [decide(check, c, expected_result(check.reference, c), r) for c, r in zip(cases, replies, strict=True)]
    return verdicts, likely_mistakes(exercise_id, check, cases, replies, verdicts)


@dataclass
class CheckStrength:
    """One hidden check: the mistakes of its function it catches and those that survive it."""

    grade_id: str
    target: str
    rules: tuple[str, ...]
    caught: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    alternatives_failed: list[str] = field(default_factory=list)
    alternatives: int = 0


@dataclass
class ExerciseStrength:
    """The report of one exercise."""

    exercise: str
    checks: list[CheckStrength]
    mistakes: dict[str, str]  # id -> what it does

    def uncaught(self) -> list[str]:
        """Mistakes that survive every check of their function."""
        caught = {m for c in self.checks for m in c.caught}
        return [m for m in self.mistakes if m not in caught]

    def failing_alternatives(self) -> list[str]:
        return sorted({a for c in self.checks for a in c.alternatives_failed})

    def as_json(self) -> dict:
        return {
            "exercise": self.exercise,
            "mistakes": self.mistakes,
            "uncaught": self.uncaught(),
            "failing_alternatives": self.failing_alternatives(),
            "checks": [vars(c) | {"rules": list(c.rules)} for c in self.checks],
        }


def exercise_strength(exercise_id: str, seeds: tuple[int, ...] = REPORT_SEEDS) -> ExerciseStrength:
    """Grade every catalogued mistake and alternative of an exercise against each check of its function."""
    wrong, alternatives = catalogue(exercise_id)
    checks = []
    for check in checks_for(exercise_id).values():
        strength = CheckStrength(check.grade_id, check.target, check.rules)
        for variant in wrong:
            if variant.function != check.target:
                continue
            caught = any(not all(v.passed for v in grade_variant(exercise_id, variant, check, s)[0]) for s in seeds)
            (strength.caught if caught else strength.survived).append(mistake_id(variant, wrong))
        for number, variant in enumerate(alternatives):
            if variant.function != check.target:
                continue
            strength.alternatives += 1
            if not all(all(v.passed for v in grade_variant(exercise_id, variant, check, s)[0]) for s in seeds):
                strength.alternatives_failed.append(f"alternative {number + 1}: {variant.about}")
        checks.append(strength)
    return ExerciseStrength(exercise_id, checks, {mistake_id(v, wrong): v.about for v in wrong})


def render_text(reports: list[ExerciseStrength]) -> str:
    """The report as plain text for a terminal."""
    lines = []
    for report in reports:
        lines.append(f"{report.exercise}")
        for check in report.checks:
            alternatives = (
                f"{check.alternatives} alternative(s) pass"
                if not check.alternatives_failed
                else f"ALTERNATIVES FAIL: {'; '.join(check.alternatives_failed)}"
            )
            lines.append(f"  {check.grade_id} ({check.target}): {alternatives}")
            lines.append(f"    catches  : {', '.join(check.caught) or '-'}")
            lines.append(f"    survives : {', '.join(check.survived) or '-'}")
        uncaught = report.uncaught()
        lines.append(f"  mistakes no check catches: {', '.join(uncaught) if uncaught else 'none'}")
        for identifier, about in report.mistakes.items():
            lines.append(f"    {identifier}: {about}")
    return "\n".join(lines) + "\n"
