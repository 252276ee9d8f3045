"""``nbgrader validate`` tells the student, before submission, that a notebook is another exercise's (issue 16, 5).

ex01 and ex02 released on a scratch exchange. A student's folder with the
students' ``/etc/jupyter/nbgrader_config.py`` of docs/course_workflow.md
(paths pointed at this run's exchange and at the hook file) and, from the
course root, the course's own configuration: validating ex02's notebook in
ex01's folder fails with the sentence; ex01's own notebook validates as before.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.support.course import REPO, Course, fill_answers, nbgrader, read_notebook, solution_code

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's user switch needs root")]

EXERCISE, OTHER = "ex01_response_only_sft", "ex02_bradley_terry"
SENTENCE = f"This is {OTHER}'s notebook, in {EXERCISE}'s folder"


def students_config(exchange: Path) -> str:
    """The documented /etc/jupyter/nbgrader_config.py, with this run's exchange and the hook in the repository."""
    workflow = (REPO / "docs" / "course_workflow.md").read_text(encoding="utf-8")
    snippet = workflow.split("cat > /etc/jupyter/nbgrader_config.py <<'EOF'\n", 1)[1].split("\nEOF", 1)[0]
    assert "/etc/jupyter/course_validate_hook.py" in snippet and "/srv/nbgrader/exchange" in snippet
    snippet = snippet.replace(
        "/etc/jupyter/course_validate_hook.py", str(REPO / "gradebook_tools/exchange/validate_hook.py")
    )
    return snippet.replace("/srv/nbgrader/exchange", str(exchange))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    base = tmp_path_factory.mktemp("validate")
    exchange, course, student = base / "exchange", base / "course", base / "student"
    for folder in (exchange, course, student):
        folder.mkdir()
    exchange.chmod(0o1777)
    Course(course, [EXERCISE, OTHER])
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\n# this test's scratch exchange\nc.Exchange.root = {str(exchange)!r}\n")
    for exercise in (EXERCISE, OTHER):
        nbgrader("release_assignment", exercise, cwd=course)
    (student / "nbgrader_config.py").write_text(students_config(exchange), encoding="utf-8")
    nbgrader("fetch_assignment", EXERCISE, "--course", "alignment-monitoring", cwd=student)
    own = student / EXERCISE / f"{EXERCISE}.ipynb"
    nbformat.write(
        fill_answers(
            read_notebook(own), solution_code(read_notebook(course / "source" / EXERCISE / f"{EXERCISE}.ipynb"))
        ),
        own,
    )
    # another copy of the folder holding ex02's worked notebook under ex01's name
    wrong = base / "wrong" / EXERCISE
    wrong.mkdir(parents=True)
    other = fill_answers(
        read_notebook(course / "release" / OTHER / f"{OTHER}.ipynb"),
        solution_code(read_notebook(course / "source" / OTHER / f"{OTHER}.ipynb")),
    )
    nbformat.write(other, wrong / f"{EXERCISE}.ipynb")
    shutil.copy(student / "nbgrader_config.py", base / "wrong")
    return {"course": course, "student": student, "own": own, "wrong": wrong / f"{EXERCISE}.ipynb"}


def test_validate_with_the_students_config_names_the_other_exercise(scene):
    result = nbgrader("validate", str(scene["wrong"]), cwd=scene["wrong"].parent.parent, check=False)
    text = result.stdout + result.stderr
    assert "VALIDATION FAILED" in text and SENTENCE in text, text[-3000:]
    assert "would not be graded" in text and f"not {EXERCISE}'s notebook: {OTHER}" in text
    assert "..." not in text.split("The following cell failed:", 1)[1].split("The error was:", 1)[0]  # shown whole


def test_validate_with_the_course_config_names_the_other_exercise(scene):
    result = nbgrader("validate", str(scene["wrong"]), cwd=scene["course"], check=False)
    assert SENTENCE in result.stdout + result.stderr, (result.stdout + result.stderr)[-3000:]


def test_the_exercises_own_notebook_validates_as_before(scene):
    result = nbgrader("validate", str(scene["own"]), cwd=scene["student"], check=False)
    text = result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in text, text[-3000:]
    assert "This is" not in text
    # the notebook on disk is never changed by validating
    assert "course_validate_other_exercise" not in scene["wrong"].read_text()
