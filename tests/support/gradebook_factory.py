"""Build small nbgrader gradebooks through nbgrader's own API, for tests and benchmarks.

Each assignment has one notebook of the same name, as in the course. A cell is
``(name, max_score, cell_type)``; code cells are autograded, markdown cells are
graded by hand.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbgrader.api
from nbgrader.api import Grade, Gradebook, Student, SubmittedAssignment, SubmittedNotebook

from gradebook_tools.course.config import load_course_sections


@functools.cache
def _cached_alembic_version() -> str:
    """What ``nbgrader.api.get_alembic_version`` returns, read in this process (no ``alembic`` command)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    with nbgrader.api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as alembic_ini:
        head = ScriptDirectory.from_config(Config(alembic_ini)).get_current_head()
    assert head is not None, "nbgrader's migrations have no head"
    return head


@contextlib.contextmanager
def quick_gradebooks() -> Iterator[None]:
    """While active, nbgrader stamps new gradebooks quickly; PATH and ``nbgrader.api`` are restored on exit.

    nbgrader stamps a new gradebook with the version printed by the ``alembic``
    command (a fresh interpreter per gradebook): the same head revision is read
    here once per process through alembic's own API, without the command (PATH
    still finds it next to this interpreter for nbgrader's other calls). The test
    session runs inside it (``tests/support/conftest_gradebook.py``),
    :func:`new_gradebook` too.
    """
    original_path, original_version = os.environ.get("PATH"), nbgrader.api.get_alembic_version
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in (original_path or "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + (original_path or "")
    nbgrader.api.get_alembic_version = _cached_alembic_version
    try:
        yield
    finally:
        nbgrader.api.get_alembic_version = original_version
        if original_path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = original_path


#: A cell of an assignment: name, points, "code" (autograded) or "markdown" (manual).
Cell = tuple[str, float, str]

#: Marks a manual grade that nobody has given yet.
PENDING = None

DUE = datetime.datetime(2026, 10, 1, 12, 0, 0)


def gradebook_url(folder: Path) -> str:
    """URL of the SQLite gradebook ``gradebook.db`` in ``folder``."""
    return f"sqlite:///{Path(folder) / 'gradebook.db'}"


def new_gradebook(folder: Path, db_url: str | None = None) -> Gradebook:
    """Create (or open) a gradebook: ``db_url``, or ``gradebook.db`` in ``folder``."""
    with quick_gradebooks():
        return Gradebook(db_url or gradebook_url(folder))


def add_assignment(
    gradebook: Gradebook, name: str, cells: Sequence[Cell], duedate: datetime.datetime | None = DUE
) -> None:
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
        if grade.cell.name in scores:
            _graded(grade, grade.cell.cell_type, scores[grade.cell.name])
    if commit:
        gradebook.db.commit()


@dataclass(frozen=True)
class AssignmentLayout:
    """Ids of an assignment's rows that every submission refers to."""

    assignment_id: str
    #: (notebook id, [(cell id, cell name, cell type)]) per notebook
    notebooks: list[tuple[str, list[tuple[str, str, str]]]]


def assignment_layouts(gradebook: Gradebook) -> dict[str, AssignmentLayout]:
    """Each assignment's notebook and graded-cell ids, read once."""
    return {
        assignment.name: AssignmentLayout(
            assignment.id,
            [
                (notebook.id, [(cell.id, cell.name, cell.cell_type) for cell in notebook.grade_cells])
                for notebook in assignment.notebooks
            ],
        )
        for assignment in gradebook.assignments
    }


def add_submission_rows(
    gradebook: Gradebook,
    layout: AssignmentLayout,
    student: str,
    scores: Mapping[str, float | None],
    *,
    late_penalty: float = 0.0,
) -> None:
    """The rows ``Gradebook.add_submission`` creates, graded, added to the session without a commit.

    ``Gradebook.add_submission`` commits every submission and reloads the
    assignment's collections each time (70 ms a submission), which makes a
    class of 1,000 take a quarter of an hour to build. This adds the same rows
    of nbgrader's models (``SubmittedAssignment``, ``SubmittedNotebook``,
    ``Grade``) by id, for the caller to commit once.
    """
    session = gradebook.db
    submission = SubmittedAssignment(
        assignment_id=layout.assignment_id, student_id=student, timestamp=DUE - datetime.timedelta(hours=1)
    )
    session.add(submission)
    for notebook_id, cells in layout.notebooks:
        notebook = SubmittedNotebook(
            notebook_id=notebook_id, assignment=submission, late_submission_penalty=late_penalty
        )
        session.add(notebook)
        for cell_id, name, cell_type in cells:
            session.add(_graded(Grade(cell_id=cell_id, notebook=notebook), cell_type, scores.get(name, PENDING)))


def _graded(grade: Grade, cell_type: str, score: float | None) -> Grade:
    """Set a grade as autograding (code) or a human grader (markdown) would."""
    if cell_type == "code" and score is not None:
        grade.auto_score = score
        grade.needs_manual_grade = False
    elif score is not PENDING:
        grade.manual_score = score
        grade.needs_manual_grade = False
    return grade


#: The course's assignments per curriculum section: ``c.CourseSections.sections`` of nbgrader_config.py.
COURSE_SECTIONS = load_course_sections(Path(__file__).resolve().parents[2]).sections

#: Cells of a synthetic notebook: four 2-point test cells and a 2-point explanation.
SYNTHETIC_CELLS: list[Cell] = [
    ("test_function_explicit", 2.0, "code"),
    ("test_function_hidden_random", 2.0, "code"),
    ("test_function_invalid_input", 2.0, "code"),
    ("test_answer", 2.0, "code"),
    ("explanation", 2.0, "markdown"),
]


def build_synthetic_class(
    folder: Path, n_students: int, seed: int = 0, class_sections: Sequence[str] = ("lab-A", "lab-B", "lab-C", "lab-D")
) -> Path:
    """A fictional class of ``n_students`` on the course's ten assignments.

    Students have an ability; each test cell has a difficulty; a student
    passes a cell with a logistic probability of the difference. About 4 % of
    submissions are missing, 3 % are late (1 point penalty) and 5 % of the
    explanations are still pending. Also writes ``roster.csv``.

    Returns
    -------
    Path
        The gradebook file.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    assignments = [name for names in COURSE_SECTIONS.values() for name in names]
    difficulty = {(a, cell): rng.normal(0.0, 1.2) for a in assignments for cell, _, _ in SYNTHETIC_CELLS}
    students = [f"s{number:04d}" for number in range(1, n_students + 1)]
    ability = dict(zip(students, rng.normal(0.8, 1.0, n_students), strict=True))
    with new_gradebook(folder) as gradebook:
        for index, name in enumerate(assignments):
            add_assignment(gradebook, name, SYNTHETIC_CELLS, duedate=DUE + datetime.timedelta(weeks=index))
        # nbgrader's add_student commits each student (20 ms each here): add the rows, commit once
        gradebook.db.add_all(
            Student(
                id=student,
                first_name=f"First{student[1:]}",
                last_name=f"Last{student[1:]}",
                email=f"{student}@example.edu",
            )
            for student in students
        )
        gradebook.db.commit()
        layouts = assignment_layouts(gradebook)
        for student in students:
            for name in assignments:
                if rng.random() < 0.04:
                    continue
                scores: dict[str, float | None] = {}
                for cell, points, cell_type in SYNTHETIC_CELLS:
                    p_pass = 1.0 / (1.0 + np.exp(difficulty[(name, cell)] - ability[student]))
                    if cell_type == "code":
                        scores[cell] = points if rng.random() < p_pass else 0.0
                    else:
                        scores[cell] = PENDING if rng.random() < 0.05 else float(round(2 * p_pass))
                late = 1.0 if rng.random() < 0.03 else 0.0
                add_submission_rows(gradebook, layouts[name], student, scores, late_penalty=late)
        gradebook.db.commit()
    roster = ["student_id,section,first_name,last_name,email"] + [
        f"{student},{class_sections[i % len(class_sections)]},First{student[1:]},Last{student[1:]},"
        f"{student}@example.edu"
        for i, student in enumerate(students)
    ]
    (folder / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    return folder / "gradebook.db"
