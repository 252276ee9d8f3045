"""Plain `nbgrader autograde` and `gradebook-tools grade` give the same late penalty, from each student's own due date.

Real nbgrader commands and kernels, submissions with `timestamp.txt` as `nbgrader collect` writes them, an extension
granted before grading, and the ledger of both paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.ledger import read_ledger
from tests.support.course import gradebook_tools, nbgrader, timed_class

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("late_policy_grading")]

EXERCISE = "ex01_response_only_sft"
POLICY = """
c.CourseLatePenalty.percent_per_day = 10
c.CourseLatePenalty.max_percent = 50
"""
#: student -> timestamp.txt (the class's due date is 2026-01-01 00:00 UTC)
TIMESTAMPS = {
    "ada": "2025-12-31 12:00:00.000000 UTC",
    "bob": "2026-01-02 06:00:00.000000 UTC",
    "cat": "2026-01-02 06:00:00.000000 UTC",
}


def make_course(root: Path) -> Path:
    timed_class(root, EXERCISE, TIMESTAMPS, POLICY)
    # eve and fay submitted nothing: fay is missing, eve's own due date has not passed
    for student in [*TIMESTAMPS, "eve", "fay"]:
        nbgrader("db", "student", "add", student, cwd=root)
    for args in (
        ("calendar", "set", EXERCISE, "--due", "2026-01-01 00:00"),
        ("extension", "grant", "cat", EXERCISE, "--hours", "48", "--reason", "flu"),
        ("extension", "grant", "eve", EXERCISE, "--until", "2099-01-01 00:00", "--reason", "exchange term"),
    ):
        result = gradebook_tools(*args, cwd=root)
        assert result.returncode == 0, result.stderr
    return root


def penalties(root: Path) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            s.student.id: (s.score, s.late_submission_penalty) for s in gradebook.find_assignment(EXERCISE).submissions
        }


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    plain = make_course(tmp_path_factory.mktemp("plain"))
    nbgrader("autograde", EXERCISE, cwd=plain)
    engine = make_course(tmp_path_factory.mktemp("engine"))
    result = gradebook_tools("grade", EXERCISE, "--no-feedback", "--quiet", cwd=engine)
    assert result.returncode == 0, result.stdout + result.stderr
    return plain, engine, result.stdout


def test_both_paths_give_the_same_penalty_from_each_students_due_date(courses):
    plain, engine, _ = courses
    full = penalties(plain)["ada"][0]
    assert full > 0
    expected = {"ada": (full, 0.0), "bob": (full, round(0.2 * full, 6)), "cat": (full, 0.0)}
    got = {k: (s, round(p or 0.0, 6)) for k, (s, p) in penalties(plain).items()}
    assert got == expected
    assert {k: (s, round(p or 0.0, 6)) for k, (s, p) in penalties(engine).items()} == expected


def test_the_engine_says_which_due_date_applied_and_the_ledger_has_both_paths(courses):
    plain, engine, output = courses
    assert "submitted late: due 2026-01-01 00:00 UTC: 30 h 00 min late (2 day(s)), penalty" in output
    for root, why in ((plain, "nbgrader autograde"), (engine, "autograde (gradebook-tools grade)")):
        entries = read_ledger(f"sqlite:///{root / 'gradebook.db'}")
        scores = [e for e in entries if e.kind == "score" and e.student == "ada"]
        assert scores and all(e.old is None and e.why == why for e in scores)
        (bob,) = [e for e in entries if e.kind == "late penalty" and e.student == "bob"]
        assert bob.new == pytest.approx(0.2 * sum(e.new for e in entries if e.kind == "score" and e.student == "bob"))


def test_the_engine_records_missing_only_past_the_students_own_due_date(courses):
    _, engine, output = courses
    from gradebook_tools.gradebook.outcomes import StatusStore

    states = {(status.student, status.state) for status in StatusStore(f"sqlite:///{engine / 'gradebook.db'}").all()}
    assert ("fay", "missing") in states
    assert not any(student == "eve" for student, _ in states)
