"""`gradebook-tools grade` writes exactly the grades a plain `nbgrader autograde` writes.

One class (complete, partly done, blank, late, deleted and copied cells, a
manual grade given before a re-grade) is graded in two copies of one course,
once each way; every field nbgrader's autograde sets is compared, grade by grade.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.course.nbgrader_run import nbgrader_env
from tests.support.course import REPO, fill_answers, grade_id, nbgrader, read_notebook, solution_code

pytestmark = [pytest.mark.slow, pytest.mark.needs_root("the sandbox's user switch")]

EXERCISE = "ex02_bradley_terry"
CONFIG = """
c.LateSubmissionPlugin.penalty_method = "zero"
"""


def build(root: Path) -> None:
    root.mkdir()
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + CONFIG)
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    nbgrader("db", "assignment", "add", EXERCISE, "--duedate=2026-01-01 00:00:00 UTC", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    solution = solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb"))
    functions = [grade_id(c) for c in release.cells if grade_id(c) in solution and grade_id(c) != "explanation"]
    good = fill_answers(release, solution)
    partial = fill_answers(release, {k: v for k, v in solution.items() if k != functions[0]})
    deleted = copy.deepcopy(good)
    deleted.cells = [c for c in deleted.cells if not str(grade_id(c)).startswith("test_")]
    copied = copy.deepcopy(good)
    copied.cells += [
        nbformat.v4.new_code_cell(c.source, metadata=copy.deepcopy(c.metadata))
        for c in good.cells
        if grade_id(c) == functions[-1]
    ]
    class_ = {"good": good, "partial": partial, "blank": release, "late": good, "deleted": deleted, "copied": copied}
    for student, notebook in class_.items():
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")
        stamp = "2026-01-02 10:00:00 UTC" if student == "late" else "2025-12-31 10:00:00 UTC"
        (folder / "timestamp.txt").write_text(stamp)


def grade_fields(root: Path) -> dict:
    """Every field nbgrader's autograde sets, per submission, notebook and cell."""
    fields = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(EXERCISE).submissions:
            fields[(submission.student.id, "timestamp")] = submission.timestamp
            for notebook in submission.notebooks:
                fields[(submission.student.id, "late")] = notebook.late_submission_penalty
                for grade in notebook.grades:
                    fields[(submission.student.id, grade.name)] = (
                        grade.auto_score,
                        grade.manual_score,
                        grade.needs_manual_grade,
                        grade.score,
                    )
                for comment in notebook.comments:
                    fields[(submission.student.id, "comment:" + comment.name)] = comment.auto_comment
    return fields


def give_manual_grade(root: Path) -> None:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        gradebook.find_grade("explanation", EXERCISE, EXERCISE, "good").manual_score = 1.5
        gradebook.db.commit()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("equivalence")
    plain, engine = scratch / "plain", scratch / "engine"
    for root in (plain, engine):
        build(root)
    nbgrader("autograde", EXERCISE, cwd=plain)
    command = [sys.executable, "-m", "gradebook_tools", "grade", "--quiet", "--no-feedback"]
    subprocess.run(command, cwd=engine, env=nbgrader_env(), check=True, capture_output=True, timeout=1200)
    first = grade_fields(plain), grade_fields(engine)
    # a TA's manual grade, then a re-grade of everything: the manual grade stays, flagged for review
    for root in (plain, engine):
        give_manual_grade(root)
    nbgrader("autograde", EXERCISE, "--force", cwd=plain)
    subprocess.run([*command, "--force"], cwd=engine, env=nbgrader_env(), check=True, capture_output=True, timeout=1200)
    return first, (grade_fields(plain), grade_fields(engine))


def test_first_grading_is_nbgraders(both):
    (plain, engine), _ = both
    assert engine == plain
    assert plain[("late", "late")] > 0 and not plain[("good", "late")]  # the late penalty is in the comparison


def test_a_regrade_keeps_manual_grades_as_nbgrader_does(both):
    _, (plain, engine) = both
    assert engine == plain
    assert plain[("good", "explanation")][1] == 1.5
