"""The grader's verdict on one test cell, as the cell's outputs.

nbgrader scores a test cell from its outputs: an error output scores 0, none
scores full points. The text lists each kind of input once, so the student sees
what failed and why, never the hidden values.
"""
from __future__ import annotations

from nbformat.v4 import new_output

from .compare import Verdict

PASS, FAIL = "\u2713", "\u2717"


def render_verdict(summary: str, verdicts: list[Verdict]) -> list:
    """Outputs for a test cell: a report on stdout, plus an error if any case failed."""
    groups: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        groups.setdefault(verdict.about, []).append(verdict)
    lines = [f"Hidden checks: {summary}"]
    for about, group in groups.items():
        failed = [v for v in group if not v.passed]
        if not failed:
            lines.append(f"  {PASS} {about}")
        elif len(group) == 1:
            lines.append(f"  {FAIL} {about}: {failed[0].reason}")
        else:
            lines.append(f"  {FAIL} {about}: {len(failed)} of {len(group)} failed, e.g. {failed[0].reason}")
    outputs = [new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    failures = sum(not v.passed for v in verdicts)
    if failures:
        message = f"{failures} of {len(verdicts)} hidden checks failed"
        outputs.append(new_output("error", ename="HiddenCheckFailed", evalue=message, traceback=[f"HiddenCheckFailed: {message}"]))
    return outputs
