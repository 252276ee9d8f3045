"""Read scores out of an nbgrader gradebook with a few aggregate SQL queries.

nbgrader's own objects compute every score with a correlated subquery per
student and assignment (``SubmittedAssignment.score``, ``late_submission_penalty``),
so reading a class through them costs thousands of queries that each scan the
``grade`` table. Here a handful of grouped queries read the whole class at once,
built with SQLAlchemy Core on nbgrader's tables (:mod:`gradebook_tools.gradebook.schema`)
so that they run on SQLite and PostgreSQL alike, with nbgrader's own definition
of a grade's score (``Grade.score``: manual score over auto score, plus extra
credit). Nothing here imports nbgrader: a command that only reads scores starts
in a fraction of a second.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import case, create_engine, func, inspect, select
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from gradebook_tools.course.errors import GradebookError
from gradebook_tools.gradebook.schema import (
    ASSIGNMENT,
    BASE_CELL,
    GRADE,
    GRADE_CELLS,
    GRADEBOOK_TABLES,
    NOTEBOOK,
    STUDENT,
    SUBMITTED_ASSIGNMENT,
    SUBMITTED_NOTEBOOK,
    TASK_CELLS,
    cell_max_score,
    grade_score,
    with_graded_cells,
)

__all__ = [
    "GRADEBOOK_TABLES",
    "AssignmentInfo",
    "CellGrade",
    "ClassScores",
    "GradebookError",
    "StudentInfo",
    "SubmissionScore",
    "open_gradebook",
    "read_assignments",
    "read_cell_grades",
    "read_class_scores",
    "read_students",
    "read_submissions",
]


@dataclass(frozen=True)
class StudentInfo:
    """A student as the gradebook knows them."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""

    @property
    def display_name(self) -> str:
        """``Last, First`` when names are known, else the id."""
        names = ", ".join(part for part in (self.last_name, self.first_name) if part)
        return names or self.id


@dataclass(frozen=True)
class AssignmentInfo:
    """An assignment and the points it is worth."""

    name: str
    duedate: datetime.datetime | None
    max_score: float


@dataclass(frozen=True)
class SubmissionScore:
    """One student's submission of one assignment, scored as ``nbgrader export`` does."""

    student_id: str
    assignment: str
    timestamp: datetime.datetime | None
    raw_score: float
    late_penalty: float
    #: Number of graded cells still waiting for a human grader.
    pending_cells: int = 0
    #: Points of those cells (their maximum), not yet decided.
    pending_points: float = 0.0

    @property
    def score(self) -> float:
        """Raw score minus late penalty, never below zero (nbgrader's ``score``)."""
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def is_pending(self) -> bool:
        """Whether a manual grade is still missing."""
        return self.pending_cells > 0


@dataclass
class ClassScores:
    """Everything the per-section reports need, read in a handful of queries."""

    students: list[StudentInfo]
    assignments: list[AssignmentInfo]
    submissions: dict[tuple[str, str], SubmissionScore] = field(default_factory=dict)
    #: Exercises of the gradebook the course's calendar has not handed out yet (left out of ``assignments``).
    not_assigned: list[str] = field(default_factory=list)
    #: (student, assignment) whose own due date has not passed: nothing submitted is not *missing* yet.
    not_due: frozenset[tuple[str, str]] = frozenset()

    @property
    def scope_note(self) -> str:
        """What the totals count, e.g. ``of 20 points assigned so far (2 of 10 exercises)``; "" for all."""
        if not self.not_assigned:
            return ""
        points = sum(assignment.max_score for assignment in self.assignments)
        total = len(self.assignments) + len(self.not_assigned)
        return f"of {points:g} points assigned so far ({len(self.assignments)} of {total} exercises)"

    def submission(self, student_id: str, assignment: str) -> SubmissionScore | None:
        """The submission, or None where the student submitted nothing."""
        return self.submissions.get((student_id, assignment))

    @property
    def assignment_names(self) -> list[str]:
        return [assignment.name for assignment in self.assignments]


@dataclass(frozen=True)
class CellGrade:
    """One student's grade on one graded cell (a test cell or a manual answer)."""

    student_id: str
    assignment: str
    notebook: str
    cell: str
    cell_type: str
    score: float
    max_score: float
    needs_manual_grade: bool


def _check_sqlite_file(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.is_file():
        raise GradebookError(f"no gradebook at {path}: run nbgrader in the course folder or pass --db")


def open_gradebook(db_url: str) -> Engine:
    """Connect to an existing nbgrader gradebook, without creating or changing anything.

    Unlike :class:`nbgrader.api.Gradebook`, which creates the tables of a new
    database, this refuses a missing file or a database that is not nbgrader's.

    Parameters
    ----------
    db_url
        SQLAlchemy URL (``sqlite:///gradebook.db``, ``postgresql://...``) or a
        path to an SQLite file.

    Raises
    ------
    GradebookError
        With a message saying what is wrong.
    """
    if "://" not in db_url:
        db_url = f"sqlite:///{Path(db_url).resolve()}"
    try:
        url = make_url(db_url)
    except ArgumentError as error:
        raise GradebookError(f"not a database URL: {db_url!r}") from error
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url)
    try:
        engine = create_engine(url)
    except (ImportError, NoSuchModuleError) as error:
        raise GradebookError(f"no database driver for {url!r}: {error}") from error
    try:
        tables = set(inspect(engine).get_table_names())
    except DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip() or type(error.orig).__name__
        raise GradebookError(f"cannot read the gradebook {url!r}: {reason}") from error
    missing = GRADEBOOK_TABLES - tables
    if missing:
        engine.dispose()
        raise GradebookError(f"{url!r} is not an nbgrader gradebook (no table {', '.join(sorted(missing))})")
    return engine


def read_students(connection: Connection) -> list[StudentInfo]:
    """All students, sorted by id."""
    rows = connection.execute(
        select(STUDENT.c.id, STUDENT.c.first_name, STUDENT.c.last_name, STUDENT.c.email).order_by(STUDENT.c.id)
    )
    return [
        StudentInfo(id=row.id, first_name=row.first_name or "", last_name=row.last_name or "", email=row.email or "")
        for row in rows
    ]


def _graded_cell_max_scores(connection: Connection) -> dict[str, tuple[str, float]]:
    """Every graded cell (grade or task cell): id -> (its notebook's id, its maximum)."""
    statement = with_graded_cells(
        select(BASE_CELL.c.id, BASE_CELL.c.notebook_id, cell_max_score().label("max_score")).select_from(BASE_CELL)
    ).where(GRADE_CELLS.c.id.is_not(None) | TASK_CELLS.c.id.is_not(None))
    return {row.id: (row.notebook_id, float(row.max_score)) for row in connection.execute(statement)}


def read_assignments(connection: Connection) -> list[AssignmentInfo]:
    """All assignments with their maximum score, in nbgrader's order (due date, name)."""
    assignment_of_notebook = dict(connection.execute(select(NOTEBOOK.c.id, NOTEBOOK.c.assignment_id)).all())
    max_scores: dict[str | None, float] = {}  # None: a notebook of no assignment (not expected)
    for notebook_id, max_score in _graded_cell_max_scores(connection).values():
        assignment_id = assignment_of_notebook.get(notebook_id)
        max_scores[assignment_id] = max_scores.get(assignment_id, 0.0) + max_score
    rows = connection.execute(
        select(ASSIGNMENT.c.id, ASSIGNMENT.c.name, ASSIGNMENT.c.duedate).order_by(
            ASSIGNMENT.c.duedate, ASSIGNMENT.c.name
        )
    )
    return [
        AssignmentInfo(name=row.name, duedate=row.duedate, max_score=float(max_scores.get(row.id, 0.0))) for row in rows
    ]


def read_submissions(connection: Connection) -> dict[tuple[str, str], SubmissionScore]:
    """Every submission's score, keyed by ``(student_id, assignment name)``.

    Four flat queries whatever the class size: the submitted notebooks (with
    their late penalties), the grades summed per submitted notebook (one
    grouped scan of ``grade``), the grades still waiting for a human (few), and
    the submissions; the notebooks' sums are added up per submission here.
    """
    pending = GRADE.c.needs_manual_grade.is_(True)
    per_notebook = connection.execute(
        select(GRADE.c.notebook_id, func.sum(grade_score()), func.sum(case((pending, 1), else_=0))).group_by(
            GRADE.c.notebook_id
        )
    ).all()
    submission_of_notebook: dict[str, str] = {}
    # keyed by submission; None collects grades of notebooks no submission holds (not expected)
    raw: dict[str | None, float] = {}
    penalty: dict[str, float] = {}
    pending_cells: dict[str | None, int] = {}
    pending_points: dict[str | None, float] = {}
    for notebook_id, submission_id, late in connection.execute(
        select(
            SUBMITTED_NOTEBOOK.c.id, SUBMITTED_NOTEBOOK.c.assignment_id, SUBMITTED_NOTEBOOK.c.late_submission_penalty
        )
    ):
        submission_of_notebook[notebook_id] = submission_id
        penalty[submission_id] = penalty.get(submission_id, 0.0) + float(late or 0.0)
    for notebook_id, total, waiting in per_notebook:
        submission_id = submission_of_notebook.get(notebook_id)
        raw[submission_id] = raw.get(submission_id, 0.0) + float(total or 0.0)
        pending_cells[submission_id] = pending_cells.get(submission_id, 0) + int(waiting or 0)
    cell_max = _graded_cell_max_scores(connection)
    for notebook_id, cell_id in connection.execute(select(GRADE.c.notebook_id, GRADE.c.cell_id).where(pending)):
        submission_id = submission_of_notebook.get(notebook_id)
        pending_points[submission_id] = pending_points.get(submission_id, 0.0) + cell_max.get(cell_id, ("", 0.0))[1]
    rows = connection.execute(
        select(
            SUBMITTED_ASSIGNMENT.c.id,
            SUBMITTED_ASSIGNMENT.c.student_id,
            SUBMITTED_ASSIGNMENT.c.timestamp,
            ASSIGNMENT.c.name,
        ).join(ASSIGNMENT, ASSIGNMENT.c.id == SUBMITTED_ASSIGNMENT.c.assignment_id)
    )
    return {
        (student_id, name): SubmissionScore(
            student_id=student_id,
            assignment=name,
            timestamp=timestamp,
            raw_score=raw.get(submission_id, 0.0),
            late_penalty=penalty.get(submission_id, 0.0),
            pending_cells=pending_cells.get(submission_id, 0),
            pending_points=pending_points.get(submission_id, 0.0),
        )
        for submission_id, student_id, timestamp, name in rows
    }


def read_class_scores(engine: Engine, whole_term: bool = False) -> ClassScores:
    """Students, assignments and every submission's score, in one transaction.

    By default only what the course's calendar has handed out so far counts
    (:mod:`gradebook_tools.gradebook.calendar`; every exercise where the course
    keeps no calendar): the one place every table, page and export is limited
    to it. ``whole_term`` counts every exercise of the gradebook.
    """
    with engine.connect() as connection:
        scores = ClassScores(
            students=read_students(connection),
            assignments=read_assignments(connection),
            submissions=read_submissions(connection),
        )
        _apply_calendar(scores, connection, whole_term)
        return scores


def _apply_calendar(scores: ClassScores, connection: Connection, whole_term: bool) -> None:
    from gradebook_tools.gradebook.calendar import read_calendar

    calendar = read_calendar(connection)
    if not whole_term and calendar.in_use:
        assigned = set(calendar.assigned())
        scores.not_assigned = [a.name for a in scores.assignments if a.name not in assigned]
        scores.assignments = [a for a in scores.assignments if a.name in assigned]
        scores.submissions = {key: s for key, s in scores.submissions.items() if key[1] in assigned}
    scores.not_due = frozenset(
        (student.id, assignment.name)
        for student in scores.students
        for assignment in scores.assignments
        if (student.id, assignment.name) not in scores.submissions
        and not calendar.missing_counts(student.id, assignment.name)
    )


def read_cell_grades(engine: Engine) -> list[CellGrade]:
    """Every grade of every graded cell (grade cells and task cells) of every submission.

    The few cells, notebooks and assignments are read once; the grades (one
    row per student and graded cell) with the one join that names their student.
    """
    with engine.connect() as connection:
        notebooks = {
            row.id: (row.name, row.assignment)
            for row in connection.execute(
                select(NOTEBOOK.c.id, NOTEBOOK.c.name, ASSIGNMENT.c.name.label("assignment")).join(
                    ASSIGNMENT, ASSIGNMENT.c.id == NOTEBOOK.c.assignment_id
                )
            )
        }
        cells = {
            row.id: (row.name, row.cell_type or "code", float(row.max_score))
            for row in connection.execute(
                with_graded_cells(
                    select(
                        BASE_CELL.c.id,
                        BASE_CELL.c.name,
                        func.coalesce(GRADE_CELLS.c.cell_type, TASK_CELLS.c.cell_type).label("cell_type"),
                        cell_max_score().label("max_score"),
                    ).select_from(BASE_CELL)
                )
            )
        }
        grades = connection.execute(
            select(
                SUBMITTED_ASSIGNMENT.c.student_id,
                SUBMITTED_NOTEBOOK.c.notebook_id,
                GRADE.c.cell_id,
                grade_score(),
                GRADE.c.needs_manual_grade,
            )
            .select_from(GRADE)
            .join(SUBMITTED_NOTEBOOK, SUBMITTED_NOTEBOOK.c.id == GRADE.c.notebook_id)
            .join(SUBMITTED_ASSIGNMENT, SUBMITTED_ASSIGNMENT.c.id == SUBMITTED_NOTEBOOK.c.assignment_id)
        ).all()
    result = []
    for student_id, notebook_id, cell_id, score, needs_manual_grade in grades:
        if notebook_id not in notebooks or cell_id not in cells:
            continue  # a grade of a notebook or cell the gradebook no longer has
        notebook, assignment = notebooks[notebook_id]
        cell, cell_type, max_score = cells[cell_id]
        result.append(
            CellGrade(
                student_id=student_id,
                assignment=assignment,
                notebook=notebook,
                cell=cell,
                cell_type=cell_type,
                score=float(score),
                max_score=max_score,
                needs_manual_grade=bool(needs_manual_grade),
            )
        )
    return result
