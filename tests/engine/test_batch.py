"""`gradebook-tools grade` on a class full of bad submissions, through the real CLI and nbgrader."""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gradebook_tools.course.nbgrader_run import nbgrader_env
from gradebook_tools.gradebook.outcomes import StatusStore
from tests.support.course import (
    REPO,
    fill_answers,
    grade_id,
    gradebook_tools,
    nbgrader,
    read_notebook,
    solution_code,
    tree_hash,
)

pytestmark = pytest.mark.slow  # real nbgrader through the grade command

EXERCISE = "ex01_response_only_sft"
OTHER = "ex02_bradley_terry"
DUE = "2026-01-01 00:00:00"
# Short limits keep the hanging submission quick; late work scores zero.
CONFIG = """
c.Execute.timeout = 8
c.TrustedExecute.check_timeout = 4
c.LateSubmissionPlugin.penalty_method = "zero"
"""


def make_class(root: Path) -> dict[str, str]:
    """A course with one submission of every kind; returns student -> expected state."""
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text() + CONFIG)
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    nbgrader("db", "assignment", "add", EXERCISE, f"--duedate={DUE}", cwd=root)
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))

    def submit(student, notebook=None, text=None, extra=None):
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        if text is not None:
            (folder / f"{EXERCISE}.ipynb").write_text(text)
        elif notebook is not None:
            nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")
        for name, content in (extra or {}).items():
            (folder / name).write_text(content)

    def edited(change):
        notebook = copy.deepcopy(good)
        notebook.cells = change(notebook.cells)
        return notebook

    def retype(cells):
        for cell in cells:
            if grade_id(cell) == "log_softmax":
                cell.cell_type = "markdown"
                del cell["outputs"], cell["execution_count"]
        return cells

    submit("good", good, extra={"timestamp.txt": "2025-12-31 12:00:00"})
    submit("late", good, extra={"timestamp.txt": "2026-01-01 02:00:00"})
    submit("invalid-json", text="{this is not json")
    submit("no-notebook", extra={"notes.txt": "I forgot"})
    submit("other-exercise", read_notebook(REPO / "release" / OTHER / f"{OTHER}.ipynb"))
    submit("extra-file", good, extra={"scratch.py": "print('hi')"})
    submit("deleted-cells", edited(lambda cells: [c for c in cells if not str(grade_id(c)).startswith("test_log")]))
    submit(
        "duplicated-cells",
        edited(
            lambda cells: (
                cells
                + [
                    nbformat.v4.new_code_cell(c.source, metadata=c.metadata)
                    for c in cells
                    if grade_id(c) == "test_answer"
                ]
            )
        ),
    )
    submit("retyped-cell", edited(retype))
    submit("kernel-dies", fill_answers(good, {"answer": "import os\nos._exit(3)\n"}))
    submit("times-out", fill_answers(good, {"response_only_loss": "while True:\n    pass\n"}))
    return {
        "good": "graded",
        "late": "graded",
        "invalid-json": "failed",
        "no-notebook": "failed",
        "other-exercise": "failed",  # refused whole (issue 16): nothing of the other exercise is graded
        "extra-file": "graded",
        "deleted-cells": "graded",
        "duplicated-cells": "graded",
        "retyped-cell": "graded",
        "kernel-dies": "graded",
        "times-out": "graded",
    }


#: Automatic points per student, and a word the recorded reason must contain.
EXPECTED = {
    "good": (8, ""),
    "late": (8, "late"),  # nbgrader's late penalty then takes all 8, see below
    "invalid-json": (0, "not a readable notebook"),
    "no-notebook": (0, "no notebook was submitted"),
    "other-exercise": (0, f"this is {OTHER}'s notebook, submitted as {EXERCISE}"),
    "extra-file": (8, "extra file scratch.py"),
    "deleted-cells": (8, "deleted and restored"),  # restored tests, graded as usual
    "duplicated-cells": (8, "duplicated"),
    "retyped-cell": (8, "another cell type"),
    "kernel-dies": (7, "kernel died"),
    "times-out": (3.5, "interrupted"),  # response_only_loss (3.5) and the answer built on it (1) lost
}


def scores(root: Path) -> dict[str, tuple[float, float]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            s.student.id: (s.code_score, s.late_submission_penalty)
            for s in gradebook.find_assignment(EXERCISE).submissions
        }


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    states = make_class(root)
    before = tree_hash(root / "submitted")
    first = gradebook_tools("grade", "--quiet", cwd=root)
    return root, states, before, first


def test_every_submission_gets_a_recorded_outcome(graded_class):
    root, states, _, first = graded_class
    assert first.returncode == 7, first.stdout + first.stderr  # some could not be graded
    recorded = {s.student: s for s in StatusStore(f"sqlite:///{root / 'gradebook.db'}").all(EXERCISE)}
    assert {student: status.state for student, status in recorded.items()} == states
    for student, (_, word) in EXPECTED.items():
        assert word in recorded[student].reason, (student, recorded[student].reason)
        if word:
            assert student in first.stdout  # the summary names every submission with a problem


def test_scores_are_exact(graded_class):
    root, _, _, _ = graded_class
    expected = {student: (points, 8.0 if student == "late" else 0.0) for student, (points, _) in EXPECTED.items()}
    assert scores(root) == expected


def test_submitted_is_never_modified(graded_class):
    root, _, before, _ = graded_class
    assert tree_hash(root / "submitted") == before


def test_feedback_for_every_graded_submission(graded_class):
    root, states, _, _ = graded_class
    for student, state in states.items():
        html = root / "feedback" / student / EXERCISE / f"{EXERCISE}.html"
        assert html.exists() == (state == "graded"), student


def test_rerun_is_idempotent_and_status_lists_problems(graded_class):
    root, _, _, _ = graded_class
    before = scores(root)
    again = gradebook_tools("grade", "--quiet", cwd=root)
    assert f"({len(EXPECTED)} unchanged since the last run" in again.stdout
    assert scores(root) == before
    status = gradebook_tools("status", "--problems", cwd=root)
    assert status.returncode == 0
    assert "invalid-json" in status.stdout and "good " not in status.stdout


def test_a_rerun_with_nothing_to_grade_reaches_no_runner(graded_class):
    # nothing changed: no bundle is made and no cluster is asked, so an unreachable scheduler is no problem
    root, _, _, _ = graded_class
    before = scores(root)
    again = gradebook_tools("grade", "--quiet", "--scheduler", "tcp://127.0.0.1:9", cwd=root)
    assert f"({len(EXPECTED)} unchanged since the last run" in again.stdout, again.stdout + again.stderr
    assert "Dask" not in again.stderr
    assert scores(root) == before


def test_an_interrupted_run_resumes_to_the_same_gradebook(graded_class, tmp_path):
    root, _, _, _ = graded_class
    course = tmp_path / "course"
    shutil.copytree(root, course, ignore=shutil.ignore_patterns("autograded", "feedback", "gradebook.db"))
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=course)
    nbgrader("db", "assignment", "add", EXERCISE, f"--duedate={DUE}", cwd=course)
    run = subprocess.Popen(
        [sys.executable, "-m", "gradebook_tools", "grade", "--quiet"],
        cwd=course,
        env=nbgrader_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not (course / "autograded" / "extra-file").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # the whole command, nbgrader and kernels too
    run.wait()
    assert len(list((course / "autograded").iterdir())) < len(EXPECTED), "killed half-way"
    resumed = gradebook_tools("grade", "--quiet", cwd=course)
    assert resumed.returncode == 7
    assert scores(course) == scores(root)


def test_grade_names_an_unknown_assignment(graded_class):
    root, _, _, _ = graded_class
    result = gradebook_tools("grade", "ex99_nothing", cwd=root)
    assert result.returncode == 4 and "ex99_nothing" in result.stderr
