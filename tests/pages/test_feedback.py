"""Students' feedback, as a real headless Chromium shows it.

One class is graded with real ``nbgrader autograde`` and ``nbgrader
generate_feedback``: a correct student, one whose ``response_only_loss`` is
wrong, one whose submission is recorded as failed and one who submitted
nothing. The per-exercise reports and the summary pages must show the student's
code, the score of every check, the grader's verdict and the failure reason, and
must not show the hidden tests, the hidden inputs or expected values, nor
anything of the grader's code.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gradebook_tools.cli import EXIT_OK, main
from gradebook_tools.course.cells import is_graded_test_cell
from gradebook_tools.course.config import load_course_config
from gradebook_tools.gradebook.outcomes import FAILED, StatusStore
from gradebook_tools.grading import reference
from gradebook_tools.grading.checks import checks_for
from gradebook_tools.grading.compare import RaisesValueError, Verdict, expected_result
from gradebook_tools.grading.execute import case_seed
from gradebook_tools.grading.verdict import VERDICT_KEY, render_verdict, verdict_metadata
from gradebook_tools.pages.feedback_preprocessors import ClearHiddenTestsInFeedback
from gradebook_tools.pages.student_summary import (
    GRADED,
    REVIEW_CELLS,
    CheckResult,
    ExerciseResult,
    StudentSummary,
    failed_inputs,
    write_student_summaries,
)
from tests.support.browser import VIEWPORT
from tests.support.course import fill_answers, nbgrader, solution_code

EXERCISE = "ex01_response_only_sft"
WRONG_LOSS = "def response_only_loss(logits, targets, response_mask):\n    return 0.430108  # wrong_loss_marker\n"
LOSS_CELLS = ("test_response_only_loss_values", "test_response_only_loss_edge_cases")
FAILURE_REASON = "the notebook is not valid JSON (it was saved by another program)"
#: Never on a student's page: the grader's internals.
FORBIDDEN = (
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "course_probe",
    "course-probe",
    "gradebook_tools",
    "reference.py",
    "grading.reference",
    "ANSWERS",
)


@pytest.fixture(scope="module")
def graded(make_course, browser):
    """The class, autograded once, with feedback and summaries written."""
    course = make_course([EXERCISE])
    release, solution = course.release(EXERCISE), solution_code(course.source(EXERCISE))
    course.submit("alice", EXERCISE, fill_answers(release, solution))
    course.submit("bob", EXERCISE, fill_answers(release, dict(solution, response_only_loss=WRONG_LOSS)))
    course.autograde(EXERCISE)
    nbgrader("db", "student", "add", "carol", "--first-name=Carol", "--last-name=Lee", cwd=course.root)
    nbgrader("db", "student", "add", "dave", cwd=course.root)
    StatusStore(course.db_url).record(EXERCISE, "carol", FAILED, FAILURE_REASON)
    nbgrader("generate_feedback", EXERCISE, cwd=course.root)
    course.summaries = write_student_summaries(course.root)
    return course


@pytest.fixture(scope="module")
def browser(chromium):
    """One page of the module's Chromium (:mod:`tests.support.browser`)."""
    return chromium.new_page(viewport=VIEWPORT)


def show(page, path: Path) -> tuple[str, str]:
    """Open a file in the browser: its visible text and its HTML as loaded."""
    page.goto(path.as_uri())
    return page.inner_text("body"), page.content()


def feedback_html(course, student: str) -> Path:
    return course.root / "feedback" / student / EXERCISE / f"{EXERCISE}.html"


def autograded_test_cells(course, student: str) -> dict:
    notebook = nbformat.read(course.root / "autograded" / student / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in notebook.cells if is_graded_test_cell(cell)}


def verdict_text(cell) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream")


def hidden_comments(course) -> list[str]:
    """The text inside the source's hidden test regions."""
    regions = re.findall(
        r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
        "\n".join(cell.source for cell in course.source(EXERCISE).cells),
        re.S,
    )
    lines = [line.strip("# ").strip() for region in regions for line in region.splitlines()]
    return [line for line in lines if len(line) > 10]


def _numbers(value) -> list[float]:
    if isinstance(value, RaisesValueError) or isinstance(value, (bool, str)):
        return []
    if isinstance(value, (list, tuple)):
        return [number for item in value for number in _numbers(item)]
    array = np.asarray(value)
    return [float(x) for x in array.ravel()] if array.dtype.kind == "f" else []


def hidden_values(course, student: str) -> set[str]:
    """The student's hidden inputs and expected results, as a page would print them (6 digits).

    Short or whole numbers, and numbers that the released notebook already shows, are left out.
    """
    salt = load_course_config(course.root).get("TrustedExecute", {}).get("seed_salt", "")
    released = nbformat.writes(course.release(EXERCISE))
    shown = set()
    for grade_id, check in checks_for(EXERCISE).items():
        rng = np.random.default_rng(case_seed(salt, EXERCISE, EXERCISE, student, grade_id))
        trusted = check.reference or getattr(reference, check.target)
        for case in check.make_cases(rng):
            if case.visible:
                continue
            values = _numbers(list(case.args) + list(case.kwargs.values())) + _numbers(expected_result(trusted, case))
            shown |= {f"{value:.6g}" for value in values if np.isfinite(value)}
    return {text for text in shown if text not in released and _significant_digits(text) >= 4}


def _significant_digits(text: str) -> int:
    """Digits of a number's text after leading zeros; 0 for one without a decimal point."""
    return len(text.lstrip("-").replace(".", "").lstrip("0")) if "." in text and "e" not in text else 0


def _normal(text: str) -> str:
    """Text without Markdown's emphasis, code and quote marks, whitespace collapsed."""
    return " ".join(re.sub(r"(?m)^\s*>\s?", "", text).replace("*", "").replace("`", "").split())


def assert_nothing_hidden(course, text: str, html: str, student: str) -> None:
    for forbidden in FORBIDDEN + tuple(hidden_comments(course)):
        assert forbidden not in html, f"{forbidden!r} is on {student}'s page"
    leaked = sorted(value for value in hidden_values(course, student) if value in text)
    assert not leaked, f"hidden inputs or expected values on {student}'s page: {leaked[:5]}"
    # "reference" only where the student's own notebook or the grader's verdict says it
    # ("differs from the reference by ..."), never the reference computations.
    allowed = _normal(
        " ".join(cell.source for cell in course.release(EXERCISE).cells)
        + " ".join(
            verdict_text(cell)
            for student_ in ("alice", "bob")
            for cell in autograded_test_cells(course, student_).values()
        )
    )
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if "reference" in sentence.lower():
                assert _normal(sentence) in allowed, f"{sentence!r} on {student}'s page"


@pytest.mark.slow
def test_exercise_feedback_shows_code_scores_and_verdicts(graded, browser):
    text, _ = show(browser, feedback_html(graded, "bob"))
    assert "wrong_loss_marker" in text, "the student's own code is shown"
    scores, maxima = graded.auto_scores(EXERCISE, "bob"), graded.max_scores(EXERCISE)
    for grade_id, cell in autograded_test_cells(graded, "bob").items():
        heading = browser.locator(
            f"xpath=//a[@name='{grade_id}']/following-sibling::div[contains(@class, 'panel-heading')][1]"
        )
        assert f"Score: {round(scores[grade_id], 2)} / {round(maxima[grade_id], 2)}" in heading.inner_text()
        for line in verdict_text(cell).splitlines():
            assert line.strip() in text, f"verdict line of {grade_id} is shown"
    assert {grade_id for grade_id in LOSS_CELLS if scores[grade_id] == 0} == set(LOSS_CELLS)
    assert text.count("HiddenCheckFailed") == len(LOSS_CELLS)
    assert "✗ float32 logits" in text and "✓ the worked example" in text
    assert "# Hidden tests: the grader's verdict on them is the output below." in text


@pytest.mark.slow
@pytest.mark.parametrize("student", ["alice", "bob"])
def test_exercise_feedback_hides_hidden_tests(graded, browser, student):
    text, html = show(browser, feedback_html(graded, student))
    assert "Hidden checks: response_only_loss is the token-level mean NLL over response tokens" in text
    assert_nothing_hidden(graded, text, html, student)


@pytest.mark.slow
def test_summary_of_a_partly_wrong_student(graded, browser, tmp_path):
    text, html = show(browser, graded.root / "feedback" / "bob" / "index.html")
    points = sum(graded.auto_scores(EXERCISE, "bob").values())
    sections = browser.locator("#sections + table").inner_text()
    assert re.search(rf"mechanics\s+{EXERCISE}\s+{points:g} / 10\s+{10 * points:.1f}%", sections), sections
    assert re.search(r"theory\s+0 / 0\s+–\s+nothing released yet", sections), sections
    review = browser.locator("ol.review").inner_text()
    assert review.index(LOSS_CELLS[0]) < review.index("failed on"), review
    for grade_id in LOSS_CELLS:
        assert f"{grade_id}: 0 / " in review
    assert "float32 logits" in review and "a negative target" in review
    assert "test_log_softmax_values" not in review, "only checks that lost points are listed"
    assert_nothing_hidden(graded, text, html, "bob")
    browser.screenshot(path=str(tmp_path / "bob.png"), full_page=True)
    assert (tmp_path / "bob.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    browser.get_by_role("link", name=EXERCISE).first.click()
    assert browser.title() == EXERCISE, "the summary links to the exercise's feedback"


@pytest.mark.slow
def test_summary_of_failed_missing_and_complete_students(graded, browser, capsys):
    assert sorted(path.parent.name for path in graded.summaries) == ["alice", "bob", "carol", "dave"]
    assert main(["feedback", "--course", str(graded.root)]) == EXIT_OK
    assert "4 student summaries written" in capsys.readouterr().out
    text, html = show(browser, graded.root / "feedback" / "carol" / "index.html")
    assert "Results of Lee, Carol" in text
    assert f"Your submission could not be graded: {FAILURE_REASON}" in text
    assert browser.locator(f"#exercise-{EXERCISE} a").count() == 0, "no feedback link for a failed submission"
    assert re.search(
        r"mechanics\s+" + EXERCISE + r"\s+0 / 10\s+0.0%\s+not graded: " + EXERCISE,
        browser.locator("#sections + table").inner_text(),
    )
    text, _ = show(browser, graded.root / "feedback" / "dave" / "index.html")
    assert "Not graded: nothing was submitted" in text
    text, html = show(browser, graded.root / "feedback" / "alice" / "index.html")
    assert "8 / 10" in text and "2 points awaiting a manual grade" in text
    assert "Nothing: every graded exercise earned all its points so far." in text
    assert_nothing_hidden(graded, text, html, "alice")


def test_hidden_regions_are_cleared_from_test_cells_only():
    test_cell = new_code_cell(
        "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(7) == 8\n### END HIDDEN TESTS\n",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "test_f", "points": 1}},
    )
    own_cell = new_code_cell(
        "# ### BEGIN HIDDEN TESTS, said the student\ndef f(x):\n    return x + 1\n",
        metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": "f", "points": 0}},
    )
    notebook, _ = ClearHiddenTestsInFeedback().preprocess(new_notebook(cells=[test_cell, own_cell]), {})
    assert notebook.cells[0].source == "assert f(1) == 2\n" + ClearHiddenTestsInFeedback.note.default_value
    assert notebook.cells[1].source == own_cell.source


def test_failed_inputs_are_read_from_the_verdict():
    verdicts = [
        Verdict("a small case", True),
        Verdict("float32 logits", False, "differs: by 2"),
        Verdict("random batches", False, "raised TypeError on a valid input: x: y"),
        Verdict("random batches", True),
    ]
    cell = new_code_cell(
        "",
        outputs=render_verdict("f is right", verdicts),
        metadata={VERDICT_KEY: verdict_metadata("f is right", verdicts)},
    )
    assert failed_inputs(cell) == ("float32 logits", "random batches")
    assert failed_inputs(new_code_cell("", outputs=[])) == ()
    # the verdict is read as data: text that merely looks like a verdict says nothing
    forged = new_code_cell("", outputs=render_verdict("f is right", [Verdict("a forged kind", False, "x")]))
    assert failed_inputs(forged) == ()


def test_review_names_the_few_cells_that_cost_the_most_points():
    """A weak student: ten exercises, three lossy cells each; the review names five cells, not thirty."""

    def exercise(number: int, losses: tuple[float, ...], state: str = GRADED) -> ExerciseResult:
        name = f"ex{number:02d}"
        checks = tuple(CheckResult(name, f"test_{name}_{i}", 2.0 - lost, 2.0, False) for i, lost in enumerate(losses))
        checks += (CheckResult(name, "explanation", 0.0, 2.0, True),)  # pending: costs nothing yet
        score = sum(c.score for c in checks)
        return ExerciseResult(name, "s", state, score, 10.0, "", 2.0, (), checks)

    exercises = [exercise(n, (0.5, 1.0, 1.5)) for n in range(1, 10)] + [exercise(10, (2.0, 0.5, 0.0))]
    summary = StudentSummary("weak", "Weak, Student", exercises, table=None)
    assert REVIEW_CELLS == 5
    # ex10 lost 2 on one cell; then the 1.5s, lowest share first (all 6.0/10: course order)
    assert [(e.assignment, c.grade_id) for e, c in summary.review] == [
        ("ex10", "test_ex10_0"),
        ("ex01", "test_ex01_2"),
        ("ex02", "test_ex02_2"),
        ("ex03", "test_ex03_2"),
        ("ex04", "test_ex04_2"),
    ]
