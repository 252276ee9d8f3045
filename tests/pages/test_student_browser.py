"""The student's path in a real browser, as separate Unix users (issue 9, property 5).

Two students, each a Unix user made for this run with a JupyterLab server of
their own (nbgrader's lab extension from the project's environment, the
formgrader switched off as docs/course_workflow.md says), and the instructor
(root) in a copy of the course, all on one scratch exchange. In headless
Debian chromium:

- both students fetch the exercise in the *Assignments* tab and open it from
  there; ``blank`` clicks the notebook's *Validate* button on the release as
  fetched and is shown the failing tests; ``good`` gets the solution code
  written into the fetched notebook (as that user), types the explanation into
  the notebook, clicks *Validate* and is shown success; both submit in the tab;
- the instructor collects and runs ``gradebook-tools grade``; the TA grades
  good's explanation (1.5 of 2) in the *Formgrader* tab of the instructor's
  JupyterLab; ``gradebook-tools feedback`` remakes the page and ``nbgrader
  release_feedback`` hands it out;
- ``good`` fetches the feedback in the *Assignments* tab, ``blank`` with
  ``nbgrader fetch_feedback``; each opens the page: 9.5 / 10.0 and 0.0 / 10.0.

No page a student is shown holds hidden tests (their markers or any of their
lines), and the blank student's pages no reference code. On failure, every
open page is saved as a screenshot and the folder is printed.
"""

from __future__ import annotations

import contextlib
import html
import secrets
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.ledger import read_ledger
from tests.support.browser import CHROMIUM, NO_CHROMIUM, launch_chromium
from tests.support.course import fill_answers, nbgrader, read_notebook, solution_code
from tests.support.course import gradebook_tools as run_gradebook_tools
from tests.support.lab_session import (
    STUDENT_USERS,
    SYSTEM_PYTHON,
    VENV,
    Student,
    course_server,
    course_with_exchange,
    student_python,
)

COURSE_ID = "alignment-monitoring"
EXERCISE = "ex01_response_only_sft"
EXPLANATION = (
    "A lower loss can be a false win when the mask lets user tokens in. Before shipping I would "
    "compare the response-only NLL on a held-out set with the production model."
)
#: Always on a page a student sees: never the markers of what generate_assignment strips.
MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION")
SECOND = 1000  # Playwright counts milliseconds
UI_TIMEOUT = 60 * SECOND
KERNEL_TIMEOUT = 300 * SECOND

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
    *STUDENT_USERS,
]


# --- what a student must never be shown --------------------------------------------


def _region_lines(source: str, begin: str, end: str) -> list[str]:
    inside, lines = False, []
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def secret_lines(source_notebook, release_notebook, begin: str, end: str) -> list[str]:
    """The distinctive lines between ``begin`` and ``end`` markers of the source, none of them in the release."""
    released = "\n".join(cell.source for cell in release_notebook.cells)
    lines = {line for cell in source_notebook.cells for line in _region_lines(cell.source, begin, end)}
    return sorted(line for line in lines if len(line) >= 20 and line not in released)


def assert_shows_nothing_hidden(page, forbidden: list[str], where: str) -> None:
    # the DOM, entities decoded (a line with `<` or `&` is escaped there), and the text as laid out
    page_text = html.unescape(page.content()) + "\n" + page.locator("body").inner_text()
    shown = [text for text in forbidden if text in page_text]
    assert not shown, f"{where} shows what the student must not see: {shown[:3]}"


# --- the browser ---------------------------------------------------------------------


@contextlib.contextmanager
def screenshots_on_failure(browser):
    """On an exception, save every open page of ``browser`` and name the folder in the error."""
    try:
        yield
    except BaseException as error:
        folder = Path(tempfile.mkdtemp(prefix="student-browser-screenshots-"))
        for c, context in enumerate(browser.contexts):
            for p, page in enumerate(context.pages):
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(folder / f"context{c}-page{p}.png"), full_page=True, timeout=20 * SECOND)
        print(f"screenshots of the failed browser test: {folder}")
        error.add_note(f"screenshots: {folder}")
        raise


def open_lab(context, url: str, token: str):
    """A JupyterLab page in a workspace of its own (empty), once nbgrader's menu is there."""
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT)
    # not ?reset: JupyterLab resets again (reloading the page) when a link changes the URL's #fragment
    page.goto(f"{url}/lab/workspaces/test-{secrets.token_hex(4)}?token={token}")
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").wait_for()
    return page


def nbgrader_menu(page, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text=item).first.click()


def nbgrader_menu_items(page) -> list[str]:
    """The items the *Nbgrader* menu shows (a switched-off plugin's items are hidden)."""
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text="Assignment List").wait_for()
    items = [text.strip() for text in page.locator(".lm-Menu-item").all_inner_texts() if text.strip()]
    page.keyboard.press("Escape")
    return items


def open_assignments_tab(page) -> None:
    nbgrader_menu(page, "Assignment List")
    page.locator("#nbgrader-assignment-list").wait_for()


def fetch_in_assignments_tab(page) -> None:
    open_assignments_tab(page)
    page.locator(f"#released_assignments_list .list_item:has-text('{EXERCISE}') button", has_text="Fetch").click()
    page.locator(f"#fetched_assignments_list .list_item:has-text('{EXERCISE}')").first.wait_for()


def open_notebook_from_assignments_tab(page):
    """Open the fetched notebook from the tab; the notebook panel, its kernel idle."""
    fetched = page.locator("#fetched_assignments_list")
    fetched.locator(".assignment-notebooks-link", has_text=EXERCISE).click()
    fetched.locator(".nested_list_item a", has_text=EXERCISE).click()
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".validate-button").wait_for()
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=KERNEL_TIMEOUT)
    return panel


def validate_in_notebook(page, panel) -> str:
    """Click the notebook toolbar's *Validate*; the text of nbgrader's result dialog, which is then closed."""
    panel.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog:has(#validation-message)")
    dialog.wait_for(timeout=KERNEL_TIMEOUT)
    text = dialog.locator("#validation-message").inner_text()
    return text


def close_dialog(page) -> None:
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def type_explanation(page, panel, text: str) -> None:
    """Edit the explanation cell as a student does: double-click, replace its text, render.

    Not saved here: *Validate* saves first (a second save racing it would see the
    file changed on disk and ask).
    """
    cell = panel.locator(".jp-MarkdownCell", has_text="YOUR ANSWER HERE")
    cell.scroll_into_view_if_needed()
    cell.dblclick()
    editor = cell.locator(".cm-content")
    editor.wait_for()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.keyboard.press("Shift+Enter")
    panel.locator(".jp-MarkdownCell", has_text=text[:40]).locator(".jp-RenderedMarkdown").wait_for()


def submit_in_assignments_tab(page) -> None:
    page.locator(".lm-TabBar-tab", has_text="Assignments").click()
    page.locator(f"#fetched_assignments_list .list_item:has-text('{EXERCISE}') button", has_text="Submit").click()
    page.locator(f"#submitted_assignments_list .list_item:has-text('{EXERCISE}')").first.wait_for()


def files_url(student: Student, path: Path) -> str:
    relative = urllib.parse.quote(str(path.relative_to(student.home)))
    return f"{student.url}/files/{relative}?token={student.token}"


# --- the instructor -------------------------------------------------------------------


def gradebook_tools(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = run_gradebook_tools(*args, cwd=cwd, timeout=1200)
    assert result.returncode == 0, f"gradebook-tools {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def scores(course: Path, student: str) -> tuple[float, float | None]:
    """The submission's total and the explanation's manual score, read back from the gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        total = gradebook.find_submission(EXERCISE, student).score
        manual = gradebook.find_grade("explanation", EXERCISE, EXERCISE, student).manual_score
    return total, manual


def grade_explanation_in_formgrader(page, student: str, points: float) -> None:
    """The TA's path: Formgrader tab -> Manual Grading -> exercise -> notebook -> the student's submission."""
    nbgrader_menu(page, "Formgrader")
    formgrader = page.frame_locator(".jp-MainAreaWidget:visible iframe").first
    formgrader.locator("a", has_text="Manual Grading").first.click()
    formgrader.locator("table a", has_text=EXERCISE).click()  # the exercise: its notebooks
    formgrader.locator("th", has_text="Notebook ID").wait_for()
    formgrader.locator("table a", has_text=EXERCISE).click()  # the notebook: its submissions
    formgrader.locator("#main-table a.name-hidden").first.wait_for()  # the table is filled by script
    formgrader.get_by_text("Show All Names").click()
    formgrader.locator("a.name-shown", has_text=student).click()
    score = formgrader.locator("input.score#explanation")
    score.wait_for()
    score.fill(str(points))
    score.press("Tab")  # the formgrader saves a grade when its field changes


def wait_for_manual_score(course: Path, student: str, points: float, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scores(course, student)[1] == points:
            return
        time.sleep(0.5)
    raise AssertionError(
        f"the formgrader did not record {points} for {student}'s explanation "
        f"within {timeout:.0f} s (gradebook: {scores(course, student)})"
    )


# --- the classroom ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def classroom():
    """The course released on a scratch exchange, two students with a JupyterLab each, a browser.

    Yields a dict: ``course`` (root's copy, unreadable to students), ``exchange``,
    ``good`` and ``blank`` (Students, servers running), ``logs``, ``browser``.
    """
    with contextlib.ExitStack() as undo:
        base, exchange, course = course_with_exchange(undo, "student-browser-", [EXERCISE])
        logs = base / "logs"
        logs.mkdir()
        nbgrader("release_assignment", EXERCISE, cwd=course)

        run = secrets.token_hex(3)
        students = {}
        for role in ("good", "blank"):
            student = students[role] = Student(f"nbg{run}{role}", exchange, COURSE_ID)
            undo.callback(student.remove)
        chosen = student_python(students["good"].user, base)
        if chosen is None:
            pytest.skip(f"the students cannot run {VENV}/bin/python and there is no {SYSTEM_PYTHON}")
        python, environment = chosen
        for student in students.values():
            student.python = python
            student.configure()
        for student in students.values():
            student.start_lab(logs)
            log = student.log.read_text()  # nbgrader's lab extension comes from the project's environment
            assert f"JupyterLab application directory is {environment}/share/jupyter/lab" in log, log[-2000:]

        browser = undo.enter_context(launch_chromium())
        yield {"course": course, "exchange": exchange, "logs": logs, "browser": browser, **students}


def test_students_fetch_validate_submit_and_read_their_feedback(classroom):
    course, browser = classroom["course"], classroom["browser"]
    good, blank = classroom["good"], classroom["blank"]
    source = read_notebook(course / "source" / EXERCISE / f"{EXERCISE}.ipynb")
    release = read_notebook(course / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    hidden = list(MARKERS) + secret_lines(source, release, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    reference = secret_lines(source, release, "BEGIN SOLUTION", "END SOLUTION")
    assert len(hidden) > len(MARKERS) and reference  # the checks below can fail

    # the course copy is the instructor's: no student may read it
    peek = blank.run("cat", str(course / "source" / EXERCISE / f"{EXERCISE}.ipynb"), check=False)
    assert peek.returncode != 0 and "Permission denied" in peek.stderr

    with screenshots_on_failure(browser):
        # --- the blank student: fetch, Validate the release as fetched, submit it
        blank_page = open_lab(browser.new_context(viewport={"width": 1400, "height": 1000}), blank.url, blank.token)
        assert nbgrader_menu_items(blank_page) == ["Assignment List", "Course List"]  # no formgrader for students
        fetch_in_assignments_tab(blank_page)
        fetched = blank.home / EXERCISE / f"{EXERCISE}.ipynb"
        assert fetched.read_bytes() == (course / "release" / EXERCISE / f"{EXERCISE}.ipynb").read_bytes()
        assert fetched.stat().st_uid == int(blank.run("id", "-u").stdout)
        panel = open_notebook_from_assignments_tab(blank_page)
        report = validate_in_notebook(blank_page, panel)
        assert "The following cell failed:" in report and "NotImplementedError" in report, report
        assert "Success" not in report, report
        assert_shows_nothing_hidden(blank_page, hidden + reference, "the blank student's validation")
        close_dialog(blank_page)
        submit_in_assignments_tab(blank_page)

        # --- the good student: fetch, the code written in, the explanation typed, Validate, submit
        good_page = open_lab(browser.new_context(viewport={"width": 1400, "height": 1000}), good.url, good.token)
        fetch_in_assignments_tab(good_page)
        answers = {cell: code for cell, code in solution_code(source).items() if cell != "explanation"}
        notebook = fill_answers(read_notebook(good.home / EXERCISE / f"{EXERCISE}.ipynb"), answers)
        good.write_file(f"{EXERCISE}/{EXERCISE}.ipynb", nbformat.writes(notebook))
        panel = open_notebook_from_assignments_tab(good_page)
        type_explanation(good_page, panel, EXPLANATION)
        report = validate_in_notebook(good_page, panel)
        assert report.strip() == "Success! Your notebook passes all the tests.", report
        assert_shows_nothing_hidden(good_page, hidden, "the good student's validation")
        close_dialog(good_page)
        saved = read_notebook(good.home / EXERCISE / f"{EXERCISE}.ipynb")
        assert [c.source for c in saved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "explanation"] == [
            EXPLANATION
        ]
        submit_in_assignments_tab(good_page)

        inbound = classroom["exchange"] / COURSE_ID / "inbound"
        assert sorted(path.name.split("+")[0] for path in inbound.iterdir()) == sorted([good.user, blank.user])

        # --- the instructor: collect, grade; the TA grades the explanation in the formgrader
        nbgrader("collect", EXERCISE, cwd=course)
        assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted([good.user, blank.user])
        gradebook_tools("grade", EXERCISE, "--quiet", cwd=course)
        assert scores(course, good.user) == (8.0, None)
        assert scores(course, blank.user)[0] == 0.0
        with course_server(course, classroom["logs"] / "jupyterlab-instructor.log") as (url, token):
            ta_page = open_lab(browser.new_context(viewport={"width": 1400, "height": 1000}), url, token)
            grade_explanation_in_formgrader(ta_page, good.user, 1.5)
            wait_for_manual_score(course, good.user, 1.5)
        assert scores(course, good.user) == (9.5, 1.5)
        # the TA's grade is in the ledger: the Jupyter user and the formgrader's request (docs/calendar.md)
        typed = [e for e in read_ledger(f"sqlite:///{course / 'gradebook.db'}", student=good.user) if e.kind == "score"]
        typed = [e for e in typed if e.why.startswith("formgrader (PUT /formgrader/api/grade/")]
        assert typed and typed[-1].new == 1.5 and all(e.who.endswith(" (Jupyter)") for e in typed), typed
        gradebook_tools("feedback", cwd=course)
        nbgrader("release_feedback", EXERCISE, cwd=course)

        # --- the students fetch their feedback and open it
        good_page.reload()
        good_page.locator(".lm-MenuBar-item", has_text="Nbgrader").wait_for()
        open_assignments_tab(good_page)
        good_page.locator("#refresh_assignments_list").click()
        submitted = good_page.locator(f"#submitted_assignments_list .list_item:has-text('{EXERCISE}')").first
        submitted.locator("button", has_text="Fetch Feedback").click()
        submitted.locator("a", has_text="view feedback").wait_for()
        blank.nbgrader("fetch_feedback", EXERCISE, "--course", COURSE_ID)

        for student, page, total, forbidden in (
            (good, good_page, "9.5", hidden),
            (blank, blank_page, "0.0", hidden + reference),
        ):
            pages = list((student.home / EXERCISE / "feedback").glob(f"*/{EXERCISE}.html"))
            assert len(pages) == 1, pages
            page.goto(files_url(student, pages[0]))
            text = page.locator("body").inner_text()
            assert f"Score: {total} / 10.0" in text, text[:2000]
            assert_shows_nothing_hidden(page, forbidden, f"{student.user}'s feedback page")
