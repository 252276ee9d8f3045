"""Read scores out of an nbgrader gradebook with a few aggregate SQL queries.

nbgrader's own objects compute every score with a correlated subquery per
student and assignment (``SubmittedAssignment.score``, ``late_submission_penalty``),
so reading a class through them costs thousands of queries that each scan the
``grade`` table. Here one grouped query returns every submission's total at once,
built from nbgrader's SQLAlchemy models so that it runs on SQLite and PostgreSQL
alike, and reuses nbgrader's own definition of a grade's score
(:attr:`nbgrader.api.Grade.score`: manual score over auto score, plus extra credit).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import (
    Assignment,
    BaseCell,
    Grade,
    GradeCell,
    Notebook,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
    TaskCell,
)
from sqlalchemy import case, create_engine, func, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

# Cell tables as plain tables: through the ORM classes, GradeCell and TaskCell
# would each drag in their parent table (joined-table inheritance).
CELLS = BaseCell.__table__
GRADE_CELLS = GradeCell.__table__
TASK_CELLS = TaskCell.__table__

#: Tables without which a database is not an nbgrader gradebook.
GRADEBOOK_TABLES = frozenset(
    {"assignment", "student", "submitted_assignment", "submitted_notebook", "grade", "base_cell"}
)


class GradebookError(Exception):
    """The gradebook cannot be opened: missing, unreadable, or not nbgrader's."""


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


def _check_sqlite_file(url) -> None:
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
        raise GradebookError(
            f"{url!r} is not an nbgrader gradebook (no table {', '.join(sorted(missing))})"
        )
    return engine


def _max_score_of_cell():
    """A graded cell is a grade cell or a task cell: whichever row exists holds its maximum."""
    return func.coalesce(GRADE_CELLS.c.max_score, TASK_CELLS.c.max_score, 0.0)


def _graded_cells_join(statement):
    return statement.outerjoin(GRADE_CELLS, GRADE_CELLS.c.id == CELLS.c.id).outerjoin(
        TASK_CELLS, TASK_CELLS.c.id == CELLS.c.id
    )


def read_students(connection: Connection) -> list[StudentInfo]:
    """All students, sorted by id."""
    rows = connection.execute(
        select(Student.id, Student.first_name, Student.last_name, Student.email).order_by(Student.id)
    )
    return [
        StudentInfo(id=row.id, first_name=row.first_name or "", last_name=row.last_name or "",
                    email=row.email or "")
        for row in rows
    ]


def read_assignments(connection: Connection) -> list[AssignmentInfo]:
    """All assignments with their maximum score, in nbgrader's order (due date, name)."""
    max_scores = dict(
        connection.execute(
            _graded_cells_join(
                select(Notebook.assignment_id, func.sum(_max_score_of_cell()))
                .select_from(CELLS)
                .join(Notebook, Notebook.id == CELLS.c.notebook_id)
            )
            .where(GRADE_CELLS.c.id.is_not(None) | TASK_CELLS.c.id.is_not(None))
            .group_by(Notebook.assignment_id)
        ).all()
    )
    rows = connection.execute(
        select(Assignment.id, Assignment.name, Assignment.duedate).order_by(
            Assignment.duedate, Assignment.name
        )
    )
    return [
        AssignmentInfo(name=row.name, duedate=row.duedate, max_score=float(max_scores.get(row.id, 0.0)))
        for row in rows
    ]


def _submission_totals(connection: Connection):
    """Per submission: raw score, pending cell count and pending points (one grouped query)."""
    pending = Grade.needs_manual_grade.is_(True)
    statement = _graded_cells_join(
        select(
            SubmittedAssignment.id,
            func.coalesce(func.sum(Grade.score), 0.0).label("raw"),
            func.coalesce(func.sum(case((pending, 1), else_=0)), 0).label("pending_cells"),
            func.coalesce(func.sum(case((pending, _max_score_of_cell()), else_=0.0)), 0.0).label(
                "pending_points"
            ),
        )
        .select_from(SubmittedAssignment)
        .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .outerjoin(Grade, Grade.notebook_id == SubmittedNotebook.id)
        .outerjoin(CELLS, CELLS.c.id == Grade.cell_id)
    ).group_by(SubmittedAssignment.id)
    return {row.id: row for row in connection.execute(statement)}


def _late_penalties(connection: Connection) -> dict[str, float]:
    """Per submission: the sum of its notebooks' late penalties."""
    statement = select(
        SubmittedNotebook.assignment_id,
        func.coalesce(func.sum(SubmittedNotebook.late_submission_penalty), 0.0),
    ).group_by(SubmittedNotebook.assignment_id)
    return {submission_id: float(penalty) for submission_id, penalty in connection.execute(statement)}


def read_submissions(connection: Connection) -> dict[tuple[str, str], SubmissionScore]:
    """Every submission's score, keyed by ``(student_id, assignment name)``."""
    totals = _submission_totals(connection)
    penalties = _late_penalties(connection)
    rows = connection.execute(
        select(
            SubmittedAssignment.id,
            SubmittedAssignment.student_id,
            SubmittedAssignment.timestamp,
            Assignment.name,
        ).join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
    )
    submissions = {}
    for row in rows:
        total = totals[row.id]
        submissions[(row.student_id, row.name)] = SubmissionScore(
            student_id=row.student_id,
            assignment=row.name,
            timestamp=row.timestamp,
            raw_score=float(total.raw),
            late_penalty=penalties.get(row.id, 0.0),
            pending_cells=int(total.pending_cells),
            pending_points=float(total.pending_points),
        )
    return submissions


def read_class_scores(engine: Engine) -> ClassScores:
    """Students, assignments and every submission's score, in one transaction."""
    with engine.connect() as connection:
        return ClassScores(
            students=read_students(connection),
            assignments=read_assignments(connection),
            submissions=read_submissions(connection),
        )


def read_cell_grades(engine: Engine) -> list[CellGrade]:
    """Every grade of every graded cell (grade cells and task cells) of every submission."""
    statement = _graded_cells_join(
        select(
            SubmittedAssignment.student_id,
            Assignment.name.label("assignment"),
            Notebook.name.label("notebook"),
            CELLS.c.name.label("cell"),
            func.coalesce(GRADE_CELLS.c.cell_type, TASK_CELLS.c.cell_type).label("cell_type"),
            Grade.score.label("score"),
            _max_score_of_cell().label("max_score"),
            Grade.needs_manual_grade,
        )
        .select_from(Grade)
        .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .join(CELLS, CELLS.c.id == Grade.cell_id)
    )
    with engine.connect() as connection:
        return [
            CellGrade(
                student_id=row.student_id,
                assignment=row.assignment,
                notebook=row.notebook,
                cell=row.cell,
                cell_type=row.cell_type or "code",
                score=float(row.score),
                max_score=float(row.max_score),
                needs_manual_grade=bool(row.needs_manual_grade),
            )
            for row in connection.execute(statement)
        ]
