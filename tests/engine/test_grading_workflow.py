"""The instructor's path around grading: a fresh clone, a stale release, manual grades reaching feedback.

Real ``gradebook-tools`` and ``nbgrader`` commands on a course laid out as a
clone of this repository is: ``source/`` and the committed ``release/``, no
gradebook yet.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.gradebook.outcomes import StatusStore
from tests.support.course import REPO, fill_answers, nbgrader, read_notebook, solution_code
from tests.support.course import gradebook_tools as run_gradebook_tools

pytestmark = [pytest.mark.slow, pytest.mark.needs_root("the sandbox's user switch")]

EXERCISE = "ex01_response_only_sft"
gradebook_tools = functools.partial(run_gradebook_tools, timeout=1200)


def fresh_clone(root: Path) -> Path:
    """A course as a new clone has it: config, source and the committed release; no gradebook."""
    root.mkdir(exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    shutil.copytree(REPO / "release" / EXERCISE, root / "release" / EXERCISE)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    for student, notebook in (("good", good), ("blank", release)):
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")
        # what nbgrader's submit writes beside the notebook (release_feedback needs both)
        (folder / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
        (folder / "submission_secret.txt").write_text(f"secret-of-{student}")
    return root


def total(root: Path, student: str) -> float:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission(EXERCISE, student).score


def set_explanation_score(root: Path, student: str, points: float) -> None:
    """Grade the explanation by hand, as the formgrader does (nbgrader's API)."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("explanation", EXERCISE, EXERCISE, student)
        grade.manual_score = points
        gradebook.db.commit()


def page(root: Path, student: str) -> str:
    return (root / "feedback" / student / EXERCISE / f"{EXERCISE}.html").read_text()


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    root = fresh_clone(tmp_path_factory.mktemp("clone"))
    first = gradebook_tools("grade", "--quiet", cwd=root)
    return root, first


def test_a_fresh_clone_grades_without_a_hidden_step(clone):
    root, first = clone
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"{EXERCISE}: added to the gradebook from source/" in first.stdout
    assert total(root, "good") == 8.0 and total(root, "blank") == 0.0
    assert "(Score: 8.0 / 10.0)" in page(root, "good")


def test_a_manual_grade_reaches_the_pages_with_one_command(clone):
    root, _ = clone
    set_explanation_score(root, "good", 1.5)
    result = gradebook_tools("feedback", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "1 exercise feedback page(s) regenerated" in result.stdout
    assert "(Score: 9.5 / 10.0)" in page(root, "good")
    assert "9.5" in (root / "feedback" / "good" / "index.html").read_text()
    # nothing else changed: a second run regenerates nothing
    assert "0 exercise feedback page(s) regenerated" in gradebook_tools("feedback", cwd=root).stdout


def test_a_plain_rerun_of_grade_regenerates_changed_pages(clone):
    root, _ = clone
    set_explanation_score(root, "good", 2.0)
    result = gradebook_tools("grade", "--quiet", cwd=root)
    assert result.returncode == 0 and "unchanged since the last run" in result.stdout, result.stdout
    assert "(Score: 10.0 / 10.0)" in page(root, "good")


def test_release_feedback_never_hands_out_a_stale_page(clone, tmp_path):
    root, _ = clone
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    set_explanation_score(root, "good", 0.5)  # after the pages were made
    result = nbgrader("release_feedback", EXERCISE, f"--Exchange.root={exchange}", cwd=root, check=False)
    assert result.returncode != 0
    assert "good" in result.stderr + result.stdout and "gradebook-tools feedback" in result.stderr + result.stdout
    released = list((exchange / "alignment-monitoring" / "feedback").glob("*.html"))
    assert len(released) == 1  # the blank student's page, current, went out
    assert "(Score: 0.0 / 10.0)" in released[0].read_text()
    # plain nbgrader generate_feedback makes current pages too
    nbgrader("generate_feedback", EXERCISE, "--force", cwd=root)
    nbgrader("release_feedback", EXERCISE, f"--Exchange.root={exchange}", cwd=root)
    pages = [p.read_text() for p in (exchange / "alignment-monitoring" / "feedback").glob("*.html")]
    assert any("(Score: 8.5 / 10.0)" in text for text in pages)


def test_a_release_that_does_not_match_its_source_is_the_courses_problem(tmp_path):
    root = fresh_clone(tmp_path / "course")
    path = root / "release" / EXERCISE / f"{EXERCISE}.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] = "an edited release\n"
    path.write_text(json.dumps(notebook))
    result = gradebook_tools("grade", "--quiet", cwd=root)
    assert result.returncode == 8
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"nbgrader generate_assignment {EXERCISE} --force" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert StatusStore(f"sqlite:///{root / 'gradebook.db'}").all() == []  # nothing recorded against a student
    # the instructor fixes the course; the next run grades everyone, no --force needed
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    again = gradebook_tools("grade", "--quiet", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert total(root, "good") == 8.0


def test_outside_a_course_grade_says_so_in_one_line(tmp_path):
    result = gradebook_tools("grade", cwd=tmp_path)
    assert result.returncode == 8
    assert len(result.stderr.strip().splitlines()) == 1 and "not a course folder" in result.stderr
