"""A small class of ex01 submissions for the grading-engine tests that compare two ways of grading.

The cluster and PostgreSQL tests grade the same submitted bytes twice (on this
machine and on Dask, in SQLite and in PostgreSQL) and compare what the
gradebooks hold: every test cell's automatic score, the late penalty and the
recorded outcome of each submission.
"""

from __future__ import annotations

import functools
import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from gradebook_tools.gradebook.outcomes import StatusStore
from tests.support.course import REPO, fill_answers, nbgrader, read_notebook, solution_code
from tests.support.course import gradebook_tools as run_gradebook_tools

EXERCISE = "ex01_response_only_sft"
DUE = "2026-01-01 00:00:00"
# Short limits keep the class quick; late work scores zero.
CONFIG = """
c.Execute.timeout = 30
c.TrustedExecute.check_timeout = 15
c.LateSubmissionPlugin.penalty_method = "zero"
"""
#: log_softmax without the max shift: right on small logits, inf/nan on large ones.
UNSTABLE_LOG_SOFTMAX = """def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
"""

#: ex01's automatically graded cells at full marks (what a correct submission scores).
FULL_MARKS = {
    "test_log_softmax_values": 1.5,
    "test_log_softmax_stability": 1.0,
    "test_response_mask_from_roles": 1.0,
    "test_response_only_loss_values": 2.0,
    "test_response_only_loss_edge_cases": 1.5,
    "test_answer": 1.0,
}
#: The unstable log_softmax fails on logits of magnitude 1e4: its own stability test and the loss's edge cases.
PARTLY_WRONG_MARKS = dict(FULL_MARKS, test_log_softmax_stability=0.0, test_response_only_loss_edge_cases=0.0)

#: student -> the state its submission must end in.
STATES = {
    "good-a": "graded",
    "good-b": "graded",
    "late": "graded",
    "partly-wrong": "graded",
    "invalid-json": "failed",
    "kernel-dies": "graded",
}

#: The real ``gradebook-tools`` command in a course folder, as in tests/support/course.py, with this class's time limit.
gradebook_tools = functools.partial(run_gradebook_tools, timeout=1500)


def write_course(root: Path, db_url: str | None = None) -> Path:
    """The course folder ``root`` with ex01 generated into its gradebook (``db_url`` or gradebook.db)."""
    root.mkdir(parents=True, exist_ok=True)
    config = (REPO / "nbgrader_config.py").read_text() + CONFIG
    if db_url:
        config += f"c.CourseDirectory.db_url = {db_url!r}\n"
    (root / "nbgrader_config.py").write_text(config)
    shutil.copytree(REPO / "source" / EXERCISE, root / "source" / EXERCISE)
    nbgrader("generate_assignment", EXERCISE, "--force", cwd=root)
    nbgrader("db", "assignment", "add", EXERCISE, f"--duedate={DUE}", cwd=root)
    return root


def submit_class(root: Path, students: list[str] | None = None) -> None:
    """Write the submissions of ``students`` (default: all of :data:`STATES`) into ``root/submitted``."""
    release = read_notebook(root / "release" / EXERCISE / f"{EXERCISE}.ipynb")
    good = fill_answers(release, solution_code(read_notebook(root / "source" / EXERCISE / f"{EXERCISE}.ipynb")))
    on_time = {"timestamp.txt": "2025-12-31 12:00:00"}
    submissions = {
        "good-a": (good, on_time),
        "good-b": (good, {}),
        "late": (good, {"timestamp.txt": "2026-01-01 02:00:00"}),
        "partly-wrong": (fill_answers(good, {"log_softmax": UNSTABLE_LOG_SOFTMAX}), on_time),
        "invalid-json": ("{this is not json", on_time),
        "kernel-dies": (fill_answers(good, {"answer": "import os\nos._exit(3)\n"}), on_time),
    }
    for student in students or list(STATES):
        notebook, extra = submissions[student]
        folder = root / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        if isinstance(notebook, str):
            (folder / f"{EXERCISE}.ipynb").write_text(notebook)
        else:
            nbformat.write(notebook, folder / f"{EXERCISE}.ipynb")
        for name, content in extra.items():
            (folder / name).write_text(content)


def sqlite_url(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def gradebook_scores(db_url: str) -> dict[str, dict]:
    """Per student: each graded cell's automatic score, the late penalty and the total, from the gradebook."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(db_url) as gradebook:
            scores = {}
            for submission in gradebook.find_assignment(EXERCISE).submissions:
                [notebook] = submission.notebooks
                scores[submission.student.id] = {
                    "cells": {grade.name: (grade.auto_score, grade.needs_manual_grade) for grade in notebook.grades},
                    "late_penalty": submission.late_submission_penalty,
                    "score": submission.score,
                }
            return scores


def recorded_outcomes(db_url: str) -> dict[str, tuple[str, str, str]]:
    """Per student: the recorded state, reason and fingerprint of the graded files."""
    store = StatusStore(db_url)
    try:
        return {s.student: (s.state, s.reason, s.fingerprint) for s in store.all(EXERCISE)}
    finally:
        store.engine.dispose()
