"""`gradebook-tools grade --dry-run`: the scores a regrade would change, previewed without changing anything.

Issue 17, property 7: the preview leaves the gradebook byte-identical and the ledger
(`gradebook-tools history --format json`) unchanged; grading for real then gives
exactly the previewed change and records exactly it, with who and why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.ledger import os_user
from tests.support.course import (
    gradebook_tools,
    nbgrader,
    timed_class,
    tree_hash,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dry-run")]  # real grading; one class, in order

EXERCISE = "ex01_response_only_sft"
DUE = "2026-01-01 00:00:00"


def totals(root: Path) -> dict[str, tuple[float, float]]:
    """Student -> (automatic points, late penalty), read back through nbgrader's API."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            s.student.id: (s.code_score, s.late_submission_penalty)
            for s in gradebook.find_assignment(EXERCISE).submissions
        }


def history(root: Path) -> list[dict]:
    result = gradebook_tools("history", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """An on-time and a late student, graded with no late policy (nbgrader's default: no penalty)."""
    root = timed_class(
        tmp_path_factory.mktemp("preview"),
        EXERCISE,
        {"ontime": "2025-12-31 12:00:00", "late": "2026-01-01 02:00:00"},
    )
    nbgrader("db", "assignment", "add", EXERCISE, f"--duedate={DUE}", cwd=root)
    first = gradebook_tools("grade", "--quiet", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert totals(root) == {"ontime": (8.0, 0.0), "late": (8.0, 0.0)}
    return root


def test_a_dry_run_lists_exactly_what_the_regrade_then_changes(graded):
    root = graded
    # the instructor adopts a stricter late policy: late work scores zero
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    untouched = {name: tree_hash(root / name) for name in ("submitted", "autograded", "feedback")}
    gradebook_bytes = (root / "gradebook.db").read_bytes()
    before = history(root)
    assert before and {entry["why"] for entry in before} == {"autograde (gradebook-tools grade)"}

    preview = gradebook_tools("grade", "--quiet", "--force", "--dry-run", cwd=root)

    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "grading for real would change 1 score(s)" in preview.stdout
    (row,) = [line.split() for line in preview.stdout.splitlines() if line.startswith("late ")]
    assert row == ["late", EXERCISE, "8", "0", "-8"]
    assert "ontime" not in preview.stdout.split("would change", 1)[1]
    # nothing changed: the gradebook (with its outcome table) and every folder are byte-identical
    assert (root / "gradebook.db").read_bytes() == gradebook_bytes
    assert {name: tree_hash(root / name) for name in untouched} == untouched
    assert history(root) == before

    applied = gradebook_tools("grade", "--quiet", "--force", cwd=root)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert totals(root) == {"ontime": (8.0, 0.0), "late": (8.0, 8.0)}  # score 8 - 8 = 0, as previewed
    after = history(root)
    assert after[: len(before)] == before  # append-only
    new = [
        (e["who"], e["student"], e["assignment"], e["cell"], e["old"], e["new"], e["why"]) for e in after[len(before) :]
    ]
    # the previewed 8 -> 0 is the late penalty going from none to 8: the one entry of the run
    assert new == [(os_user(), "late", EXERCISE, EXERCISE, None, 8.0, "autograde (gradebook-tools grade)")]


def test_a_dry_run_with_nothing_changed_says_so(graded):
    again = gradebook_tools("grade", "--quiet", "--dry-run", cwd=graded)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "grading for real would change no score" in again.stdout
