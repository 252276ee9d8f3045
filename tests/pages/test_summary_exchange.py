"""Every student's summary page reaches them through nbgrader's own feedback channel (issue 20, property 4).

Four students, each a Unix user made for this run, on a scratch exchange with
the instructor (root): ``good`` submits the solution, ``broken`` an unreadable
notebook, ``absent`` nothing; each of them submits the ``summary``
pseudo-assignment once, and ``mallory`` submits it in ``absent``'s name. The
instructor collects, runs ``gradebook-tools grade`` and ``nbgrader
release_feedback``; each student runs their own ``nbgrader fetch_feedback``:

- ``good`` gets the exercise page and the summary page with the score;
- ``broken`` gets the summary page, with the reason, as the feedback of the
  unreadable notebook and as the feedback of ``summary``;
- ``absent`` gets the summary page saying nothing was submitted;
- ``mallory`` gets nothing of ``absent``'s.
"""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import urllib.parse

import nbformat
import pytest

from gradebook_tools.pages.freshness import SUMMARY_ASSIGNMENT
from tests.support.course import fill_answers, gradebook_tools, nbgrader, read_notebook, solution_code
from tests.support.lab_session import STUDENT_USERS, Student, course_with_exchange, student_python

COURSE_ID = "alignment-monitoring"
EXERCISE = "ex01_response_only_sft"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("summary-exchange"), *STUDENT_USERS]  # one term


def fetched_pages(student: Student, assignment: str) -> dict[str, str]:
    """The pages ``fetch_feedback`` put in ``<home>/<assignment>/feedback/<timestamp>/``, by notebook name."""
    return {
        page.stem: page.read_text(encoding="utf-8")
        for page in sorted((student.home / assignment / "feedback").glob("*/*.html"))
    }


@pytest.fixture(scope="module")
def term():
    """The whole term as above; yields the students and the course folder."""
    with contextlib.ExitStack() as undo:
        base, exchange, course = course_with_exchange(undo, "summary-exchange-", [EXERCISE])
        # the summary pseudo-assignment is offered by release_feedback, before anything else is released
        nbgrader("release_feedback", SUMMARY_ASSIGNMENT, cwd=course)
        nbgrader("release_assignment", EXERCISE, cwd=course)

        run = secrets.token_hex(3)
        students = {}
        for role in ("good", "broken", "absent", "mallory"):
            students[role] = Student(f"nbg{run}{role}", exchange, COURSE_ID)
            undo.callback(students[role].remove)
        chosen = student_python(students["good"].user, base)
        if chosen is None:
            pytest.skip("the students cannot run the project's Python")
        for student in students.values():
            student.python = chosen[0]
            student.write_file(
                "nbgrader_config.py",
                f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n",
            )
            student.nbgrader("fetch_assignment", SUMMARY_ASSIGNMENT)

        good, broken, absent, mallory = (students[role] for role in ("good", "broken", "absent", "mallory"))
        for student in (good, broken):
            student.nbgrader("fetch_assignment", EXERCISE)
        source = read_notebook(course / "source" / EXERCISE / f"{EXERCISE}.ipynb")
        answers = {cell: code for cell, code in solution_code(source).items() if cell != "explanation"}
        solved = fill_answers(read_notebook(good.home / EXERCISE / f"{EXERCISE}.ipynb"), answers)
        good.write_file(f"{EXERCISE}/{EXERCISE}.ipynb", nbformat.writes(solved))
        broken.write_file(f"{EXERCISE}/{EXERCISE}.ipynb", '{"cells": [ this is not a notebook')
        for student in (good, broken):
            student.nbgrader("submit", EXERCISE)
        for student in (good, broken, absent):
            student.nbgrader("submit", SUMMARY_ASSIGNMENT)
        # the newest summary submission in absent's name is mallory's: it must not count
        mallory.nbgrader("submit", SUMMARY_ASSIGNMENT, f"--student={absent.user}")

        nbgrader("collect", EXERCISE, cwd=course)
        graded = gradebook_tools("grade", EXERCISE, "--quiet", cwd=course, timeout=1200)
        assert graded.returncode in (0, 7), graded.stdout + graded.stderr  # 7: some submission failed
        # students without a submission are in the gradebook through the roster of submitters: add absent
        nbgrader("db", "student", "add", absent.user, cwd=course)
        assert gradebook_tools("feedback", cwd=course, timeout=1200).returncode == 0
        nbgrader("release_feedback", EXERCISE, cwd=course)
        for student in students.values():
            for assignment in (EXERCISE, SUMMARY_ASSIGNMENT):
                student.nbgrader("fetch_feedback", assignment, check=False)  # the pages tell
        yield {"course": course, **students}


def test_a_graded_student_gets_the_exercise_page_and_the_summary(term):
    good = term["good"]
    exercise_pages = fetched_pages(good, EXERCISE)
    assert list(exercise_pages) == [EXERCISE]
    assert "Response-only" in exercise_pages[EXERCISE] or EXERCISE in exercise_pages[EXERCISE]
    summary = fetched_pages(good, SUMMARY_ASSIGNMENT)
    assert list(summary) == [SUMMARY_ASSIGNMENT]
    expected = (term["course"] / "feedback" / good.user / "index.html").read_text(encoding="utf-8")
    assert "<td>8 / 10</td>" in expected and good.user in expected
    # the same page, its links to the report leading where fetch_feedback put it
    fetched = summary[SUMMARY_ASSIGNMENT]
    links = re.findall(r'href="([^"#]+)', fetched)
    assert links and set(links) == {f"../../../{EXERCISE}/feedback/{links[0].split('/')[5]}/{EXERCISE}.html"}
    where = next((good.home / SUMMARY_ASSIGNMENT / "feedback").glob("*/*.html")).parent
    assert (where / urllib.parse.unquote(links[0])).resolve() == next(
        (good.home / EXERCISE / "feedback").glob(f"*/{EXERCISE}.html")
    )
    assert re.sub(r'href="[^"#]+', "", fetched) == re.sub(r'href="[^"#]+', "", expected)


def test_a_student_whose_notebook_was_unreadable_gets_the_summary_with_the_reason(term):
    broken, course = term["broken"], term["course"]
    expected = (course / "feedback" / broken.user / "index.html").read_text(encoding="utf-8")
    assert f"{EXERCISE}.ipynb is not a readable notebook" in html.unescape(expected)
    # where the exercise page would be, and under the summary pseudo-assignment
    assert fetched_pages(broken, EXERCISE) == {EXERCISE: expected}
    assert fetched_pages(broken, SUMMARY_ASSIGNMENT) == {SUMMARY_ASSIGNMENT: expected}


def test_a_student_who_submitted_nothing_gets_the_summary_saying_so(term):
    absent, course = term["absent"], term["course"]
    expected = (course / "feedback" / absent.user / "index.html").read_text(encoding="utf-8")
    assert "nothing was submitted" in html.unescape(expected)
    assert fetched_pages(absent, SUMMARY_ASSIGNMENT) == {SUMMARY_ASSIGNMENT: expected}
    assert not (absent.home / EXERCISE).exists()


def test_nobody_receives_another_students_summary_by_submitting_in_their_name(term):
    mallory, absent = term["mallory"], term["absent"]
    assert fetched_pages(mallory, SUMMARY_ASSIGNMENT) == {}
    # and mallory has no page of their own: not in the gradebook
    assert not (term["course"] / "feedback" / mallory.user).exists()
    assert absent.user not in "".join(fetched_pages(mallory, SUMMARY_ASSIGNMENT).values())
