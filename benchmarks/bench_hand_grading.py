"""Hand grading throughput: the hand-grading view against nbgrader's formgrader, keyboard only (issue 19).

A class of 50 ex01 submissions is graded by the engine (``gradebook-tools grade``),
then JupyterLab starts in the course with the formgrader and the extension, and
headless Chromium (Debian's) grades the 50 explanations twice, with the keyboard
only, giving each answer the same grade and the same comment both times:

- in the view: a rubric of three items exists (made before timing, once per
  cell); per answer the TA presses the keys of the items but the last, then the
  last with Shift (Shift+digit ticks the item, saves and shows the next
  ungraded answer: items 1 and 2 are ``1``, ``Shift+2``; one item is one key);
- in the formgrader: from the first submission's page, per answer the TA types
  the score, Tabs past the extra credit to the comment, types the comment,
  Shift+Tabs back to the score (leaving the comment saves it), and presses
  Control+. (the formgrader's own "same input of the next submission", as its
  keyboard help says).

Actions are counted two ways: every key press (a typed comment costs a key per
character: the keystroke-level count), and with each typed text counted as one
action. A key with its modifier is one press and one action, in both runs
(``Shift+2`` in the view as ``Control+.`` and ``Shift+Tab`` in the formgrader).
Seconds are wall time from the first key to the last grade read back through
nbgrader's API, on this machine. Both runs are checked: the 50 scores and
comments in the gradebook are exactly those given.

Run: ``.venv/bin/python benchmarks/bench_hand_grading.py [--students 50]``
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbgrader.api import Gradebook
from playwright.sync_api import Error as PlaywrightError

from gradebook_tools.gradebook import rubrics
from tests.server.hand_grading_class import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXERCISE,
    build_graded_class,
    class_list,
    db_url,
    explanation_grades,
    lab_server,
    quiet,
    view_url,
)

ITEMS = [
    (1.0, "Names a false win", "You said how a lower loss can mislead."),
    (1.0, "Names the regression metric", "Held-out response-only NLL against production."),
    (-0.5, "No blocking rule", "Say which result blocks the release."),
]
#: The grade of the n-th answer: which items (keys), cycling through a realistic mix; the last key is pressed
#: with Shift in the view (tick, save, next ungraded).
PATTERNS = [("1", "2"), ("1",), ("2",), ("1", "2", "3"), ("2", "3")]


#: What the formgrader's script needs of MathJax: the start-up signal (MathJax itself is not needed to grade).
MATHJAX_STAND_IN = (
    "window.MathJax = {Hub: {Startup: {signal: {Interest: function (f) { setTimeout(function () { f('End'); }, 0); }}},"
    " Queue: function () {}, Config: function () {}, Typeset: function () {}}};"
)

#: The formgrader's page has its grades, comments and keyboard shortcuts.
FORMGRADER_READY = (
    "() => window.formgrader && formgrader.loaded && formgrader.grades.loaded && formgrader.comments.loaded"
)


@dataclass
class Run:
    name: str
    grades: int
    key_presses: int
    actions_text_as_one: int
    seconds: float

    def line(self) -> str:
        return (
            f"{self.name:<12} {self.grades} grades  {self.key_presses / self.grades:6.1f} key presses/grade  "
            f"{self.actions_text_as_one / self.grades:5.1f} actions/grade (typed text = 1)  "
            f"{self.seconds / self.grades:5.2f} s/grade  ({self.seconds:.1f} s)"
        )


def expected(students: list[str]) -> dict[str, tuple[float, str]]:
    """The grade and comment every answer must end with (both tools give the same)."""
    items = [rubrics.RubricItem(i + 1, p, label, comment, i + 1) for i, (p, label, comment) in enumerate(ITEMS)]
    grades = {}
    for number, student in enumerate(students):
        chosen = [items[int(key) - 1] for key in PATTERNS[number % len(PATTERNS)]]
        grades[student] = rubrics.compose(chosen, "", 0.0, 2.0)
    return grades


class Counter:
    """The page's keyboard, counting what is pressed and typed."""

    def __init__(self, page):
        self.page, self.presses, self.actions = page, 0, 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.presses += 1
        self.actions += 1

    def tab_to(self, element_id: str, backwards: bool = False, limit: int = 60) -> None:
        """Tab (or Shift+Tab) until the element ``element_id`` has the focus."""
        for _ in range(limit):
            if self.page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
                return
            self.press("Shift+Tab" if backwards else "Tab")
        raise AssertionError(f"Tab never reached #{element_id}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.presses += len(text)
        self.actions += 1


def make_rubric(root: Path) -> None:
    with quiet(), Gradebook(db_url(root)) as gradebook:
        rubrics.create_tables(gradebook.engine)
        for points, label, comment in ITEMS:
            rubrics.add_item(gradebook.db, EXERCISE, EXERCISE, "explanation", points, label, comment)
        gradebook.db.commit()


def clear_manual_grades(root: Path) -> None:
    """Every explanation ungraded again (between the two runs), through nbgrader's models."""
    with quiet(), Gradebook(db_url(root)) as gradebook:
        for submission in gradebook.find_assignment(EXERCISE).submissions:
            student = submission.student.id
            grade = gradebook.find_grade("explanation", EXERCISE, EXERCISE, student)
            grade.manual_score, grade.needs_manual_grade = None, True
            gradebook.find_comment("explanation", EXERCISE, EXERCISE, student).manual_comment = None
        gradebook.db.commit()


def grade_in_view(page, url: str, token: str, students: list[str]) -> Run:
    keys = Counter(page)
    start = time.monotonic()
    page.goto(view_url(url, token))  # the TA opens the view once (a link in the index)
    page.locator("#view[data-ready='1']").wait_for()
    for number in range(len(students)):
        student = page.locator("#identity").inner_text().rsplit("(", 1)[1].rstrip(")")
        *items, last = PATTERNS[students.index(student) % len(PATTERNS)]
        for key in items:
            keys.press(key)
        keys.press(f"Shift+Digit{last}")  # the last item, saved, the next ungraded answer shown (US keyboard)
        page.locator("#progress", has_text=f"{number + 1} graded").wait_for()
    seconds = time.monotonic() - start
    return Run("view", len(students), keys.presses + 1, keys.actions + 1, seconds)  # + the page opened


def grade_in_formgrader(page, url: str, token: str, root: Path, students: list[str], want: dict) -> Run:
    """``want``: student -> (score, comment typed on one line)."""
    with quiet(), Gradebook(db_url(root)) as gradebook:
        student_of = {
            gradebook.find_submission_notebook(EXERCISE, EXERCISE, student).id: student for student in students
        }
    first = sorted(student_of)[0]  # the formgrader's order: by submission id
    # the formgrader loads MathJax from a CDN, and its keyboard shortcuts start only once MathJax has (offline
    # they never do): a stand-in that says MathJax started, as it does online, served instead of the CDN's
    page.route(
        "https://cdnjs.cloudflare.com/**",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=MATHJAX_STAND_IN),
    )
    keys = Counter(page)
    start = time.monotonic()
    page.goto(f"{url}/formgrader/submissions/{first}/?token={token}")  # from Manual Grading, once
    page.wait_for_function(FORMGRADER_READY)
    # the formgrader's Tab moves between its inputs (scores, extra credits, comments) and buttons
    keys.tab_to("explanation")
    graded: list[str] = []
    aborted: list[str] = []
    while len(graded) < len(students):
        graded_url = page.url
        student = student_of[_submission_of(graded_url)]
        value, comment = want[student]
        keys.type(f"{value:g}")
        keys.tab_to("explanation-comment")
        keys.type(comment)
        keys.tab_to("explanation", backwards=True)  # leaving the comment saves it
        graded.append(student)
        if len(graded) == len(students):
            keys.press("Escape")  # defocus: the formgrader saves the field
            break
        # Control+. saves the field and opens the next submission at the same input (the score)
        try:
            with page.expect_navigation(url=lambda address: "/next" not in address, wait_until="domcontentloaded"):
                keys.press("Control+.")
        except PlaywrightError as error:
            # on a busy machine Chromium at times reports the redirect through /next as aborted although the
            # page goes on to the next submission: follow it there (no key pressed; a page that stayed would
            # grade a student twice, which the check below refuses)
            if "ERR_ABORTED" not in str(error):
                raise
            aborted.append(student)
            left = _submission_of(graded_url)
            page.wait_for_url(
                lambda address, left=left: "/next" not in address and _submission_of(address) != left,
                wait_until="domcontentloaded",
            )
        page.wait_for_function(FORMGRADER_READY)
        page.wait_for_function("() => document.activeElement && document.activeElement.id === 'explanation'")
    assert sorted(graded) == sorted(students), "the formgrader's next submission skipped or repeated one"
    _wait_for(lambda: explanation_grades(root) == want, 60)
    seconds = time.monotonic() - start
    if aborted:
        print(f"formgrader: {len(aborted)} navigation(s) to the next submission reported aborted, followed to it")
    return Run("formgrader", len(graded), keys.presses + 1, keys.actions + 1, seconds)


def _submission_of(address: str) -> str:
    """The submitted notebook's id in a formgrader address (``.../submissions/<id>/?token=...``)."""
    return address.split("/submissions/")[1].split("/")[0].split("?")[0] if "/submissions/" in address else ""


def _wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("the grades were not all saved in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the course folder (printed)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="bench-hand-grading-"))
    with contextlib.ExitStack() as undo:
        if not args.keep:
            undo.callback(shutil.rmtree, base, ignore_errors=True)
        students = sorted(class_list(args.students, hostile=False))
        started = time.monotonic()
        root = build_graded_class(base / "course", class_list(args.students, hostile=False))
        print(f"class of {len(students)} graded by the engine in {time.monotonic() - started:.0f} s ({root})")
        want = expected(students)
        make_rubric(root)
        url, token = undo.enter_context(lab_server(root, base))
        playwright = undo.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        undo.callback(browser.close)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)

        view = grade_in_view(page, url, token, students)
        assert explanation_grades(root) == want, "the view's grades differ from those given"
        clear_manual_grades(root)
        # the same comment, typed on one line (Enter has a meaning of its own in the formgrader)
        typed = {student: (score, comment.replace("\n", " ")) for student, (score, comment) in want.items()}
        formgrader = grade_in_formgrader(page, url, token, root, students, typed)
        assert explanation_grades(root) == typed, "the formgrader's grades differ from those given"

    print(view.line())
    print(formgrader.line())
    print(
        f"formgrader / view: {formgrader.key_presses / view.key_presses:.1f}x key presses, "
        f"{formgrader.actions_text_as_one / view.actions_text_as_one:.1f}x actions (typed text = 1), "
        f"{formgrader.seconds / view.seconds:.1f}x time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
