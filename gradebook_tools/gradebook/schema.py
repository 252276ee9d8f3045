"""nbgrader's gradebook tables as plain SQLAlchemy Core tables: the columns the tools read.

Importing :mod:`nbgrader.api` for its models imports the whole ``nbgrader``
package first (its Jupyter server extensions, tornado, nbformat and, through
nbformat's validator, jsonschema and ``rfc3987_syntax``): about 1.5 s before a
command can read a single score. The tools only *read* the gradebook, through a
few grouped queries, so they describe the tables they read here instead, with
nbgrader's own names and types (nbgrader 0.9, as pinned in ``pyproject.toml``).
``tests/gradebook/test_gradebook_schema.py`` checks every column against nbgrader's
models, and :func:`grade_score` against nbgrader's ``Grade.score``.

Writing (students, submissions) still goes through :class:`nbgrader.api.Gradebook`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Boolean, Column, DateTime, Float, MetaData, String, Table, case, func, literal_column
from sqlalchemy.sql import ColumnElement, Select

METADATA = MetaData()

ASSIGNMENT = Table(
    "assignment",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(128)),
    Column("duedate", DateTime()),
)
NOTEBOOK = Table(
    "notebook",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(128)),
    Column("assignment_id", String(32)),
)
BASE_CELL = Table(
    "base_cell",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(128)),
    Column("notebook_id", String(32)),
)
#: Graded cells are grade cells (tests, graded answers) or task cells; both hold a maximum.
GRADE_CELLS = Table(
    "grade_cells",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("max_score", Float()),
    Column("cell_type", String(8)),
)
TASK_CELLS = Table(
    "task_cells",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("max_score", Float()),
    Column("cell_type", String(8)),
)
STUDENT = Table(
    "student",
    METADATA,
    Column("id", String(128), primary_key=True),
    Column("first_name", String(128)),
    Column("last_name", String(128)),
    Column("email", String(128)),
    Column("lms_user_id", String(128)),
)
SUBMITTED_ASSIGNMENT = Table(
    "submitted_assignment",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("assignment_id", String(32)),
    Column("student_id", String(128)),
    Column("timestamp", DateTime()),
)
SUBMITTED_NOTEBOOK = Table(
    "submitted_notebook",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("assignment_id", String(32)),  # the submitted assignment
    Column("notebook_id", String(32)),
    Column("late_submission_penalty", Float()),
)
GRADE = Table(
    "grade",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("notebook_id", String(32)),  # the submitted notebook
    Column("cell_id", String(32)),  # the base cell
    Column("auto_score", Float()),
    Column("manual_score", Float()),
    Column("extra_credit", Float()),
    Column("needs_manual_grade", Boolean()),
)

#: Tables without which a database is not an nbgrader gradebook.
GRADEBOOK_TABLES = frozenset(
    {"assignment", "student", "submitted_assignment", "submitted_notebook", "grade", "base_cell"}
)


_Select = TypeVar("_Select", bound=Select[Any])


def grade_score() -> ColumnElement[Any]:
    """nbgrader's ``Grade.score``: the manual score over the auto score, plus extra credit; else 0."""
    extra = case((GRADE.c.extra_credit.is_not(None), GRADE.c.extra_credit), else_=literal_column("0.0"))
    return case(
        (GRADE.c.manual_score.is_not(None), GRADE.c.manual_score + extra),
        (GRADE.c.auto_score.is_not(None), GRADE.c.auto_score + extra),
        else_=literal_column("0.0"),
    )


def cell_max_score() -> ColumnElement[Any]:
    """A graded cell's maximum: from whichever of ``grade_cells`` and ``task_cells`` holds it."""
    return func.coalesce(GRADE_CELLS.c.max_score, TASK_CELLS.c.max_score, 0.0)


def with_graded_cells(statement: _Select) -> _Select:
    """``statement`` (selecting from ``base_cell``) joined to both kinds of graded cell."""
    return statement.outerjoin(GRADE_CELLS, GRADE_CELLS.c.id == BASE_CELL.c.id).outerjoin(
        TASK_CELLS, TASK_CELLS.c.id == BASE_CELL.c.id
    )
