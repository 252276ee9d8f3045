"""Each student's feedback page says which due date applied to them, when they submitted, how late, the penalty.

Issue 17, property 5. Two real courses grade the same five submissions (``timestamp.txt`` as ``nbgrader collect``
writes them): one with plain ``nbgrader autograde`` then ``nbgrader generate_feedback``, one with
``gradebook-tools grade``. The class's due date is 2026-01-01 00:00 UTC; 10 % a day late, at most 50 %; one late
day per term, spent on request. Each full solution earns 8 automatic points (2 more are graded by hand):

=======  ===================  ==============================  =================================
student  submitted (UTC)      their due date                  late, penalty
=======  ===================  ==============================  =================================
ada      2025-12-31 12:00     the class's                     on time
bob      2026-01-02 06:00     the class's                     30 h (2 days): 20 %, 1.6 of 8
cat      2026-01-02 06:00     extension +48 h: 01-03 00:00    on time
dan      2026-01-02 06:00     extension until 01-02 00:00     6 h (1 day): 10 %, 0.8 of 8
eve      2026-01-02 06:00     1 late day: 01-02 00:00         6 h (1 day): 10 %, 0.8 of 8
=======  ===================  ==============================  =================================
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from tests.support.browser import VIEWPORT
from tests.support.course import gradebook_tools, nbgrader, timed_class

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("feedback_due_date")]

EXERCISE = "ex01_response_only_sft"
POLICY = """
c.CourseLatePenalty.percent_per_day = 10
c.CourseLatePenalty.max_percent = 50
c.CourseLatePenalty.late_days = 1
c.CourseLatePenalty.late_days_spent = "on_request"
"""
LATE = "2026-01-02 06:00:00.000000 UTC"
TIMESTAMPS = {"ada": "2025-12-31 12:00:00.000000 UTC", "bob": LATE, "cat": LATE, "dan": LATE, "eve": LATE}
CLASS_DUE = "2026-01-01 00:00 UTC (the class's due date)"
MOVED = "the class's due date is 2026-01-01 00:00 UTC; yours:"
#: What each student's page says, row by row (label, text).
EXPECTED = {
    "ada": [
        ("Your due date", CLASS_DUE),
        ("Submitted", "2025-12-31 12:00 UTC"),
        ("Lateness", "on time"),
        ("Late penalty", "none"),
        ("Late days", "1 of 1 late days left"),
    ],
    "bob": [
        ("Your due date", CLASS_DUE),
        ("Submitted", "2026-01-02 06:00 UTC"),
        ("Lateness", "30 h 00 min late (2 day(s))"),
        ("Late penalty", "1.6 of 8 (20 %)"),
        ("Late days", "1 of 1 late days left"),
    ],
    "cat": [
        ("Your due date", f"2026-01-03 00:00 UTC ({MOVED} extension +48 h after the class's due date)"),
        ("Submitted", "2026-01-02 06:00 UTC"),
        ("Lateness", "on time"),
        ("Late penalty", "none"),
        ("Late days", "1 of 1 late days left"),
    ],
    "dan": [
        ("Your due date", f"2026-01-02 00:00 UTC ({MOVED} extension until 2026-01-02 00:00 UTC)"),
        ("Submitted", "2026-01-02 06:00 UTC"),
        ("Lateness", "6 h 00 min late (1 day(s))"),
        ("Late penalty", "0.8 of 8 (10 %)"),
        ("Late days", "1 of 1 late days left"),
    ],
    "eve": [
        ("Your due date", f"2026-01-02 00:00 UTC ({MOVED} 1 late day spent)"),
        ("Submitted", "2026-01-02 06:00 UTC"),
        ("Lateness", "6 h 00 min late (1 day(s))"),
        ("Late penalty", "0.8 of 8 (10 %)"),
        ("Late days", "0 of 1 late days left"),
    ],
}
#: student -> (score before the penalty, penalty) in the gradebook
SCORES = {"ada": (8.0, 0.0), "bob": (8.0, 1.6), "cat": (8.0, 0.0), "dan": (8.0, 0.8), "eve": (8.0, 0.8)}


def make_course(root: Path) -> Path:
    timed_class(root, EXERCISE, TIMESTAMPS, POLICY)
    for student in TIMESTAMPS:
        nbgrader("db", "student", "add", student, cwd=root)
    for args in (
        ("calendar", "set", EXERCISE, "--due", "2026-01-01 00:00"),
        ("extension", "grant", "cat", EXERCISE, "--hours", "48", "--reason", "flu"),
        ("extension", "grant", "dan", EXERCISE, "--until", "2026-01-02 00:00", "--reason", "travel"),
        ("extension", "late-days", "eve", EXERCISE, "1"),
    ):
        result = gradebook_tools(*args, cwd=root)
        assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def courses(tmp_path_factory) -> dict[str, Path]:
    plain = make_course(tmp_path_factory.mktemp("plain"))
    nbgrader("autograde", EXERCISE, cwd=plain)
    nbgrader("generate_feedback", EXERCISE, cwd=plain)
    engine = make_course(tmp_path_factory.mktemp("engine"))
    result = gradebook_tools("grade", EXERCISE, "--quiet", cwd=engine)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"nbgrader generate_feedback": plain, "gradebook-tools grade": engine}


def page(root: Path, student: str) -> str:
    return (root / "feedback" / student / EXERCISE / f"{EXERCISE}.html").read_text(encoding="utf-8")


def due_date_rows(text: str) -> list[tuple[str, str]]:
    """The (label, text) rows of the page's due-date section, unescaped."""
    (section,) = re.findall(r'<section class="due-date".*?</section>', text, flags=re.S)
    return [(html.unescape(dt), html.unescape(dd)) for dt, dd in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section)]


@pytest.mark.parametrize("path", ["nbgrader generate_feedback", "gradebook-tools grade"])
def test_each_page_states_the_students_own_due_date_lateness_and_penalty(courses, path):
    root = courses[path]
    assert {student: due_date_rows(page(root, student)) for student in TIMESTAMPS} == EXPECTED


@pytest.mark.parametrize("path", ["nbgrader generate_feedback", "gradebook-tools grade"])
def test_the_gradebook_holds_the_scores_the_pages_state(courses, path):
    root = courses[path]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        got = {
            s.student.id: (s.code_score, round(s.late_submission_penalty, 6))
            for s in gradebook.find_assignment(EXERCISE).submissions
        }
    gradebook.engine.dispose()
    assert got == SCORES
    for student, (score, penalty) in SCORES.items():
        heading = re.search(r'<h1 class="page-title">(.*?)</h1>', page(root, student), flags=re.S)
        assert heading is not None
        assert f"(Score: {round(score - penalty, 2)} / 10.0)" in heading[1]


def test_the_section_is_inside_the_main_landmark_under_the_title(courses):
    text = page(courses["gradebook-tools grade"], "bob")
    main = text.index("<main>")
    title, section, end = (
        text.index('<h1 class="page-title">'),
        text.index('<section class="due-date"'),
        text.index("</main>"),
    )
    assert main < title < section < end
    assert '<h2 id="due-date-heading">Your due date and lateness</h2>' in text
    assert "<script" not in text  # rendered offline: nothing to run, nothing fetched


def test_the_page_with_its_due_date_meets_wcag_aa(courses, chromium):
    from axe_playwright_python.sync_playwright import Axe

    browser_page = chromium.new_page(viewport=VIEWPORT)
    browser_page.goto((courses["gradebook-tools grade"] / "feedback" / "dan" / EXERCISE / f"{EXERCISE}.html").as_uri())
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    rules = ["page-has-heading-one", "heading-order", "landmark-one-main", "region"]
    for options in ({"runOnly": {"type": "tag", "values": tags}}, {"runOnly": {"type": "rule", "values": rules}}):
        violations = Axe().run(browser_page, options=options).response["violations"]
        assert violations == [], [(v["id"], v["nodes"][0]["html"][:200]) for v in violations]
    assert browser_page.locator("main section.due-date dd").nth(2).inner_text() == "6 h 00 min late (1 day(s))"
    browser_page.close()
