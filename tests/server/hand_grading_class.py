"""A class of ex01 submissions graded by the engine, and a Jupyter server with the hand-grading view.

Shared by tests/server/test_hand_grading.py, tests/pages/test_accessibility.py and
benchmarks/bench_hand_grading.py. Every student's code is the solution (so the
engine gives 8 of 10), and each writes their own explanation; one writes hostile
Markdown (a script, an ``onerror``, ``javascript:`` links) that must never run.
"""

from __future__ import annotations

import contextlib
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import delete
from sqlalchemy.exc import SAWarning

from gradebook_tools.gradebook import rubrics
from gradebook_tools.server import hand_grading as hand_grading_module
from tests.support.course import Course, fill_answers, read_notebook, solution_code
from tests.support.course import gradebook_tools as run_gradebook_tools
from tests.support.lab_session import course_server

EXERCISE = "ex01_response_only_sft"
#: JupyterLab settings overrides of the extension: a *Hand grading* item in the Help menu.
LAB_SETTINGS = Path(hand_grading_module.__file__).parent / "lab_settings"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
#: Hostile Markdown: each payload would set ``window.__pwned`` if it ever ran.
HOSTILE = (
    "My answer: the held-out NLL.\n\n"
    "<script>window.__pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.__pwned = \'onerror\'">\n\n'
    "[a link](javascript:window.__pwned='link') and "
    '<a href="javascript:window.__pwned=\'anchor\'" id="evil-link">another</a>\n\n'
    "<svg onload=\"window.__pwned = 'svg'\"></svg><iframe src=\"javascript:parent.__pwned='frame'\"></iframe>\n\n"
    "<style>body { display: none }</style>\n\n**still bold**"
)


def explanation(number: int) -> str:
    return (
        f"Answer {number:03d}: a lower loss can be a false win when the mask lets prompt tokens in. "
        "I would compare the response-only NLL on a held-out set with the production model."
    )


def class_list(count: int, hostile: bool = True) -> dict[str, tuple[str, str, str]]:
    """``count`` students: id -> (first name, last name, explanation); the last one hostile if asked."""
    students = {}
    for number in range(1, count + 1):
        text = HOSTILE if hostile and number == count else explanation(number)
        students[f"stu{number:03d}x"] = (f"Firstname{number:03d}q", f"Lastname{number:03d}q", text)
    return students


def build_graded_class(
    root: Path, students: dict[str, tuple[str, str, str]], blank: frozenset[str] = frozenset()
) -> Path:
    """The course in ``root``: ex01 released, the class submitted and graded by ``gradebook-tools grade``.

    Students in ``blank`` submit the release's code as it is (every check fails), the others the solution.
    """
    root.mkdir(parents=True, exist_ok=True)
    course = Course(root, [EXERCISE])
    release = course.release(EXERCISE)
    good = fill_answers(release, solution_code(course.source(EXERCISE)))
    for student, (_, _, text) in students.items():
        course.submit(student, EXERCISE, fill_answers(release if student in blank else good, {"explanation": text}))
    with quiet(), Gradebook(course.db_url) as gradebook:
        for student, (first, last, _) in students.items():
            gradebook.update_or_create_student(student, first_name=first, last_name=last)
    result = run_gradebook_tools("grade", EXERCISE, "--quiet", cwd=root, timeout=1800)
    assert result.returncode == 0, f"gradebook-tools grade:\n{result.stdout}\n{result.stderr}"
    return root


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield


def db_url(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def explanation_grades(root: Path) -> dict[str, tuple[float | None, str | None]]:
    """Per student: the explanation's manual score and manual comment, read through nbgrader's API."""
    grades = {}
    with quiet(), Gradebook(db_url(root)) as gradebook:
        for submission in gradebook.find_assignment(EXERCISE).submissions:
            student = submission.student.id
            grade = gradebook.find_grade("explanation", EXERCISE, EXERCISE, student)
            comment = gradebook.find_comment("explanation", EXERCISE, EXERCISE, student)
            grades[student] = (grade.manual_score, comment.manual_comment)
    return grades


def clear_explanation_grades(root: Path) -> None:
    """Every explanation ungraded again: nbgrader's score and comment, and the rubric's record of the grade."""
    with quiet(), Gradebook(db_url(root)) as gradebook:
        grade_ids = []
        for submission in gradebook.find_assignment(EXERCISE).submissions:
            student = submission.student.id
            grade = gradebook.find_grade("explanation", EXERCISE, EXERCISE, student)
            grade.manual_score, grade.needs_manual_grade = None, True
            gradebook.find_comment("explanation", EXERCISE, EXERCISE, student).manual_comment = None
            grade_ids.append(grade.id)
        gradebook.db.execute(delete(rubrics.RUBRIC_APPLIED).where(rubrics.RUBRIC_APPLIED.c.grade_id.in_(grade_ids)))
        gradebook.db.execute(delete(rubrics.RUBRIC_GRADE).where(rubrics.RUBRIC_GRADE.c.grade_id.in_(grade_ids)))
        gradebook.db.commit()


@contextlib.contextmanager
def lab_server(root: Path, logs: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab in the course folder with nbgrader's formgrader and the hand-grading view; (url, token)."""
    extension = (
        '--ServerApp.jpserver_extensions={"gradebook_tools.server": True}',
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
    )
    with course_server(root, logs / f"jupyterlab-{secrets.token_hex(4)}.log", extra=extension) as (url, token):
        yield url, token


def view_url(url: str, token: str, blind: bool = False) -> str:
    query = f"assignment={EXERCISE}&notebook={EXERCISE}&cell=explanation&token={token}"
    return f"{url}/gradebook-tools/hand-grading/view?{query}" + ("&blind=1" if blind else "")


def read_notebook_text(path: Path) -> str:
    return "\n".join(cell.source for cell in read_notebook(path).cells)
