"""Build small nbgrader gradebooks through nbgrader's own API, for tests and benchmarks.

Each assignment has one notebook of the same name, as in the course. A cell is
``(name, max_score, cell_type)``; code cells are autograded, markdown cells are
graded by hand.
"""
from __future__ import annotations

import datetime
import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import nbgrader.api
from nbgrader.api import Gradebook

# nbgrader stamps a new gradebook with the version printed by the ``alembic``
# command: find it next to this interpreter, and ask it once per process
# rather than once per test gradebook (half a second each).
_venv_bin = str(Path(sys.executable).parent)
if _venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _venv_bin + os.pathsep + os.environ.get("PATH", "")
nbgrader.api.get_alembic_version = functools.cache(nbgrader.api.get_alembic_version)

#: A cell of an assignment: name, points, "code" (autograded) or "markdown" (manual).
Cell = tuple[str, float, str]

#: Marks a manual grade that nobody has given yet.
PENDING = None

DUE = datetime.datetime(2026, 10, 1, 12, 0, 0)


def gradebook_url(folder: Path) -> str:
    """URL of the SQLite gradebook ``gradebook.db`` in ``folder``."""
    return f"sqlite:///{Path(folder) / 'gradebook.db'}"


def new_gradebook(folder: Path) -> Gradebook:
    """Create (or open) the gradebook ``gradebook.db`` in ``folder``."""
    return Gradebook(gradebook_url(folder))


def add_assignment(gradebook: Gradebook, name: str, cells: Sequence[Cell],
                   duedate: datetime.datetime | None = DUE) -> None:
    """Add an assignment, its notebook and its graded cells."""
    gradebook.add_assignment(name, duedate=duedate)
    gradebook.add_notebook(name, name)
    for cell_name, max_score, cell_type in cells:
        gradebook.add_grade_cell(cell_name, name, name, max_score=max_score, cell_type=cell_type)


def add_graded_submission(
    gradebook: Gradebook,
    assignment: str,
    student: str,
    scores: Mapping[str, float | None],
    *,
    late_penalty: float = 0.0,
    timestamp: datetime.datetime | None = None,
    commit: bool = True,
) -> None:
    """Submit an assignment for a student and grade it.

    Parameters
    ----------
    scores
        Cell name -> score. Code cells get an autograde score; markdown cells a
        manual score, or stay pending where the score is :data:`PENDING`.
        Cells not named keep nbgrader's state after submission (pending).
    late_penalty
        Penalty stored on the submitted notebook, as ``AssignLatePenalties`` does.
    """
    with warnings.catch_warnings():
        # nbgrader 0.9 builds a submission in a way SQLAlchemy 2 warns about
        # ("not in session, add operation ... will not proceed"); the rows are
        # added all the same, through ``db.add(submission)``.
        warnings.filterwarnings("ignore", message=".*not in session.*")
        submission = gradebook.add_submission(
            assignment, student, timestamp=timestamp or DUE - datetime.timedelta(hours=1)
        )
    (notebook,) = submission.notebooks
    notebook.late_submission_penalty = late_penalty
    for grade in notebook.grades:
        if grade.cell.name not in scores:
            continue
        score = scores[grade.cell.name]
        if grade.cell.cell_type == "code":
            grade.auto_score = score
            grade.needs_manual_grade = False
        elif score is not PENDING:
            grade.manual_score = score
            grade.needs_manual_grade = False
    if commit:
        gradebook.db.commit()
