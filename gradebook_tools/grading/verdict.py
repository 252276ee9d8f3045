"""The grader's verdict on one test cell: the cell's outputs, and the same as data in its metadata.

nbgrader scores a test cell from its outputs: an error output scores 0, none
scores full points. The text lists each kind of input once, so the student sees
what failed and why, never the hidden values. Pages read the verdict back from
the cell's metadata (:func:`read_verdict`), never by parsing the text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from nbformat import NotebookNode
from nbformat.v4 import new_output

from gradebook_tools.grading.compare import Verdict
from gradebook_tools.grading.mistakes.diagnose import NamedMistake

PASS, FAIL = "\u2713", "\u2717"
#: Cell metadata key of the verdict as data; TrustedExecute removes any the submission brought.
VERDICT_KEY = "gradebook_tools_verdict"
#: Class of the element of a feedback page that names a likely mistake.
LIKELY_MISTAKE_CLASS = "likely-mistake"
#: Output metadata marking the grader's likely-mistake output of a graded test cell.
MISTAKE_OUTPUT_KEY = "gradebook_tools_likely_mistakes"


def verdict_metadata(summary: str, verdicts: list[Verdict], mistakes: Sequence[NamedMistake] = ()) -> dict:
    """The verdict as plain data, for the cell's metadata."""
    return {
        "summary": summary,
        "cases": [{"about": v.about, "passed": bool(v.passed), "reason": v.reason} for v in verdicts],
        "mistakes": [{"id": m.id, "about": m.about, "review": m.review} for m in mistakes],
    }


def read_mistakes(cell: NotebookNode) -> list[NamedMistake]:
    """The likely mistakes the grader named in an autograded test cell's verdict (none when it has none)."""
    data = cell.get("metadata", {}).get(VERDICT_KEY)
    entries = data.get("mistakes") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    return [
        NamedMistake(str(entry.get("id", "")), str(entry.get("about", "")), str(entry.get("review", "")))
        for entry in entries
        if isinstance(entry, dict)
    ]


def likely_mistakes_html(mistakes: Sequence[NamedMistake]) -> str:
    """The named mistakes as HTML, one element of class ``likely-mistake`` each (text escaped)."""
    return "".join(
        f'<p class="{LIKELY_MISTAKE_CLASS}"><strong>Likely mistake:</strong> {html.escape(m.sentence())}</p>'
        for m in mistakes
    )


def read_verdict(cell: NotebookNode) -> list[Verdict] | None:
    """The grader's verdict stored in an autograded test cell, or None when it has none."""
    data = cell.get("metadata", {}).get(VERDICT_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return None
    return [
        Verdict(str(case.get("about", "")), case.get("passed") is True, str(case.get("reason", "")))
        for case in data["cases"]
        if isinstance(case, dict)
    ]


def render_verdict(summary: str, verdicts: list[Verdict], mistakes: Sequence[NamedMistake] = ()) -> list:
    """Outputs for a test cell: a report on stdout, the likely mistakes, plus an error if any case failed."""
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
    if mistakes:
        outputs.append(
            new_output(
                "display_data",
                data={
                    "text/plain": "\n".join(f"Likely mistake: {m.sentence()}" for m in mistakes),
                    "text/html": likely_mistakes_html(mistakes),
                },
                metadata={MISTAKE_OUTPUT_KEY: True},
            )
        )
    failures = sum(not v.passed for v in verdicts)
    if failures:
        message = f"{failures} of {len(verdicts)} hidden checks failed"
        outputs.append(
            new_output("error", ename="HiddenCheckFailed", evalue=message, traceback=[f"HiddenCheckFailed: {message}"])
        )
    return outputs
