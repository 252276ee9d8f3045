"""Rubrics as data: items per hand-graded cell, and which items each grade applies.

A TA grades an ``explanation`` by ticking rubric items (points, a short label,
the comment the student sees), optionally adding a free comment and an
adjustment. The grade itself is still nbgrader's: :func:`save_grade` writes the
resulting ``Grade.manual_score`` and ``Comment.manual_comment`` through
nbgrader's models, in the same transaction as the rubric rows, so the
formgrader, ``nbgrader export``, the course's tables and the feedback pages
(which show the comment: the items earned, then the free comment) all see it.

The rubric lives in three tables of the gradebook's own database, beside
nbgrader's (like :mod:`gradebook_tools.gradebook.roster_store`); nbgrader
ignores them. They work in SQLite and PostgreSQL alike (SQLAlchemy Core).

Editing an item after use changes every grade that applied it:
:func:`preview_item_edit` says who changes and by how much, and
:func:`apply_item_edit` makes exactly those changes.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import Session

METADATA = MetaData()
RUBRIC_ITEM = Table(
    "gradebook_tools_rubric_item",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(128), nullable=False, index=True),
    Column("notebook", String(128), nullable=False),
    Column("cell", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("points", Float, nullable=False),
    Column("label", String(200), nullable=False),
    Column("comment", Text, nullable=False, default=""),
)
#: One row per grade given with the rubric: nbgrader's ``grade.id`` and what the TA added to the items.
RUBRIC_GRADE = Table(
    "gradebook_tools_rubric_grade",
    METADATA,
    Column("grade_id", String(32), primary_key=True),
    Column("free_comment", Text, nullable=False, default=""),
    Column("adjustment", Float, nullable=False, default=0.0),
    Column("grader", String(128), nullable=False, default=""),
    Column("saved", DateTime, nullable=False),
)
RUBRIC_APPLIED = Table(
    "gradebook_tools_rubric_applied",
    METADATA,
    Column("grade_id", String(32), ForeignKey(RUBRIC_GRADE.c.grade_id), primary_key=True),
    Column("item_id", Integer, ForeignKey(RUBRIC_ITEM.c.id), primary_key=True),
)
#: Longest label and comment kept (a label is a few words; a comment a few sentences).
MAX_LABEL = 200
MAX_COMMENT = 4000


@dataclass(frozen=True)
class RubricItem:
    """One rubric item of a hand-graded cell."""

    id: int
    points: float
    label: str
    comment: str
    position: int


@dataclass(frozen=True)
class RubricGrade:
    """What a grade applies: rubric item ids, a free comment, an adjustment."""

    items: tuple[int, ...]
    free_comment: str = ""
    adjustment: float = 0.0


@dataclass(frozen=True)
class ScoreChange:
    """How one grade changes when an item is edited."""

    grade_id: str
    student_id: str
    old_score: float | None
    new_score: float
    comment_changes: bool


class RubricError(ValueError):
    """A rubric request that cannot be honoured (unknown item, bad value); the message says why."""


def create_tables(engine: Engine) -> None:
    """Create the rubric tables where missing (nbgrader's own tables are left as they are)."""
    METADATA.create_all(engine, tables=[RUBRIC_ITEM, RUBRIC_GRADE, RUBRIC_APPLIED])


def _clean_text(text: str, limit: int, what: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise RubricError(f"{what} is longer than {limit} characters")
    return text


def _points(value: Any) -> float:
    try:
        points = float(value)
    except (TypeError, ValueError) as error:
        raise RubricError(f"points must be a number, not {value!r}") from error
    if points != points or abs(points) > 1000:  # NaN or absurd
        raise RubricError(f"points out of range: {value!r}")
    return points


def _item(row: Row[Any]) -> RubricItem:
    return RubricItem(row.id, row.points, row.label, row.comment, row.position)


def list_items(session: Session, assignment: str, notebook: str, cell: str) -> list[RubricItem]:
    """The rubric of one hand-graded cell, in the order the TA sees (keys 1-9)."""
    rows = session.execute(
        select(RUBRIC_ITEM)
        .where(RUBRIC_ITEM.c.assignment == assignment, RUBRIC_ITEM.c.notebook == notebook, RUBRIC_ITEM.c.cell == cell)
        .order_by(RUBRIC_ITEM.c.position, RUBRIC_ITEM.c.id)
    ).all()
    return [_item(row) for row in rows]


def add_item(
    session: Session, assignment: str, notebook: str, cell: str, points: object, label: str, comment: str = ""
) -> RubricItem:
    """Append an item to a cell's rubric (not committed: the caller commits)."""
    label = _clean_text(label, MAX_LABEL, "a label")
    if not label:
        raise RubricError("an item needs a label")
    comment = _clean_text(comment, MAX_COMMENT, "a comment")
    where = (RUBRIC_ITEM.c.assignment == assignment, RUBRIC_ITEM.c.notebook == notebook, RUBRIC_ITEM.c.cell == cell)
    position = (
        session.execute(select(func.coalesce(func.max(RUBRIC_ITEM.c.position), 0)).where(*where)).scalar_one() + 1
    )
    values: dict[str, Any] = dict(
        assignment=assignment,
        notebook=notebook,
        cell=cell,
        position=position,
        points=_points(points),
        label=label,
        comment=comment,
    )
    item_id = session.execute(insert(RUBRIC_ITEM).values(**values).returning(RUBRIC_ITEM.c.id)).scalar_one()
    return RubricItem(item_id, values["points"], label, comment, position)


def compose(items: list[RubricItem], free_comment: str, adjustment: float, max_score: float) -> tuple[float, str]:
    r"""The score and the student's comment (Markdown) of a grade.

    The score is the items' points plus the adjustment, kept within 0 and the
    cell's maximum. The comment lists each item earned (label, points, comment),
    then the free comment.

    Examples
    --------
    >>> compose([RubricItem(1, 1.0, "Names a metric", "Held-out NLL.", 1)], "Good.", 0.5, 2.0)
    (1.5, '- **Names a metric** (+1): Held-out NLL.\n- Adjustment (+0.5)\n\nGood.')
    """
    raw = sum(item.points for item in items) + adjustment
    score = min(max(raw, 0.0), max_score)
    lines = []
    for item in items:
        line = f"- **{item.label}** ({item.points:+g})"
        if item.comment:
            line += f": {item.comment}"
        lines.append(line)
    if adjustment:
        lines.append(f"- Adjustment ({adjustment:+g})")
    text = "\n".join(lines)
    if free_comment:
        text = f"{text}\n\n{free_comment}" if text else free_comment
    return round(score, 6), text


def read_grades(session: Session, grade_ids: list[str]) -> dict[str, RubricGrade]:
    """The rubric grades of these nbgrader grade ids (those never graded with the rubric are absent)."""
    if not grade_ids:
        return {}
    rows = session.execute(select(RUBRIC_GRADE).where(RUBRIC_GRADE.c.grade_id.in_(grade_ids))).all()
    applied: dict[str, list[int]] = {}
    for grade_id, item_id in session.execute(
        select(RUBRIC_APPLIED.c.grade_id, RUBRIC_APPLIED.c.item_id).where(RUBRIC_APPLIED.c.grade_id.in_(grade_ids))
    ):
        applied.setdefault(grade_id, []).append(item_id)
    return {
        row.grade_id: RubricGrade(tuple(sorted(applied.get(row.grade_id, []))), row.free_comment, row.adjustment)
        for row in rows
    }


def _nbgrader_rows(session: Session, grade_id: str) -> tuple[Any, Any]:
    """nbgrader's ``Grade`` of ``grade_id`` and the ``Comment`` of the same cell and submitted notebook."""
    from nbgrader.api import Comment, Grade

    grade = session.get(Grade, grade_id)
    if grade is None:
        raise RubricError(f"no grade {grade_id!r} in the gradebook")
    comment = session.query(Comment).filter(Comment.notebook_id == grade.notebook_id).all()
    comment = next((row for row in comment if row.cell.name == grade.cell.name), None)
    return grade, comment


def _items_of_cell(session: Session, grade: Any) -> dict[int, RubricItem]:
    notebook = grade.notebook
    items = list_items(session, notebook.assignment.name, notebook.name, grade.cell.name)
    return {item.id: item for item in items}


def save_grade(
    session: Session,
    grade_id: str,
    item_ids: list[int],
    free_comment: str = "",
    adjustment: object = 0.0,
    grader: str = "",
) -> tuple[float, str]:
    """Grade one answer with the rubric, through nbgrader's models; committed.

    Sets ``Grade.manual_score`` (and clears ``needs_manual_grade``) and
    ``Comment.manual_comment`` as the formgrader does, and records the items,
    free comment and adjustment.

    Returns
    -------
    (score, comment)
        What was written to nbgrader's gradebook.
    """
    grade, comment = _nbgrader_rows(session, grade_id)
    available = _items_of_cell(session, grade)
    unknown = [item for item in item_ids if item not in available]
    if unknown:
        raise RubricError(f"rubric items {unknown} do not belong to this cell")
    free_comment = _clean_text(free_comment, MAX_COMMENT, "the comment")
    adjustment = _points(adjustment)
    chosen = sorted((available[item] for item in set(item_ids)), key=lambda item: (item.position, item.id))
    score, text = compose(chosen, free_comment, adjustment, grade.max_score)
    grade.manual_score = score
    grade.needs_manual_grade = False
    if comment is not None:
        comment.manual_comment = text
    values = dict(free_comment=free_comment, adjustment=adjustment, grader=grader, saved=_now())
    if session.execute(select(RUBRIC_GRADE.c.grade_id).where(RUBRIC_GRADE.c.grade_id == grade_id)).first():
        session.execute(update(RUBRIC_GRADE).where(RUBRIC_GRADE.c.grade_id == grade_id).values(**values))
    else:
        session.execute(insert(RUBRIC_GRADE).values(grade_id=grade_id, **values))
    session.execute(delete(RUBRIC_APPLIED).where(RUBRIC_APPLIED.c.grade_id == grade_id))
    for item in chosen:
        session.execute(insert(RUBRIC_APPLIED).values(grade_id=grade_id, item_id=item.id))
    session.commit()
    return score, text


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _edited(item: RubricItem, points: object, label: str | None, comment: str | None) -> RubricItem:
    return RubricItem(
        item.id,
        item.points if points is None else _points(points),
        item.label if label is None else (_clean_text(label, MAX_LABEL, "a label") or item.label),
        item.comment if comment is None else _clean_text(comment, MAX_COMMENT, "a comment"),
        item.position,
    )


def _item_row(session: Session, item_id: int) -> RubricItem:
    row = session.execute(select(RUBRIC_ITEM).where(RUBRIC_ITEM.c.id == item_id)).first()
    if row is None:
        raise RubricError(f"no rubric item {item_id}")
    return _item(row)


def preview_item_edit(
    session: Session, item_id: int, points: object = None, label: str | None = None, comment: str | None = None
) -> list[ScoreChange]:
    """Every grade that applies the item, with its score now and after the edit (nothing is written).

    Returns
    -------
    list of ScoreChange
        Sorted by student id; ``comment_changes`` tells whether the student's comment changes.
    """
    changes = _changes(session, item_id, _edited(_item_row(session, item_id), points, label, comment))
    return [change for change, _ in changes]


def _changes(session: Session, item_id: int, edited: RubricItem) -> list[tuple[ScoreChange, str]]:
    grade_ids = list(
        session.execute(select(RUBRIC_APPLIED.c.grade_id).where(RUBRIC_APPLIED.c.item_id == item_id)).scalars()
    )
    rubric_grades = read_grades(session, grade_ids)
    changes = []
    for grade_id in grade_ids:
        grade, comment = _nbgrader_rows(session, grade_id)
        items = _items_of_cell(session, grade)
        items[item_id] = edited
        applied = rubric_grades[grade_id]
        chosen = sorted((items[i] for i in applied.items), key=lambda item: (item.position, item.id))
        score, text = compose(chosen, applied.free_comment, applied.adjustment, grade.max_score)
        old_comment = comment.manual_comment if comment is not None else None
        student = grade.notebook.assignment.student.id
        changes.append((ScoreChange(grade_id, student, grade.manual_score, score, text != old_comment), text))
    changes.sort(key=lambda pair: pair[0].student_id)
    return changes


def apply_item_edit(
    session: Session, item_id: int, points: object = None, label: str | None = None, comment: str | None = None
) -> list[ScoreChange]:
    """Edit an item and every grade that applies it, through nbgrader's models; committed.

    Returns the same changes :func:`preview_item_edit` announced.
    """
    edited = _edited(_item_row(session, item_id), points, label, comment)
    changes = _changes(session, item_id, edited)
    session.execute(
        update(RUBRIC_ITEM)
        .where(RUBRIC_ITEM.c.id == item_id)
        .values(points=edited.points, label=edited.label, comment=edited.comment)
    )
    for change, text in changes:
        grade, comment_row = _nbgrader_rows(session, change.grade_id)
        if grade.manual_score != change.new_score:
            grade.manual_score = change.new_score
        if comment_row is not None and comment_row.manual_comment != text:
            comment_row.manual_comment = text
    session.commit()
    return [change for change, _ in changes]


def reusable_comments(session: Session, assignment: str, notebook: str, cell: str, limit: int = 50) -> list[str]:
    """Free comments already given on this cell, most used first (offered as the TA types)."""
    from nbgrader.api import BaseCell, Grade, Notebook

    query = (
        select(RUBRIC_GRADE.c.free_comment)
        .join(Grade.__table__, Grade.__table__.c.id == RUBRIC_GRADE.c.grade_id)
        .join(BaseCell.__table__, BaseCell.__table__.c.id == Grade.__table__.c.cell_id)
        .join(Notebook.__table__, Notebook.__table__.c.id == BaseCell.__table__.c.notebook_id)
        .where(
            BaseCell.__table__.c.name == cell, Notebook.__table__.c.name == notebook, RUBRIC_GRADE.c.free_comment != ""
        )
    )
    from nbgrader.api import Assignment

    query = query.join(Assignment.__table__, Assignment.__table__.c.id == Notebook.__table__.c.assignment_id).where(
        Assignment.__table__.c.name == assignment
    )
    counts = Counter(session.execute(query).scalars())
    return [text for text, _ in counts.most_common(limit)]
